package io.sluice.log;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.sluice.testing.SluiceProcess;
import io.sluice.testing.TestHttp;
import io.sluice.testing.Upstream;
import java.net.URI;
import java.time.Duration;
import java.util.List;
import mockwebserver3.Dispatcher;
import mockwebserver3.MockResponse;
import mockwebserver3.MockWebServer;
import mockwebserver3.RecordedRequest;
import org.junit.jupiter.api.Test;

/** What a running Sluice writes to its output with {@code log.format} and {@code log.access}. */
class LogOutputTest {
    private static final ObjectMapper JSON = new ObjectMapper();
    private static final String SECRET = "key-4f1c9d0e";

    @Test
    void jsonFormatWritesEveryLogRecordAsOneObjectAndTheAccessLogLeavesOutTheQuery() throws Exception {
        try (MockWebServer upstream = Upstream.start()) {
            upstream.setDispatcher(new Dispatcher() {
                @Override
                public MockResponse dispatch(RecordedRequest request) {
                    return Upstream.ok("text/plain", "ok");
                }
            });
            String config = """
                    log: {format: json, access: true}
                    upstreams:
                      partner: {base_url: "%s", allow_private: true}
                    """.formatted(Upstream.origin(upstream));
            try (SluiceProcess sluice = SluiceProcess.start(config, List.of())) {
                var response = TestHttp.get(
                        URI.create("http://127.0.0.1:" + sluice.dataPort() + "/partner/items/7?api_key=" + SECRET));
                assertThat(response.statusCode()).isEqualTo(200);

                await().atMost(Duration.ofSeconds(10))
                        .until(() -> sluice.output().stream().anyMatch(l -> l.contains("sluice.access")));
                List<String> records = sluice.output().stream()
                        .filter(l -> !l.startsWith("sluice ") && !l.startsWith("HTTPS_PROXY clients"))
                        .toList();
                // Everything but the two start-up lines on standard output is a JSON log record.
                assertThat(records).isNotEmpty();
                for (String line : records) {
                    JsonNode record = JSON.readTree(line);
                    assertThat(record.path("time").asText()).matches("\\d{4}-\\d\\d-\\d\\dT.*Z");
                    assertThat(record.path("level").asText()).isNotEmpty();
                    assertThat(record.has("message")).isTrue();
                }
                JsonNode access = records.stream()
                        .map(LogOutputTest::parse)
                        .filter(r -> r.path("logger").asText().equals("sluice.access"))
                        .findFirst()
                        .orElseThrow();
                assertThat(access.path("message").asText())
                        .matches(
                                "127\\.0\\.0\\.1 - - \\[.+] \"GET /partner/items/7 HTTP/1\\.1\" 200 2 \"-\" \".*\" \\d+");
                assertThat(String.join("\n", sluice.output())).doesNotContain(SECRET);
            }
        }
    }

    @Test
    void textFormatIsOneLinePerRecordAndNoAccessLogByDefault() throws Exception {
        try (SluiceProcess sluice = SluiceProcess.start("{}", List.of())) {
            assertThat(TestHttp.get(URI.create("http://127.0.0.1:" + sluice.adminPort() + "/healthz"))
                            .statusCode())
                    .isEqualTo(200);
            assertThat(TestHttp.get(URI.create("http://127.0.0.1:" + sluice.dataPort() + "/nowhere/x"))
                            .statusCode())
                    .isEqualTo(404);
            assertThat(sluice.output())
                    .anyMatch(l -> l.matches("\\d{4}-\\d\\d-\\d\\dT\\S+Z INFO io\\.undertow: starting server.*"))
                    .noneMatch(l -> l.contains("sluice.access") || l.contains("GET /nowhere"));
        }
    }

    private static JsonNode parse(String line) {
        try {
            return JSON.readTree(line);
        } catch (Exception e) {
            throw new AssertionError("not JSON: " + line, e);
        }
    }
}
