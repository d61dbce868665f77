package io.sluice.deploy;

import static org.assertj.core.api.Assertions.assertThat;

import io.sluice.testing.SluiceProcess;
import io.sluice.testing.SluiceServerExtension;
import java.io.IOException;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * The container's HEALTHCHECK script (deploy/docker/healthcheck.sh, bash only: the JRE image has no
 * curl) run against a real Sluice: healthy only while /readyz answers 200.
 */
class HealthcheckScriptTest {
    @RegisterExtension
    final SluiceServerExtension sluice = new SluiceServerExtension();

    // A field, not a temporary: the JDK client stops serving its pending requests once the
    // HttpClient object itself is unreachable.
    private final HttpClient client =
            HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1).build();

    private static int check(int adminPort, String path) throws IOException, InterruptedException {
        ProcessBuilder builder = new ProcessBuilder(
                        "bash", DeployFiles.deploy("docker/healthcheck.sh").toString(), path)
                .redirectErrorStream(true);
        builder.environment().put("SLUICE_ADMIN_PORT", Integer.toString(adminPort));
        Process process = builder.start();
        if (!process.waitFor(20, TimeUnit.SECONDS)) {
            process.destroyForcibly();
            throw new AssertionError("healthcheck.sh did not finish");
        }
        return process.exitValue();
    }

    @Test
    void healthyWhenReadyAndLive() throws Exception {
        var running = sluice.start("{}");
        int admin = running.sluice().adminAddress().getPort();
        assertThat(check(admin, "/readyz")).isZero();
        assertThat(check(admin, "/healthz")).isZero();
        assertThat(check(admin, "/no-such-page")).isEqualTo(1);
    }

    @Test
    void unhealthyWhenNothingListens() throws Exception {
        int closedPort;
        try (ServerSocket socket = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
            closedPort = socket.getLocalPort();
        }
        assertThat(check(closedPort, "/readyz")).isEqualTo(1);
    }

    @Test
    void unhealthyWhileDraining() throws Exception {
        try (StalledUpstream upstream = new StalledUpstream();
                SluiceProcess process = SluiceProcess.start(upstream.sluiceConfig("20s"), List.of("-Xmx64m"))) {
            int admin = process.adminPort();
            CompletableFuture<HttpResponse<String>> inFlight = client.sendAsync(
                    HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + process.dataPort() + "/slow/x"))
                            .build(),
                    HttpResponse.BodyHandlers.ofString());
            assertThat(upstream.awaitArrival(30)).isTrue();

            process.terminate();
            ReadinessAndShutdownTest.awaitStatus(URI.create("http://127.0.0.1:" + admin + "/readyz"), 503, 20_000);
            assertThat(check(admin, "/readyz")).isEqualTo(1);
            assertThat(check(admin, "/healthz")).isZero();

            upstream.release();
            assertThat(inFlight.get(30, TimeUnit.SECONDS).statusCode()).isEqualTo(200);
            assertThat(process.awaitExit(30)).isZero();
        }
    }
}
