package io.sluice.deploy;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import io.sluice.testing.TestHttp;
import java.net.URI;
import java.net.http.HttpResponse;

/**
 * One scenario run against every way Sluice ships (the process from the jar's classes, the
 * container image): ready, then a batch with a good item and a bad one. The good item fetches
 * Sluice's own {@code /healthz}, so the scenario needs no other server, inside a container or out.
 */
final class BatchScenario {
    /** Config for the Sluice under test: loopback upstreams allowed (the item targets Sluice itself). */
    static final String CONFIG = """
            upstreams:
              self:
                match: ["127.0.0.1"]
                allow_private: true
            """;

    private BatchScenario() {}

    /**
     * @param data the data port as the test reaches it
     * @param admin the admin port as the test reaches it
     * @param adminSeenBySluice the admin port's origin as Sluice itself reaches it
     */
    static void run(URI data, URI admin, String adminSeenBySluice) {
        HttpResponse<String> ready = TestHttp.get(admin.resolve("/readyz"));
        assertThat(ready.statusCode()).isEqualTo(200);

        JsonNode answer = TestHttp.batch(data.resolve("/v1/batch"), """
                {"requests": [
                  {"id": "health", "url": "%s/healthz"},
                  {"id": "bad", "url": "file:///etc/passwd"}
                ]}
                """.formatted(adminSeenBySluice));
        assertThat(answer.path("_status").asInt()).isEqualTo(200);
        JsonNode health = answer.path("responses").get(0);
        assertThat(health.path("id").asText()).isEqualTo("health");
        assertThat(health.path("status").asInt()).isEqualTo(200);
        assertThat(health.path("body").asText()).isEqualTo("ok\n");
        assertThat(health.path("upstream").asText()).isEqualTo("self");
        JsonNode bad = answer.path("responses").get(1);
        assertThat(bad.path("id").asText()).isEqualTo("bad");
        assertThat(bad.path("error").path("type").asText()).isEqualTo("invalid_request");
        assertThat(bad.path("error").path("message").asText()).contains("requests[1].url");
    }
}
