package io.sluice.batch;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import io.sluice.testing.SluiceServerExtension;
import io.sluice.testing.TestHttp;
import io.sluice.testing.Upstream;
import java.util.Base64;
import mockwebserver3.MockWebServer;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/** A batch item gets the limits a passthrough request gets; a bad item fails alone. */
class BatchItemLimitsTest {
    @RegisterExtension
    final SluiceServerExtension sluice = new SluiceServerExtension();

    private final MockWebServer upstream = Upstream.start();
    private final String origin = Upstream.origin(upstream);

    @AfterEach
    void stopUpstream() {
        upstream.close();
    }

    private SluiceServerExtension.Running start(String server) {
        return sluice.start("""
                upstreams:
                  local: {match: ["127.0.0.1"], allow_private: true, retry: {max_attempts: 1}}
                server: %s
                """.formatted(server));
    }

    @Test
    void itemsOverThePassthroughLimitsOrWithNonStringFieldsFailAloneNamingTheField() {
        var running = start("{max_header_size: 1KB, max_request_body: 1KB}");
        upstream.enqueue(Upstream.ok("text/plain", "fine"));
        String big = "a".repeat(2048);

        JsonNode responses = TestHttp.batch(running.data("/v1/batch"), """
                        {"requests": [
                          {"id": "long-url", "url": "%1$s/%2$s"},
                          {"id": "long-header", "url": "%1$s/", "headers": {"X-A": "%2$s"}},
                          {"id": "many-headers", "url": "%1$s/", "headers": {"X-A": ["%3$s", "%3$s", "%3$s"]}},
                          {"id": "big-body", "method": "POST", "url": "%1$s/", "body": "%2$s"},
                          {"id": "big-json", "method": "POST", "url": "%1$s/", "body": {"k": "%2$s"}},
                          {"id": "big-base64", "method": "POST", "url": "%1$s/", "body_base64": "%4$s"},
                          {"id": "number-header", "url": "%1$s/", "headers": {"X-A": 1}},
                          {"id": "bool-in-list", "url": "%1$s/", "headers": {"X-A": ["x", true]}},
                          {"id": {"o": 1}, "url": "%1$s/"},
                          {"id": "ok", "url": "%1$s/fine", "headers": {"X-A": "%3$s"}}
                        ]}""".formatted(
                        origin, big, "b".repeat(400), Base64.getEncoder().encodeToString(new byte[2048])))
                .get("responses");

        assertThat(message(responses, 0))
                .isEqualTo("requests[0].url: URL of " + (origin.length() + 1 + 2048)
                        + " bytes exceeds 1024 (server.max_header_size)");
        assertThat(message(responses, 1))
                .isEqualTo("requests[1].headers: 2055 bytes of header fields exceed 1024 (server.max_header_size)");
        assertThat(message(responses, 2))
                .startsWith("requests[2].headers: 1221 bytes")
                .endsWith("(server.max_header_size)");
        assertThat(message(responses, 3))
                .isEqualTo("requests[3].body: body of 2048 bytes exceeds 1024 (server.max_request_body)");
        assertThat(message(responses, 4)).startsWith("requests[4].body: body of 2056 bytes exceeds 1024");
        assertThat(message(responses, 5))
                .isEqualTo("requests[5].body_base64: body of 2049 bytes exceeds 1024 (server.max_request_body)");
        assertThat(message(responses, 6)).isEqualTo("requests[6].headers.X-A: must be a string");
        assertThat(message(responses, 7)).isEqualTo("requests[7].headers.X-A: must be a string");
        assertThat(message(responses, 8)).isEqualTo("requests[8].id: must be a string or a number");
        assertThat(responses.get(8).get("id").asText()).isEqualTo("8");
        for (int i = 0; i < 9; i++) {
            assertThat(responses.get(i).get("error").get("type").asText()).isEqualTo("invalid_request");
        }
        assertThat(responses.get(9).get("status").asInt()).isEqualTo(200);
        assertThat(upstream.getRequestCount())
                .as("only the good item went upstream")
                .isEqualTo(1);
    }

    @Test
    void stringLengthCapFollowsMaxBatchBytesNotJacksonsDefault() {
        var running = start("{max_batch_bytes: 32MB, max_request_body: 1MB}");
        // Over Jackson's default 20,000,000-character string cap, under server.max_batch_bytes.
        String body = "x".repeat(21_000_000);

        JsonNode answer = TestHttp.batch(
                running.data("/v1/batch"),
                "{\"requests\": [{\"method\": \"POST\", \"url\": \"" + origin + "/\", \"body\": \"" + body + "\"}]}");

        assertThat(answer.get("_status").asInt()).isEqualTo(200);
        assertThat(message(answer.get("responses"), 0))
                .isEqualTo("requests[0].body: body of 21000000 bytes exceeds 1048576 (server.max_request_body)");
        assertThat(upstream.getRequestCount()).isZero();
    }

    private static String message(JsonNode responses, int i) {
        return responses.get(i).get("error").get("message").asText();
    }
}
