package io.sluice.admin;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import io.sluice.testing.SluiceProcess;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class PersistenceTest {
    private static final String TOKEN = "persist-token-5678";

    @TempDir
    Path dir;

    @Test
    void changesSurviveARestartLayeredOverTheConfig() throws Exception {
        Path state = dir.resolve("state/sluice-state.json");
        String yaml = """
                admin: {token: "%s", state_file: "%s"}
                upstreams:
                  kept:
                    base_url: http://127.0.0.1:9
                    max_concurrency: 5
                  edited:
                    base_url: http://127.0.0.1:10
                    limits: [{rate: 10/s}]
                  doomed:
                    base_url: http://127.0.0.1:11
                """.formatted(TOKEN, state);

        try (SluiceProcess first = SluiceProcess.start(yaml, List.of())) {
            Admin admin = Admin.of(first.adminPort(), TOKEN);
            HttpResponse<String> edited = admin.put(
                    "/api/upstreams/edited",
                    "{\"base_url\": \"http://127.0.0.1:10\", \"limits\": [{\"rate\": \"90/min\", \"burst\": 10}],"
                            + " \"max_concurrency\": 3}");
            assertThat(edited.statusCode()).as(edited.body()).isEqualTo(200);
            assertThat(Admin.json(edited).get("persisted").asBoolean()).isTrue();
            assertThat(admin.post("/api/upstreams", "{\"name\": \"added\", \"match\": [\"*.example.org\"]}")
                            .statusCode())
                    .isEqualTo(201);
            assertThat(admin.delete("/api/upstreams/doomed").statusCode()).isEqualTo(204);
            assertThat(admin.put("/api/upstreams/default", "{\"max_wait\": \"5s\"}")
                            .statusCode())
                    .isEqualTo(200);

            assertThat(state).exists();
            try (var leftovers = Files.list(state.getParent())) {
                assertThat(leftovers.map(p -> p.getFileName().toString()))
                        .as("the temporary file was renamed into place")
                        .containsExactly("sluice-state.json");
            }
            first.terminate();
            assertThat(first.awaitExit(30)).isZero();
        }

        try (SluiceProcess second = SluiceProcess.start(yaml, List.of())) {
            Admin admin = Admin.of(second.adminPort(), null);
            JsonNode edited = admin.getJson("/api/upstreams/edited");
            assertThat(edited.at("/config/limits/0/rate").asText()).isEqualTo("90/min");
            assertThat(edited.at("/config/max_concurrency").asInt()).isEqualTo(3);
            assertThat(edited.get("source").asText()).isEqualTo("admin");

            JsonNode kept = admin.getJson("/api/upstreams/kept");
            assertThat(kept.at("/config/max_concurrency").asInt()).isEqualTo(5);
            assertThat(kept.get("source").asText()).isEqualTo("config");

            assertThat(admin.getJson("/api/upstreams/added")
                            .at("/config/match/0")
                            .asText())
                    .isEqualTo("*.example.org");
            assertThat(admin.get("/api/upstreams/doomed").statusCode()).isEqualTo(404);
            assertThat(admin.getJson("/api/upstreams/default")
                            .at("/config/max_wait")
                            .asText())
                    .isEqualTo("5s");
        }
    }
}
