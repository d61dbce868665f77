package io.sluice.deploy;

import static org.assertj.core.api.Assertions.assertThat;

import io.sluice.testing.SluiceProcess;
import io.sluice.testing.TestHttp;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

/**
 * The lifecycle a Kubernetes native sidecar relies on, against a real Sluice process: ready once
 * listening; on SIGTERM readiness turns 503 at once and new requests are refused while an
 * in-flight request finishes; then the process exits 0.
 */
class ReadinessAndShutdownTest {
    private static final List<String> SIDECAR_JVM = List.of("-XX:+UseSerialGC", "-Xmx64m", "-XX:-UsePerfData");

    // A field, not a local: the JDK client stops serving its pending requests once the HttpClient
    // object itself is unreachable, which a GC during the drain window would otherwise cause.
    private final HttpClient client =
            HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1).build();

    private static URI uri(int port, String path) {
        return URI.create("http://127.0.0.1:" + port + path);
    }

    @Test
    void readyOnceListeningThenDrainsInFlightRequestOnSigtermAndExitsZero() throws Exception {
        try (StalledUpstream upstream = new StalledUpstream();
                SluiceProcess sluice = SluiceProcess.start(upstream.sluiceConfig("20s"), SIDECAR_JVM)) {
            HttpResponse<String> ready = TestHttp.get(uri(sluice.adminPort(), "/readyz"));
            assertThat(ready.statusCode()).isEqualTo(200);
            assertThat(ready.body()).isEqualTo("ready\n");

            HttpClient client =
                    HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1).build();
            CompletableFuture<HttpResponse<String>> inFlight = client.sendAsync(
                    HttpRequest.newBuilder(uri(sluice.dataPort(), "/slow/work"))
                            .timeout(Duration.ofSeconds(60))
                            .build(),
                    HttpResponse.BodyHandlers.ofString());
            assertThat(upstream.awaitArrival(30))
                    .as("request reached the upstream")
                    .isTrue();

            sluice.terminate();

            // The signal is handled on its own thread; readiness flips as soon as it runs. The
            // request held at the upstream keeps Sluice alive, so this window cannot close early.
            HttpResponse<String> draining = awaitStatus(uri(sluice.adminPort(), "/readyz"), 503, 20_000);
            assertThat(draining.body()).isEqualTo("draining\n");
            assertThat(sluice.isAlive()).isTrue();
            assertThat(TestHttp.get(uri(sluice.adminPort(), "/healthz")).statusCode())
                    .isEqualTo(200);

            HttpResponse<String> refused = TestHttp.get(uri(sluice.dataPort(), "/slow/new"));
            assertThat(refused.statusCode()).isEqualTo(503);
            assertThat(upstream.requestCount()).isEqualTo(1);
            assertThat(inFlight).isNotDone();

            upstream.release();
            HttpResponse<String> finished = inFlight.get(30, TimeUnit.SECONDS);
            assertThat(finished.statusCode()).isEqualTo(200);
            assertThat(finished.body()).isEqualTo(StalledUpstream.BODY);
            assertThat(sluice.awaitExit(30)).isZero();
        }
    }

    @Test
    void idleSluiceExitsZeroOnSigterm() throws Exception {
        try (SluiceProcess sluice = SluiceProcess.start("{}", SIDECAR_JVM)) {
            assertThat(TestHttp.get(uri(sluice.adminPort(), "/readyz")).statusCode())
                    .isEqualTo(200);
            sluice.terminate();
            assertThat(sluice.awaitExit(30)).isZero();
        }
    }

    /** Polls {@code uri} until it answers {@code status} (bounded; each poll is a real request). */
    static HttpResponse<String> awaitStatus(URI uri, int status, long timeoutMillis) {
        long deadline = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(timeoutMillis);
        HttpResponse<String> last;
        do {
            last = TestHttp.get(uri);
            if (last.statusCode() == status) return last;
            Thread.onSpinWait();
        } while (System.nanoTime() < deadline);
        throw new AssertionError(uri + " still answers " + last.statusCode() + " after " + timeoutMillis + " ms");
    }
}
