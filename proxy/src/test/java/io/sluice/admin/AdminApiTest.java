package io.sluice.admin;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import com.fasterxml.jackson.databind.JsonNode;
import io.sluice.testing.HeldUpstream;
import io.sluice.testing.SluiceServerExtension;
import io.sluice.testing.SluiceServerExtension.Running;
import io.sluice.testing.TestHttp;
import io.sluice.time.TimeSource;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import mockwebserver3.MockResponse;
import mockwebserver3.MockWebServer;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.api.io.TempDir;

class AdminApiTest {
    private static final String TOKEN = "test-admin-token-1234";

    @RegisterExtension
    final SluiceServerExtension sluice = new SluiceServerExtension();

    private Running start(String upstreamsYaml) {
        return sluice.start("admin: {token: \"" + TOKEN + "\"}\n" + upstreamsYaml);
    }

    private static String upstream(String name, String baseUrl, String extra) {
        return "upstreams:\n  " + name + ":\n    base_url: " + baseUrl + "\n    allow_private: true\n" + extra;
    }

    @Test
    void refusesChangesWithoutTheTokenAndAcceptsThemWithIt() {
        Running s = start(upstream("crm", "http://127.0.0.1:9", ""));
        String change = "{\"base_url\": \"http://127.0.0.1:9\", \"max_concurrency\": 7}";

        AuditCapture audit = AuditCapture.start();
        HttpResponse<String> anonymous;
        try {
            anonymous = Admin.of(s, null).put("/api/upstreams/crm", change);
        } finally {
            audit.close();
        }
        assertThat(audit.lines())
                .singleElement()
                .asString()
                .contains("action=refused", "request=PUT /api/upstreams/crm", "reason=unauthorized");
        assertThat(anonymous.statusCode()).isEqualTo(401);
        assertThat(anonymous.headers().firstValue("WWW-Authenticate")).hasValue("Bearer realm=\"sluice-admin\"");
        assertThat(Admin.json(anonymous).at("/error/type").asText()).isEqualTo("unauthorized");

        assertThat(Admin.of(s, "wrong-token").put("/api/upstreams/crm", change).statusCode())
                .isEqualTo(401);
        assertThat(Admin.of(s, TOKEN + "x").put("/api/upstreams/crm", change).statusCode())
                .isEqualTo(401);
        assertThat(Admin.of(s, null)
                        .getJson("/api/upstreams/crm")
                        .at("/config/max_concurrency")
                        .asInt())
                .as("a refused change changes nothing")
                .isEqualTo(32);

        assertThat(Admin.of(s, TOKEN)
                        .put("/api/upstreams/other?name=crm", "{\"base_url\": \"http://127.0.0.1:8\"}")
                        .statusCode())
                .as("the path names the upstream, not the query string")
                .isEqualTo(201);
        HttpResponse<String> accepted = Admin.of(s, TOKEN).put("/api/upstreams/crm", change);
        assertThat(accepted.statusCode()).isEqualTo(200);
        assertThat(Admin.json(accepted).at("/config/max_concurrency").asInt()).isEqualTo(7);
        assertThat(Admin.json(accepted).at("/source").asText()).isEqualTo("admin");
    }

    @Test
    void refusesChangesWhenNoTokenIsConfiguredUnlessExplicitlyOpen() {
        Running closed = sluice.start("admin: {token: \"\"}\n" + upstream("crm", "http://127.0.0.1:9", ""));
        HttpResponse<String> refused =
                Admin.of(closed, "anything").put("/api/upstreams/crm", "{\"base_url\": \"http://127.0.0.1:9\"}");
        assertThat(refused.statusCode()).isEqualTo(403);
        assertThat(Admin.json(refused).at("/error/message").asText()).contains("admin.token", "insecure_open");
        assertThat(Admin.of(closed, null).getJson("/api/auth").at("/mode").asText())
                .isEqualTo("disabled");

        Running open =
                sluice.start("admin: {token: \"\", insecure_open: true}\n" + upstream("crm", "http://127.0.0.1:9", ""));
        assertThat(Admin.of(open, null)
                        .put("/api/upstreams/crm", "{\"base_url\": \"http://127.0.0.1:9\", \"max_wait\": \"2s\"}")
                        .statusCode())
                .isEqualTo(200);
        assertThat(Admin.of(open, null).getJson("/api/auth").at("/mode").asText())
                .isEqualTo("open");
    }

    @Test
    void refusesChangesThatAreNotJsonOrComeFromAnotherOrigin() {
        Running s = start(upstream("crm", "http://127.0.0.1:9", ""));
        Admin admin = Admin.of(s, TOKEN);

        HttpResponse<String> form =
                admin.send("PUT", "/api/upstreams/crm", "application/x-www-form-urlencoded", "max_concurrency=1");
        assertThat(form.statusCode()).isEqualTo(415);
        assertThat(admin.send("PUT", "/api/upstreams/crm", "text/plain", "{}").statusCode())
                .isEqualTo(415);
        assertThat(admin.send("POST", "/api/cache/purge", null, "{}").statusCode())
                .isEqualTo(415);

        HttpResponse<String> crossOrigin = TestHttp.send(HttpRequest.newBuilder(s.admin("/api/upstreams/crm"))
                .header("Authorization", "Bearer " + TOKEN)
                .header("Content-Type", "application/json")
                .header("Origin", "http://evil.example")
                .PUT(HttpRequest.BodyPublishers.ofString("{\"base_url\": \"http://127.0.0.1:9\"}"))
                .build());
        assertThat(crossOrigin.statusCode()).isEqualTo(403);
        assertThat(Admin.json(crossOrigin).at("/error/message").asText()).contains("cross-origin");
    }

    @Test
    void invalidChangesAreRefusedWithTheKeyPathNamed() {
        Running s = start(upstream("crm", "http://127.0.0.1:9", ""));
        Admin admin = Admin.of(s, TOKEN);

        assertThat(errorOf(admin.put(
                        "/api/upstreams/crm", "{\"base_url\": \"http://127.0.0.1:9\", \"max_concurrency\": 0}")))
                .contains("upstreams.crm", "max_concurrency", "0");
        assertThat(errorOf(admin.put(
                        "/api/upstreams/crm",
                        "{\"base_url\": \"http://127.0.0.1:9\", \"limits\": [{\"rate\": \"fast\"}]}")))
                .contains("upstreams.crm.limits[0]", "fast");
        assertThat(errorOf(admin.put(
                        "/api/upstreams/crm", "{\"base_url\": \"http://127.0.0.1:9\", \"max_wiat\": \"1s\"}")))
                .contains("upstreams.crm.max_wiat", "unknown key");
        assertThat(errorOf(admin.put("/api/upstreams/crm", "{\"base_url\": \"file:///etc/passwd\"}")))
                .contains("upstreams.crm.base_url", "unsupported scheme");
        assertThat(errorOf(admin.put("/api/upstreams/crm", "{\"max_wait\": \"1s\"}")))
                .contains("base_url or match");
        assertThat(errorOf(admin.put("/api/upstreams/crm", "{not json"))).contains("not valid JSON");
        assertThat(errorOf(admin.post("/api/upstreams", "{\"base_url\": \"http://127.0.0.1:9\"}")))
                .contains("name");
        assertThat(errorOf(admin.put("/api/upstreams/v1", "{\"base_url\": \"http://127.0.0.1:9\"}")))
                .contains("invalid upstream name");
        assertThat(errorOf(admin.delete("/api/upstreams/default"))).contains("cannot be removed");

        assertThat(admin.getJson("/api/upstreams/crm")
                        .at("/config/max_concurrency")
                        .asInt())
                .as("nothing invalid was applied")
                .isEqualTo(32);
    }

    private static String errorOf(HttpResponse<String> response) {
        assertThat(response.statusCode()).as(response.body()).isEqualTo(400);
        JsonNode error = Admin.json(response).get("error");
        assertThat(error.get("type").asText()).isEqualTo("invalid_request");
        return error.get("message").asText();
    }

    @Test
    void createsListsAndRemovesUpstreams() throws Exception {
        try (MockWebServer server = new MockWebServer()) {
            server.enqueue(new MockResponse.Builder()
                    .code(200)
                    .body("from the new upstream")
                    .build());
            server.start();
            String base = server.url("/").toString().replaceAll("/$", "");
            Running s = start("");
            Admin admin = Admin.of(s, TOKEN);

            HttpResponse<String> created = admin.post(
                    "/api/upstreams",
                    "{\"name\": \"fresh\", \"base_url\": \"" + base + "\", \"allow_private\": true,"
                            + " \"limits\": [{\"rate\": \"20/s\", \"burst\": 5}]}");
            assertThat(created.statusCode()).as(created.body()).isEqualTo(201);
            assertThat(created.headers().firstValue("Location")).hasValue("/api/upstreams/fresh");
            assertThat(Admin.json(created).at("/config/limits/0/rate").asText()).isEqualTo("20/s");
            assertThat(Admin.json(created).at("/config/limits/0/burst").asInt()).isEqualTo(5);
            assertThat(Admin.json(created).at("/persisted").asBoolean()).isFalse();

            assertThat(admin.post("/api/upstreams", "{\"name\": \"fresh\", \"base_url\": \"" + base + "\"}")
                            .statusCode())
                    .isEqualTo(409);

            HttpResponse<String> viaNewRoute = TestHttp.get(s.data("/fresh/hello"));
            assertThat(viaNewRoute.statusCode())
                    .as("the route form works at once")
                    .isEqualTo(200);
            assertThat(viaNewRoute.body()).isEqualTo("from the new upstream");

            List<String> names = new ArrayList<>();
            admin.getJson("/api/upstreams")
                    .get("upstreams")
                    .forEach(u -> names.add(u.get("name").asText()));
            assertThat(names).containsExactly("fresh", "default");

            assertThat(admin.delete("/api/upstreams/fresh").statusCode()).isEqualTo(204);
            assertThat(admin.get("/api/upstreams/fresh").statusCode()).isEqualTo(404);
            assertThat(admin.delete("/api/upstreams/fresh").statusCode()).isEqualTo(404);
            assertThat(TestHttp.get(s.data("/fresh/hello")).statusCode())
                    .as("the route is gone")
                    .isNotEqualTo(200);
        }
    }

    @Test
    void raisingMaxConcurrencyAdmitsQueuedRequestsAtOnce() throws Exception {
        try (HeldUpstream upstream = new HeldUpstream()) {
            Running s = start(
                    upstream("slow", upstream.baseUrl(), "    max_concurrency: 1\n    retry: {max_attempts: 1}\n"));
            Admin admin = Admin.of(s, TOKEN);
            HttpClient client = HttpClient.newHttpClient();
            List<CompletableFuture<HttpResponse<String>>> calls = new ArrayList<>();
            for (int i = 0; i < 3; i++) {
                calls.add(client.sendAsync(
                        HttpRequest.newBuilder(s.data("/slow/item/" + i)).build(),
                        HttpResponse.BodyHandlers.ofString()));
            }
            // The first call holds the one slot; it reaches the upstream on its own time, maybe after
            // the other two have queued.
            await().atMost(Duration.ofSeconds(20))
                    .until(() -> live(admin, "slow", "queued") == 2 && upstream.arrived() == 1);
            assertThat(live(admin, "slow", "in_flight")).isEqualTo(1);

            HttpResponse<String> raised = admin.put(
                    "/api/upstreams/slow",
                    "{\"base_url\": \"" + upstream.baseUrl()
                            + "\", \"allow_private\": true, \"max_concurrency\": 3, \"retry\": {\"max_attempts\": 1}}");
            assertThat(raised.statusCode()).as(raised.body()).isEqualTo(200);

            await().atMost(Duration.ofSeconds(20)).until(() -> upstream.arrived() == 3);
            assertThat(live(admin, "slow", "in_flight")).isEqualTo(3);
            assertThat(live(admin, "slow", "queued")).isZero();

            upstream.release();
            for (var call : calls) assertThat(call.get().statusCode()).isEqualTo(200);
        }
    }

    private static int live(Admin admin, String upstream, String field) {
        return admin.getJson("/api/upstreams/" + upstream).at("/live/" + field).asInt();
    }

    @Test
    void secretsFromTheEnvironmentNeverAppearInTheAdminApi() throws Exception {
        String secret = "sup3r-s3cret-value-0042";
        try (MockWebServer server = new MockWebServer()) {
            for (int i = 0; i < 3; i++)
                server.enqueue(new MockResponse.Builder().code(200).body("ok").build());
            server.start();
            String base = server.url("/").toString().replaceAll("/$", "");
            Running s = sluice.start(
                    "admin: {token: \"${ADMIN_TOKEN}\"}\n"
                            + upstream(
                                    "vault",
                                    base,
                                    "    headers: {Authorization: \"Bearer ${TEST_SECRET}\", X-Static-Key: \"literal-key-99\"}\n"),
                    Map.of("TEST_SECRET", secret, "ADMIN_TOKEN", TOKEN),
                    TimeSource.system());
            AuditCapture audit = AuditCapture.start();
            try {
                assertThat(TestHttp.get(s.data("/vault/a?api_key=from-app")).statusCode())
                        .isEqualTo(200);
                assertThat(server.takeRequest().getHeaders().get("Authorization"))
                        .as("the secret is sent upstream")
                        .isEqualTo("Bearer " + secret);

                Admin admin = Admin.of(s, TOKEN);
                JsonNode vault = admin.getJson("/api/upstreams/vault");
                assertThat(vault.at("/config/headers/Authorization").asText()).isEqualTo("Bearer ${TEST_SECRET}");
                assertThat(vault.at("/config/headers/X-Static-Key").asText()).isEqualTo("(redacted)");

                // Send the representation back unchanged but for one key: secrets survive the round trip.
                var config = (com.fasterxml.jackson.databind.node.ObjectNode) vault.get("config");
                config.put("max_concurrency", 4);
                HttpResponse<String> put = admin.put("/api/upstreams/vault", config.toString());
                assertThat(put.statusCode()).as(put.body()).isEqualTo(200);
                assertThat(TestHttp.get(s.data("/vault/b")).statusCode()).isEqualTo(200);
                var afterChange = server.takeRequest();
                assertThat(afterChange.getHeaders().get("Authorization")).isEqualTo("Bearer " + secret);
                assertThat(afterChange.getHeaders().get("X-Static-Key")).isEqualTo("literal-key-99");

                // The token cannot be used to read the environment: not through error messages,
                // not by sending a variable the config does not use to an upstream of one's choosing.
                HttpResponse<String> echoed = admin.put(
                        "/api/upstreams/vault", "{\"base_url\": \"" + base + "\", \"max_wait\": \"${TEST_SECRET}\"}");
                assertThat(echoed.statusCode()).isEqualTo(400);
                assertThat(echoed.body()).contains("only in header values").doesNotContain(secret);
                HttpResponse<String> unused = admin.put(
                        "/api/upstreams/vault",
                        "{\"base_url\": \"" + base + "\", \"headers\": {\"X-Leak\": \"${ADMIN_TOKEN}\"}}");
                assertThat(unused.statusCode()).isEqualTo(400);
                assertThat(unused.body()).contains("upstreams.vault.headers.X-Leak", "not used by this upstream");
                HttpResponse<String> moved = admin.put(
                        "/api/upstreams/vault",
                        "{\"base_url\": \"http://127.0.0.1:1\", \"headers\": {\"Authorization\": \"Bearer ${TEST_SECRET}\"}}");
                assertThat(moved.statusCode()).isEqualTo(400);
                assertThat(moved.body()).contains("can be changed only in the config file");
                HttpResponse<String> elsewhere = admin.post(
                        "/api/upstreams",
                        "{\"name\": \"thief\", \"base_url\": \"http://127.0.0.1:1\","
                                + " \"headers\": {\"Authorization\": \"Bearer ${TEST_SECRET}\"}}");
                assertThat(elsewhere.statusCode()).isEqualTo(400);

                List<String> everything = new ArrayList<>();
                for (String path : List.of(
                        "/api/upstreams",
                        "/api/upstreams/vault",
                        "/api/config",
                        "/api/requests/recent",
                        "/api/auth",
                        "/metrics")) {
                    everything.add(admin.get(path).body());
                }
                everything.add(put.body());
                everything.addAll(audit.lines());
                for (String body : everything) {
                    assertThat(body)
                            .doesNotContain(secret)
                            .doesNotContain(TOKEN)
                            .doesNotContain("literal-key-99");
                }
                assertThat(admin.getJson("/api/requests/recent")
                                .at("/requests/1/url")
                                .asText())
                        .as("query strings are not logged")
                        .endsWith("/a?…");
                assertThat(audit.lines())
                        .singleElement()
                        .asString()
                        .contains("who=token:", "action=update", "target=upstreams.vault", "max_concurrency 32 -> 4");
            } finally {
                audit.close();
            }
        }
    }

    @Test
    void theStateFileKeepsTemplatesNeverTheSecretsTheyResolveTo(@TempDir Path dir) throws Exception {
        String secret = "state-secret-77";
        Path state = dir.resolve("sluice-state.json");
        Running s = sluice.start(
                "admin: {token: \"" + TOKEN + "\", state_file: \"" + state + "\"}\n"
                        + upstream("crm", "http://127.0.0.1:9", "    headers: {X-Api-Key: \"${CRM_KEY}\"}\n"),
                Map.of("CRM_KEY", secret),
                TimeSource.system());
        Admin admin = Admin.of(s, TOKEN);
        var config = (com.fasterxml.jackson.databind.node.ObjectNode)
                admin.getJson("/api/upstreams/crm").get("config");
        config.put("max_wait", "3s");
        HttpResponse<String> put = admin.put("/api/upstreams/crm", config.toString());
        assertThat(put.statusCode()).as(put.body()).isEqualTo(200);
        assertThat(Admin.json(put).get("persisted").asBoolean()).isTrue();

        String written = Files.readString(state);
        assertThat(written).contains("${CRM_KEY}", "\"max_wait\" : \"3s\"").doesNotContain(secret);
        if (state.getFileSystem().supportedFileAttributeViews().contains("posix")) {
            assertThat(PosixFilePermissions.toString(Files.getPosixFilePermissions(state)))
                    .isEqualTo("rw-------");
        }
    }

    @Test
    void aRateSentInAnotherSpellingIsShownAndStoredInTheDocumentedOne(@TempDir Path dir) throws Exception {
        Path state = dir.resolve("sluice-state.json");
        Running s = sluice.start(
                "admin: {token: \"" + TOKEN + "\", state_file: \"" + state + "\"}\n"
                        + upstream("crm", "http://127.0.0.1:9", ""),
                Map.of(),
                TimeSource.system());
        Admin admin = Admin.of(s, TOKEN);

        HttpResponse<String> put = admin.put(
                "/api/upstreams/crm",
                "{\"base_url\": \"http://127.0.0.1:9\", \"limits\": [{\"rate\": \"5/sec\"}, {\"rate\": \"3/hour\"}]}");
        assertThat(put.statusCode()).as(put.body()).isEqualTo(200);
        HttpResponse<String> post = admin.post(
                "/api/upstreams",
                "{\"name\": \"fast\", \"base_url\": \"http://127.0.0.1:8\", \"limits\": [{\"rate\": \"5/ms\"}]}");
        assertThat(post.statusCode()).as(post.body()).isEqualTo(201);

        JsonNode crm = admin.getJson("/api/upstreams/crm").get("config");
        assertThat(crm.at("/limits/0/rate").asText()).isEqualTo("5/s");
        assertThat(crm.at("/limits/0/burst").asInt()).isEqualTo(5);
        assertThat(crm.at("/limits/1/rate").asText()).isEqualTo("3/h");
        JsonNode fast = admin.getJson("/api/upstreams/fast").get("config");
        assertThat(fast.at("/limits/0/rate").asText()).isEqualTo("5000/s");
        assertThat(fast.at("/limits/0/burst").asInt())
                .as("the burst 5/ms had: one millisecond's worth")
                .isEqualTo(5);
        assertThat(Files.readString(state))
                .contains("\"5/s\"", "\"3/h\"", "\"5000/s\"")
                .doesNotContain("/sec", "/hour", "/ms");

        HttpResponse<String> again = admin.put("/api/upstreams/crm", crm.toString());
        assertThat(again.statusCode()).as(again.body()).isEqualTo(200);
        assertThat(admin.getJson("/api/upstreams/crm").get("config"))
                .as("what GET shows, sent back, is the same policy")
                .isEqualTo(crm);
    }

    @Test
    void recentRequestsCarryTheDecisionTrace() throws Exception {
        try (MockWebServer server = new MockWebServer()) {
            server.enqueue(new MockResponse.Builder().code(201).body("made").build());
            server.start();
            String base = server.url("/").toString().replaceAll("/$", "");
            Running s = start(upstream("trace", base, ""));
            TestHttp.get(s.data("/trace/thing"));

            JsonNode entry = Admin.of(s, null)
                    .getJson("/api/requests/recent?upstream=trace")
                    .at("/requests/0");
            assertThat(entry.get("upstream").asText()).isEqualTo("trace");
            assertThat(entry.get("method").asText()).isEqualTo("GET");
            assertThat(entry.get("url").asText()).isEqualTo(base + "/thing");
            assertThat(entry.get("status").asInt()).isEqualTo(201);
            assertThat(entry.get("attempts").asInt()).isEqualTo(1);
            assertThat(entry.has("cache")).isTrue();
            assertThat(entry.at("/timing/upstream_ms").asDouble()).isPositive();
            assertThat(entry.at("/timing").has("queue_ms")).isTrue();
            assertThat(entry.at("/timing").has("cooldown_ms")).isTrue();

            JsonNode live = Admin.of(s, null).getJson("/api/upstreams/trace").get("live");
            assertThat(live.get("requests_last_minute").asInt()).isEqualTo(1);
            assertThat(live.get("requests_per_s").asDouble()).isPositive();
            assertThat(live.at("/latency_ms/p50").asDouble()).isPositive();
        }
    }

    @Test
    void purgeEmptiesTheCacheSoTheNextRequestGoesUpstream() throws Exception {
        try (MockWebServer server = new MockWebServer()) {
            server.start(java.net.InetAddress.getLoopbackAddress(), 0);
            for (int i = 0; i < 2; i++) {
                server.enqueue(new MockResponse.Builder()
                        .code(200)
                        .addHeader("Cache-Control", "max-age=600")
                        .body("v" + i)
                        .build());
            }
            Running s = start(upstream("crm", "http://127.0.0.1:" + server.getPort(), ""));

            assertThat(TestHttp.get(s.data("/crm/item")).body()).isEqualTo("v0");
            assertThat(TestHttp.get(s.data("/crm/item")).body()).isEqualTo("v0"); // a hit
            assertThat(server.getRequestCount()).isEqualTo(1);

            assertThat(Admin.of(s, null).post("/api/cache/purge", "{}").statusCode())
                    .as("a change: it needs the token first")
                    .isEqualTo(401);
            assertThat(Admin.of(s, TOKEN)
                            .post("/api/cache/purge", "{\"upstream\": \"nope\"}")
                            .statusCode())
                    .isEqualTo(404);
            HttpResponse<String> purge = Admin.of(s, TOKEN).post("/api/cache/purge", "{\"upstream\": \"crm\"}");
            assertThat(purge.statusCode()).isEqualTo(200);
            assertThat(Admin.json(purge).get("purged").asLong()).isEqualTo(1);

            assertThat(TestHttp.get(s.data("/crm/item")).body()).isEqualTo("v1");
            assertThat(server.getRequestCount()).isEqualTo(2);
        }
    }

    @Test
    void effectiveConfigShowsPoliciesButNotTheAdminToken() {
        Running s = start(upstream("crm", "http://127.0.0.1:9", "    limits: [{rate: 90/min, burst: 10}]\n"));
        HttpResponse<String> config = Admin.of(s, null).get("/api/config");
        assertThat(config.statusCode()).isEqualTo(200);
        assertThat(config.body()).doesNotContain(TOKEN);
        JsonNode root = Admin.json(config);
        assertThat(root.at("/admin/token").asText()).isEqualTo("(redacted)");
        assertThat(root.at("/upstreams/crm/limits/0/rate").asText()).isEqualTo("90/min");
        assertThat(root.at("/defaults/max_concurrency").asInt()).isEqualTo(32);
    }

    @Test
    void healthAndUiAreServedWithoutAToken() {
        Running s = start("");
        assertThat(Admin.of(s, null).get("/healthz").statusCode()).isEqualTo(200);
        HttpResponse<String> ui = Admin.of(s, null).get("/");
        assertThat(ui.statusCode()).isEqualTo(200);
        assertThat(ui.body()).contains("Sluice");
        assertThat(ui.headers().firstValue("Content-Security-Policy"))
                .hasValueSatisfying(csp -> assertThat(csp).contains("default-src 'self'"));
        assertThat(Admin.of(s, null)
                        .get("/webjars/chart.js/4.5.1/dist/chart.umd.min.js")
                        .statusCode())
                .as("Chart.js comes from its WebJar on the classpath")
                .isEqualTo(200);
    }
}
