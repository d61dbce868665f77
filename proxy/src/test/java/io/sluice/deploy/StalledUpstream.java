package io.sluice.deploy;

import java.io.IOException;
import java.net.InetAddress;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import mockwebserver3.Dispatcher;
import mockwebserver3.MockResponse;
import mockwebserver3.MockWebServer;
import mockwebserver3.RecordedRequest;

/**
 * A fake upstream on loopback that holds every request until the test calls {@link #release()}, so
 * a request is deterministically in flight through Sluice for as long as the test needs.
 */
final class StalledUpstream implements AutoCloseable {
    static final String BODY = "finished after release";

    private final MockWebServer server = new MockWebServer();
    private final CountDownLatch arrived = new CountDownLatch(1);
    private final CountDownLatch released = new CountDownLatch(1);

    StalledUpstream() throws IOException {
        server.setDispatcher(new Dispatcher() {
            @Override
            public MockResponse dispatch(RecordedRequest request) throws InterruptedException {
                arrived.countDown();
                if (!released.await(60, TimeUnit.SECONDS)) {
                    return new MockResponse.Builder()
                            .code(500)
                            .body("never released")
                            .build();
                }
                return new MockResponse.Builder()
                        .code(200)
                        .addHeader("Content-Type", "text/plain")
                        .body(BODY)
                        .build();
            }
        });
        server.start(InetAddress.getLoopbackAddress(), 0);
    }

    String baseUrl() {
        return "http://127.0.0.1:" + server.getPort();
    }

    /** Waits until the first request has reached this upstream. */
    boolean awaitArrival(long seconds) throws InterruptedException {
        return arrived.await(seconds, TimeUnit.SECONDS);
    }

    void release() {
        released.countDown();
    }

    int requestCount() {
        return server.getRequestCount();
    }

    /** Sluice config with one upstream {@code slow} (route form {@code /slow/...}) bound to this server. */
    String sluiceConfig(String shutdownGrace) {
        return """
                server: {shutdown_grace: %s}
                upstreams:
                  slow:
                    base_url: "%s"
                    allow_private: true
                    retry: {max_attempts: 1}
                    timeouts: {response: 60s, total: 60s}
                """.formatted(shutdownGrace, baseUrl());
    }

    @Override
    public void close() {
        released.countDown();
        server.close();
    }
}
