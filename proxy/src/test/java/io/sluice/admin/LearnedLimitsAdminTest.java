package io.sluice.admin;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import io.sluice.testing.SluiceServerExtension;
import io.sluice.testing.SluiceServerExtension.Running;
import io.sluice.testing.TestHttp;
import java.net.InetAddress;
import java.time.Instant;
import mockwebserver3.MockResponse;
import mockwebserver3.MockWebServer;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/** Learned limits in the admin API: shown beside the configured ones, pinned and reset with the token, audited. */
class LearnedLimitsAdminTest {
    private static final String TOKEN = "learned-admin-token-1234";

    @RegisterExtension
    final SluiceServerExtension sluice = new SluiceServerExtension();

    private final MockWebServer upstream = new MockWebServer();
    private Running running;

    @BeforeEach
    void start() throws Exception {
        upstream.start(InetAddress.getLoopbackAddress(), 0);
        running = sluice.start("""
                admin: {token: "%s"}
                upstreams:
                  gh:
                    base_url: "http://127.0.0.1:%d"
                    allow_private: true
                    limits: learn
                    retry: {max_attempts: 1}
                """.formatted(TOKEN, upstream.getPort()));
    }

    @AfterEach
    void stop() {
        upstream.close();
    }

    private void githubAnswers(String limit) {
        upstream.enqueue(new MockResponse.Builder()
                .code(200)
                .addHeader("X-RateLimit-Limit", limit)
                .addHeader("X-RateLimit-Remaining", "4000")
                .addHeader(
                        "X-RateLimit-Reset",
                        Long.toString(Instant.now().plusSeconds(1800).getEpochSecond()))
                .body("{}")
                .build());
    }

    private JsonNode learned() {
        return Admin.of(running, null).getJson("/api/upstreams/gh").at("/live/learned");
    }

    @Test
    void showsPinsAndResetsLearnedLimits() {
        assertThat(learned().isNull()).as("nothing announced yet").isTrue();
        assertThat(Admin.of(running, null)
                        .getJson("/api/upstreams/gh")
                        .at("/config/limits")
                        .asText())
                .isEqualTo("learn");

        githubAnswers("5000");
        assertThat(TestHttp.get(running.data("/gh/user")).statusCode()).isEqualTo(200);
        JsonNode learned = learned();
        assertThat(learned.at("/source").asText()).isEqualTo("X-RateLimit-Limit");
        assertThat(learned.at("/limits/0/tokens").asLong()).isEqualTo(5000);
        assertThat(learned.at("/limits/0/window").asText()).isEqualTo("1h");
        assertThat(learned.at("/at").asText()).isNotEmpty();
        assertThat(learned.at("/pinned").asBoolean()).isFalse();
        assertThat(learned.at("/applied").asBoolean()).isTrue();

        assertThat(Admin.of(running, null)
                        .post("/api/upstreams/gh/learned/pin", "{}")
                        .statusCode())
                .as("pinning needs the token")
                .isEqualTo(401);
        AuditCapture audit = AuditCapture.start();
        try {
            var pinned = Admin.of(running, TOKEN).post("/api/upstreams/gh/learned/pin", "{}");
            assertThat(pinned.statusCode()).isEqualTo(200);
            assertThat(Admin.json(pinned).at("/live/learned/pinned").asBoolean())
                    .isTrue();
        } finally {
            audit.close();
        }
        assertThat(audit.lines())
                .anySatisfy(line -> assertThat(line).contains("action=pin_learned", "target=upstreams.gh.learned"));

        githubAnswers("60");
        TestHttp.get(running.data("/gh/user"));
        assertThat(learned().at("/limits/0/tokens").asLong())
                .as("pinned: the new announcement is ignored")
                .isEqualTo(5000);

        assertThat(Admin.of(running, TOKEN)
                        .delete("/api/upstreams/gh/learned/pin")
                        .statusCode())
                .isEqualTo(200);
        assertThat(learned().at("/pinned").asBoolean()).isFalse();
        var reset = Admin.of(running, TOKEN).delete("/api/upstreams/gh/learned");
        assertThat(reset.statusCode()).isEqualTo(200);
        assertThat(Admin.json(reset).at("/live/learned").isNull()).isTrue();
        assertThat(Admin.of(running, TOKEN)
                        .delete("/api/upstreams/nope/learned")
                        .statusCode())
                .isEqualTo(404);
    }
}
