package io.sluice.server;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.sluice.testing.SluiceProcess;
import io.sluice.testing.TestHttp;
import io.sluice.testing.Upstream;
import java.net.URI;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import mockwebserver3.Dispatcher;
import mockwebserver3.MockResponse;
import mockwebserver3.MockWebServer;
import mockwebserver3.RecordedRequest;
import org.junit.jupiter.api.Test;

/** SIGTERM on a real Sluice process: stop taking work, finish what is in flight, exit 0. */
class DrainTest {

    @Test
    void sigtermDrainsInFlightRequestsRefusesNewOnesAndExitsZero() throws Exception {
        CountDownLatch release = new CountDownLatch(1);
        CountDownLatch arrived = new CountDownLatch(1);
        try (MockWebServer upstream = Upstream.start()) {
            upstream.setDispatcher(new Dispatcher() {
                @Override
                public MockResponse dispatch(RecordedRequest request) throws InterruptedException {
                    arrived.countDown();
                    release.await(30, TimeUnit.SECONDS);
                    return Upstream.ok("text/plain", "finished");
                }
            });
            try (SluiceProcess sluice =
                    SluiceProcess.start("""
                    server: {shutdown_grace: 20s}
                    upstreams:
                      slow: {base_url: "%s", allow_private: true}
                    """.formatted(Upstream.origin(upstream)), List.of("-Xmx128m"))) {
                URI admin = URI.create("http://127.0.0.1:" + sluice.adminPort());
                assertThat(TestHttp.get(admin.resolve("/readyz")).statusCode()).isEqualTo(200);

                CompletableFuture<HttpResponse<String>> inFlight = java.net.http.HttpClient.newHttpClient()
                        .sendAsync(
                                HttpRequest.newBuilder(
                                                URI.create("http://127.0.0.1:" + sluice.dataPort() + "/slow/work"))
                                        .build(),
                                HttpResponse.BodyHandlers.ofString());
                assertThat(arrived.await(10, TimeUnit.SECONDS)).isTrue();

                sluice.terminate();

                await().atMost(Duration.ofSeconds(10))
                        .until(() -> TestHttp.get(admin.resolve("/readyz")).statusCode() == 503);
                HttpResponse<String> refused =
                        TestHttp.get(URI.create("http://127.0.0.1:" + sluice.dataPort() + "/slow/late"));
                assertThat(refused.statusCode()).isEqualTo(503);
                assertThat(sluice.isAlive()).isTrue();

                release.countDown();
                HttpResponse<String> finished = inFlight.get(10, TimeUnit.SECONDS);
                assertThat(finished.statusCode()).isEqualTo(200);
                assertThat(finished.body()).isEqualTo("finished");
                assertThat(sluice.awaitExit(20)).isZero();
                assertThat(upstream.getRequestCount()).isEqualTo(1);
            }
        } finally {
            release.countDown();
        }
    }
}
