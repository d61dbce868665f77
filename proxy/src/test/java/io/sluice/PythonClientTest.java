package io.sluice;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import io.sluice.testing.SluiceServerExtension;
import io.sluice.testing.TestHttp;
import io.sluice.testing.Upstream;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.TimeUnit;
import mockwebserver3.Dispatcher;
import mockwebserver3.MockResponse;
import mockwebserver3.MockWebServer;
import mockwebserver3.RecordedRequest;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.api.io.TempDir;

/** Any-language use, proven with Debian's python3 and python3-requests against a real Sluice. */
class PythonClientTest {
    private static final Path PYTHON = Path.of("/usr/bin/python3");

    @RegisterExtension
    final SluiceServerExtension sluice = new SluiceServerExtension();

    @Test
    void pythonRequestsUsesBatchRouteFormAndForwardProxy(@TempDir Path dir) throws Exception {
        io.sluice.testing.RequiredTool.require(
                pythonWithRequests(), "/usr/bin/python3 with requests (Debian package python3-requests)");
        try (MockWebServer upstream = Upstream.start()) {
            upstream.setDispatcher(new Dispatcher() {
                @Override
                public MockResponse dispatch(RecordedRequest request) {
                    return Upstream.ok("application/json", "{\"target\":\"" + request.getTarget() + "\"}");
                }
            });
            String origin = Upstream.origin(upstream);
            var running = sluice.start("""
                    upstreams:
                      app: {base_url: "%s", allow_private: true}
                    """.formatted(origin));
            Path script = dir.resolve("client.py");
            try (var in = PythonClientTest.class.getResourceAsStream("/python/client.py")) {
                Files.write(script, in.readAllBytes());
            }

            Process python = new ProcessBuilder(
                            PYTHON.toString(), script.toString(), Integer.toString(running.dataPort()), origin)
                    .redirectError(ProcessBuilder.Redirect.INHERIT)
                    .start();
            String output = new String(python.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
            assertThat(python.waitFor(60, TimeUnit.SECONDS)).isTrue();
            assertThat(python.exitValue()).as("python said: %s", output).isZero();

            JsonNode out = TestHttp.JSON.readTree(output);
            assertThat(out.get("batch_status").asInt()).isEqualTo(200);
            assertThat(out.get("batch").get(0).get("body").get("target").asText())
                    .isEqualTo("/users/1");
            assertThat(out.get("batch").get(1).get("error").get("type").asText())
                    .isEqualTo("invalid_request");
            assertThat(out.get("route_status").asInt()).isEqualTo(200);
            assertThat(out.get("route_body").get("target").asText()).isEqualTo("/users/2?q=x+y");
            assertThat(out.get("route_via").asText()).contains("sluice");
            assertThat(out.get("proxy_status").asInt()).isEqualTo(200);
            assertThat(out.get("proxy_body").get("target").asText()).isEqualTo("/users/3");
            assertThat(out.get("proxy_cache_status").asText()).startsWith("sluice;");
            assertThat(upstream.getRequestCount()).isEqualTo(3);
        }
    }

    private static boolean pythonWithRequests() throws IOException, InterruptedException {
        if (!Files.isExecutable(PYTHON)) return false;
        Process check = new ProcessBuilder(PYTHON.toString(), "-c", "import requests").start();
        return check.waitFor(30, TimeUnit.SECONDS) && check.exitValue() == 0;
    }
}
