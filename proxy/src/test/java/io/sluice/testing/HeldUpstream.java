package io.sluice.testing;

import java.io.IOException;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import mockwebserver3.Dispatcher;
import mockwebserver3.MockResponse;
import mockwebserver3.MockWebServer;
import mockwebserver3.RecordedRequest;

/**
 * A real upstream server that holds every request until {@link #release()}, so a test can see how
 * many requests Sluice lets through at once: {@link #arrived()} counts those that reached it.
 */
public final class HeldUpstream implements AutoCloseable {
    private final MockWebServer server = new MockWebServer();
    private final AtomicInteger arrived = new AtomicInteger();
    private final CountDownLatch release = new CountDownLatch(1);

    public HeldUpstream() throws IOException {
        server.setDispatcher(new Dispatcher() {
            @Override
            public MockResponse dispatch(RecordedRequest request) throws InterruptedException {
                arrived.incrementAndGet();
                // Bounded, so a failed test cannot leave a server thread waiting forever.
                release.await(60, TimeUnit.SECONDS);
                return new MockResponse.Builder().code(200).body("done").build();
            }
        });
        server.start();
    }

    /** The base URL, e.g. {@code http://127.0.0.1:40123}. */
    public String baseUrl() {
        String url = server.url("/").toString();
        return url.substring(0, url.length() - 1);
    }

    public int arrived() {
        return arrived.get();
    }

    /** Answers every held request, and every later one at once. */
    public void release() {
        release.countDown();
    }

    @Override
    public void close() {
        release();
        server.close();
    }
}
