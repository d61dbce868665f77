package io.sluice.limit;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.node.ObjectNode;
import io.sluice.testing.SluiceServerExtension;
import io.sluice.testing.TestHttp;
import io.sluice.testing.Upstream;
import io.sluice.time.FakeTimeSource;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import mockwebserver3.Dispatcher;
import mockwebserver3.MockResponse;
import mockwebserver3.MockWebServer;
import mockwebserver3.RecordedRequest;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code per: key} budgets in a real Sluice on fake time, in front of a real upstream: each tenant's
 * token has its own hour, the upstream as a whole keeps its cap, and the tokens themselves appear
 * nowhere Sluice shows or keeps anything.
 */
class KeyedBudgetsTest {
    private static final String ADMIN = "admin-token-for-keyed-budgets";
    private static final String TENANT_A = "Bearer ghp_tenantAAAAsecret0001";
    private static final String TENANT_B = "Bearer ghp_tenantBBBBsecret0002";
    private static final String TENANT_C = "Bearer ghp_tenantCCCCsecret0003";

    @RegisterExtension
    final SluiceServerExtension sluice = new SluiceServerExtension();

    private final FakeTimeSource time = new FakeTimeSource();
    private final MockWebServer upstream = Upstream.start();

    @BeforeEach
    void answerEveryRequest() {
        upstream.setDispatcher(new Dispatcher() {
            @Override
            public MockResponse dispatch(RecordedRequest request) {
                return Upstream.ok("application/json", "{}");
            }
        });
    }

    @AfterEach
    void stopUpstream() throws Exception {
        upstream.close();
    }

    private SluiceServerExtension.Running start(String policy, Path state) {
        return start(policy, state, Map.of());
    }

    private SluiceServerExtension.Running start(String policy, Path state, Map<String, String> env) {
        return sluice.start(
                """
                admin: {token: "%s", state_file: "%s"}
                upstreams:
                  github:
                    base_url: "%s"
                    allow_private: true
                    max_wait: 0s
                    retry: {max_attempts: 1}
                    key: header:Authorization
                %s""".formatted(
                                ADMIN,
                                state,
                                Upstream.origin(upstream),
                                policy.lines().map(l -> "    " + l + "\n").reduce("", String::concat)),
                env,
                time);
    }

    private static HttpResponse<String> get(SluiceServerExtension.Running s, String token) {
        HttpRequest.Builder request = HttpRequest.newBuilder(s.data("/github/user"));
        if (token != null) request.header("Authorization", token);
        return TestHttp.send(request.build());
    }

    private static HttpResponse<String> admin(
            SluiceServerExtension.Running s, String method, String path, String body) {
        HttpRequest.Builder request = HttpRequest.newBuilder(s.admin(path))
                .header("Authorization", "Bearer " + ADMIN)
                .method(
                        method,
                        body == null ? HttpRequest.BodyPublishers.noBody() : HttpRequest.BodyPublishers.ofString(body));
        if (body != null) request.header("Content-Type", "application/json");
        return TestHttp.send(request.build());
    }

    @Test
    void aTenantSpendingItsHourLeavesTheOtherTenantsBudgetAndTheUpstreamCapStillHoldsBoth(@TempDir Path dir) {
        var s = start("limits:\n  - {rate: 2/h, per: key}\n  - {rate: 5/h}", dir.resolve("state.json"));

        assertThat(get(s, TENANT_A).statusCode()).isEqualTo(200);
        assertThat(get(s, TENANT_A).statusCode()).isEqualTo(200);
        HttpResponse<String> refused = get(s, TENANT_A);
        assertThat(refused.statusCode()).isEqualTo(429);
        // 2/h: A's next token is due in exactly half an hour.
        assertThat(refused.headers().firstValue("Retry-After")).hasValue("1800");

        assertThat(get(s, TENANT_B).statusCode()).isEqualTo(200);
        assertThat(get(s, TENANT_B).statusCode()).isEqualTo(200);

        // Four of the upstream's five tokens are gone: C gets one, then the whole-upstream cap refuses
        // C although C's own hour is untouched.
        assertThat(get(s, TENANT_C).statusCode()).isEqualTo(200);
        HttpResponse<String> capped = get(s, TENANT_C);
        assertThat(capped.statusCode()).isEqualTo(429);
        assertThat(capped.headers().firstValue("Retry-After")).hasValue("720"); // 5/h: 12 minutes
        assertThat(upstream.getRequestCount()).isEqualTo(5);

        // Half an hour on, A has one token again.
        time.advance(java.time.Duration.ofMinutes(30));
        assertThat(get(s, TENANT_A).statusCode()).isEqualTo(200);
        assertThat(get(s, TENANT_A).statusCode()).isEqualTo(429);
    }

    /**
     * Head-of-line blocking across keys: A, its own bucket empty, has 50 requests waiting for their
     * tokens (A's next 50 seconds); B, whose bucket is full, is answered at once, without any time
     * passing, and A's waiters then go out one a second as A's own budget allows.
     */
    @Test
    void aTenantWithFiftyWaitingRequestsDoesNotDelayAnotherTenantWhoseBucketHasTokens(@TempDir Path dir)
            throws Exception {
        var s = start("limits:\n  - {rate: 1/s, burst: 1, per: key}\n  - {rate: 10/s, burst: 10}", dir.resolve("s"));
        assertThat(get(s, TENANT_A).statusCode()).isEqualTo(200);
        HttpClient client =
                HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1).build();
        List<java.util.concurrent.CompletableFuture<HttpResponse<String>>> waiting = new java.util.ArrayList<>();
        for (int i = 0; i < 50; i++) {
            waiting.add(client.sendAsync(
                    // Distinct paths: identical GETs would share one fetch (the cache's coalescing).
                    HttpRequest.newBuilder(s.data("/github/repos/" + i))
                            .header("Authorization", TENANT_A)
                            .header("Sluice-Max-Wait", "60000")
                            .build(),
                    HttpResponse.BodyHandlers.ofString()));
        }
        // All 50 are waiting in A's bucket (51 taken of its 1): A's tokens left are -50.
        long giveUpAt = System.nanoTime() + java.util.concurrent.TimeUnit.SECONDS.toNanos(60);
        while (aTokensLeft(s) != -50) {
            assertThat(System.nanoTime())
                    .as(
                            "A's 50 requests waiting: %s",
                            admin(s, "GET", "/api/upstreams/github", null).body())
                    .isLessThan(giveUpAt);
            java.util.concurrent.locks.LockSupport.parkNanos(10_000_000L);
        }
        assertThat(waiting).noneMatch(java.util.concurrent.CompletableFuture::isDone);

        HttpResponse<String> b = get(s, TENANT_B);
        assertThat(b.statusCode()).as("B is not held behind A's waiters").isEqualTo(200);
        assertThat(upstream.getRequestCount()).isEqualTo(2); // A's first and B's, at fake time zero
        // The upstream's 10/s bucket paid for those two only: A's waiters hold none of its tokens.
        String live = admin(s, "GET", "/api/upstreams/github", null).body();
        assertThat(TestHttp.JSON
                        .readTree(live)
                        .path("live")
                        .path("tokens_available")
                        .asLong())
                .isEqualTo(8);

        // One a second: each second lets exactly one more through (answered before the clock moves
        // on, so no timeout of the fake clock fires while the real upstream answers).
        for (int second = 1; second <= 50; second++) {
            time.advance(java.time.Duration.ofSeconds(1));
            while (waiting.stream()
                            .filter(java.util.concurrent.CompletableFuture::isDone)
                            .count()
                    < second) {
                assertThat(System.nanoTime())
                        .as("A's request of second %d", second)
                        .isLessThan(giveUpAt);
                java.util.concurrent.locks.LockSupport.parkNanos(5_000_000L);
            }
            assertThat(waiting.stream().filter(java.util.concurrent.CompletableFuture::isDone))
                    .hasSize(second);
        }
        for (var response : waiting) assertThat(response.join().statusCode()).isEqualTo(200);
        assertThat(upstream.getRequestCount()).isEqualTo(52);
    }

    /** Tokens left in the bucket of the key with the most requests (A's here). */
    private static long aTokensLeft(SluiceServerExtension.Running s) {
        String body = admin(s, "GET", "/api/upstreams/github", null).body();
        try {
            var busiest = TestHttp.JSON.readTree(body).path("live").path("keys").path("busiest");
            return busiest.isEmpty() ? 1 : busiest.get(0).path("tokens_left").asLong();
        } catch (java.io.IOException e) {
            throw new java.io.UncheckedIOException(e);
        }
    }

    @Test
    void requestsWithoutTheKeyShareTheNoKeyBudget(@TempDir Path dir) {
        var s = start("limits: [{rate: 2/h, per: key}]", dir.resolve("state.json"));

        assertThat(get(s, null).statusCode()).isEqualTo(200);
        assertThat(get(s, null).statusCode()).isEqualTo(200);
        assertThat(get(s, null).statusCode()).isEqualTo(429);
        // The keyless budget is one budget of its own, not a key's.
        assertThat(get(s, TENANT_A).statusCode()).isEqualTo(200);
    }

    @Test
    void batchItemsAreKeyedByTheirOwnHeaders(@TempDir Path dir) {
        var s = start("limits: [{rate: 1/h, per: key}]", dir.resolve("state.json"));
        String url = Upstream.origin(upstream) + "/user";
        var responses = TestHttp.batch(s.data("/v1/batch"), """
                        {"requests": [
                          {"id": "a1", "url": "%1$s", "headers": {"Authorization": "%2$s"}},
                          {"id": "b1", "url": "%1$s", "headers": {"Authorization": "%3$s"}},
                          {"id": "a2", "url": "%1$s", "headers": {"Authorization": "%2$s"}}
                        ], "concurrency": 1}
                        """.formatted(url, TENANT_A, TENANT_B))
                .get("responses");
        assertThat(responses.get(0).path("status").asInt()).isEqualTo(200);
        assertThat(responses.get(1).path("status").asInt()).isEqualTo(200);
        assertThat(responses.get(2).path("error").path("type").asText()).isEqualTo("rate_limited");
    }

    @Test
    void keysPastMaxKeysShareTheOverflowBudgetAndAreCounted(@TempDir Path dir) {
        var s = start("max_keys: 1\nlimits: [{rate: 1/h, per: key}]", dir.resolve("state.json"));

        assertThat(get(s, TENANT_A).statusCode()).isEqualTo(200);
        assertThat(get(s, TENANT_B).statusCode()).isEqualTo(200); // B: the overflow bucket's token
        assertThat(get(s, TENANT_C).statusCode()).isEqualTo(429); // C: the same overflow bucket, spent

        String metrics = TestHttp.get(s.admin("/metrics")).body();
        assertThat(metrics).containsPattern("sluice_key_overflow_total\\{[^}]*upstream=\"github\"[^}]*} 2\\.0");
        assertThat(admission(s).liveKeys("github")).isEqualTo(1);
    }

    @Test
    void rawKeysAppearNowhereSluiceShowsOrKeeps(@TempDir Path dir) throws Exception {
        Path state = dir.resolve("state.json");
        var s = start("limits: [{rate: 1/h, per: key}, {rate: 100/h}]", state);
        for (String token : List.of(TENANT_A, TENANT_A, TENANT_B)) get(s, token);

        // A live change is written to the state file.
        var config = (com.fasterxml.jackson.databind.node.ObjectNode) TestHttp.JSON
                .readTree(admin(s, "GET", "/api/upstreams/github", null).body())
                .get("config");
        assertThat(config.path("key").asText()).isEqualTo("header:Authorization");
        assertThat(config.path("limits").get(0).path("per").asText()).isEqualTo("key");
        config.put("max_keys", 500);
        HttpResponse<String> put = admin(s, "PUT", "/api/upstreams/github", config.toString());
        assertThat(put.statusCode()).as(put.body()).isEqualTo(200);
        assertThat(s.sluice().upstreams().get("github").orElseThrow().policy().maxKeys())
                .isEqualTo(500);

        List<String> shown = List.of(
                TestHttp.get(s.admin("/metrics")).body(),
                admin(s, "GET", "/api/upstreams", null).body(),
                admin(s, "GET", "/api/upstreams/github", null).body(),
                admin(s, "GET", "/api/requests/recent", null).body(),
                Files.readString(state));
        for (String text : shown) {
            for (String token : List.of(TENANT_A, TENANT_B)) {
                assertThat(text).doesNotContain(token).doesNotContain(token.substring("Bearer ".length()));
            }
        }
    }

    @Test
    void theAdminApiShowsTheBusiestKeysByLabelWithRequestsRefusalsAndTokensLeft(@TempDir Path dir) throws Exception {
        var s = start("max_keys: 50\nlimits: [{rate: 2/h, per: key}]", dir.resolve("state.json"));
        for (int i = 0; i < 3; i++) get(s, TENANT_A); // 2 admitted, 1 refused
        get(s, TENANT_B);
        get(s, null);

        String body = admin(s, "GET", "/api/upstreams/github", null).body();
        var keys = TestHttp.JSON.readTree(body).path("live").path("keys");
        assertThat(keys.path("live").asInt()).isEqualTo(2);
        assertThat(keys.path("max_keys").asInt()).isEqualTo(50);
        assertThat(keys.path("cooling_down").asInt()).isZero();
        var busiest = keys.path("busiest");
        assertThat(busiest).hasSize(3);
        assertThat(busiest.get(0).path("label").asText()).matches("[0-9a-f]{12}");
        assertThat(busiest.get(0).path("requests").asLong()).isEqualTo(3);
        assertThat(busiest.get(0).path("refusals").asLong()).isEqualTo(1);
        assertThat(busiest.get(0).path("tokens_left").asLong()).isZero();
        // B and the keyless budget: one request each, one token left; ties by label.
        assertThat(List.of(
                        busiest.get(1).path("label").asText(),
                        busiest.get(2).path("label").asText()))
                .contains("none")
                .anySatisfy(label -> assertThat(label).matches("[0-9a-f]{12}"));
        for (int i = 1; i < 3; i++) {
            assertThat(busiest.get(i).path("requests").asLong()).isEqualTo(1);
            assertThat(busiest.get(i).path("refusals").asLong()).isZero();
            assertThat(busiest.get(i).path("tokens_left").asLong()).isEqualTo(1);
        }
        for (String token : List.of(TENANT_A, TENANT_B)) {
            assertThat(body).doesNotContain(token.substring("Bearer ".length()));
        }
    }

    @Test
    void perKeyLimitsAreChangedLiveThroughTheAdminApiAndKeepEachKeysTokens(@TempDir Path dir) throws Exception {
        var s = start("limits: [{rate: 1/h, per: key}]", dir.resolve("state.json"));
        assertThat(get(s, TENANT_A).statusCode()).isEqualTo(200);
        assertThat(get(s, TENANT_A).statusCode()).isEqualTo(429);

        var config = (com.fasterxml.jackson.databind.node.ObjectNode) TestHttp.JSON
                .readTree(admin(s, "GET", "/api/upstreams/github", null).body())
                .get("config");
        config.set("limits", TestHttp.JSON.readTree("[{\"rate\": \"3/h\", \"per\": \"key\"}]"));
        HttpResponse<String> put = admin(s, "PUT", "/api/upstreams/github", config.toString());
        assertThat(put.statusCode()).as(put.body()).isEqualTo(200);

        // A's bucket keeps its tokens (none: a live change grants no fresh burst) but refills at the
        // new rate, a token every 20 minutes; B's new bucket holds the new burst of 3.
        HttpResponse<String> refused = get(s, TENANT_A);
        assertThat(refused.statusCode()).isEqualTo(429);
        assertThat(refused.headers().firstValue("Retry-After")).hasValue("1200");
        for (int i = 0; i < 3; i++) assertThat(get(s, TENANT_B).statusCode()).isEqualTo(200);
        assertThat(get(s, TENANT_B).statusCode()).isEqualTo(429);
        time.advance(java.time.Duration.ofMinutes(20));
        assertThat(get(s, TENANT_A).statusCode()).isEqualTo(200);
    }

    @Test
    void keyMetricsGiveTheBusiestKeysSeriesOfTheirOwnAndTheRestOneOtherSeries(@TempDir Path dir) throws Exception {
        var s = start("key_metrics: 2\nlimits: [{rate: 2/h, per: key}]", dir.resolve("state.json"));
        for (int i = 0; i < 4; i++) get(s, TENANT_A); // 2 admitted, 2 refused
        for (int i = 0; i < 3; i++) get(s, TENANT_B); // 2 admitted, 1 refused
        // 40 more keys, one request each: they all land in "other" with C's.
        for (int i = 0; i < 40; i++) get(s, "Bearer ghp_many" + i);
        get(s, TENANT_C);

        var busiest = TestHttp.JSON
                .readTree(admin(s, "GET", "/api/upstreams/github", null).body())
                .path("live")
                .path("keys")
                .path("busiest");
        String labelA = busiest.get(0).path("label").asText();
        String labelB = busiest.get(1).path("label").asText();

        String metrics = TestHttp.get(s.admin("/metrics")).body();
        List<String> series = metrics.lines()
                .filter(l -> l.startsWith("sluice_key_requests{"))
                .toList();
        // Fixed cardinality: the two busiest keys and "other", whatever the number of keys.
        assertThat(series).hasSize(3);
        assertThat(metrics)
                .containsPattern("sluice_key_requests\\{key=\"" + labelA + "\",upstream=\"github\"} 4\\.0")
                .containsPattern("sluice_key_requests\\{key=\"" + labelB + "\",upstream=\"github\"} 3\\.0")
                .containsPattern("sluice_key_requests\\{key=\"other\",upstream=\"github\"} 41\\.0")
                .containsPattern("sluice_key_refusals\\{key=\"" + labelA + "\",upstream=\"github\"} 2\\.0")
                .containsPattern("sluice_key_refusals\\{key=\"other\",upstream=\"github\"} 0\\.0");
        for (String token : List.of(TENANT_A, TENANT_B, TENANT_C)) {
            assertThat(metrics).doesNotContain(token.substring("Bearer ".length()));
        }
    }

    @Test
    void withoutKeyMetricsNoPerKeySeriesAreExported(@TempDir Path dir) {
        var s = start("limits: [{rate: 2/h, per: key}]", dir.resolve("state.json"));
        get(s, TENANT_A);
        get(s, TENANT_B);
        assertThat(TestHttp.get(s.admin("/metrics")).body())
                .doesNotContain("sluice_key_requests{")
                .doesNotContain("sluice_key_refusals{");
    }

    @Test
    void aTenantWithLimitsOfItsOwnGetsItsOwnRateAndTheOthersThePerKeyOne(@TempDir Path dir) throws Exception {
        Path state = dir.resolve("state.json");
        var s = start("""
                limits:
                  - {rate: 2/h, per: key}
                  - {rate: 100/h}
                key_limits:
                  - {key: "Bearer ${TENANT_A_TOKEN}", limits: [{rate: 5/h}]}
                """, state, Map.of("TENANT_A_TOKEN", TENANT_A.substring("Bearer ".length())));

        // A: its own five an hour, then refused with its own rate's wait (5/h: 12 minutes).
        for (int i = 0; i < 5; i++) assertThat(get(s, TENANT_A).statusCode()).isEqualTo(200);
        HttpResponse<String> refusedA = get(s, TENANT_A);
        assertThat(refusedA.statusCode()).isEqualTo(429);
        assertThat(refusedA.headers().firstValue("Retry-After")).hasValue("720");
        // B: the policy's per: key two an hour (half an hour per token).
        assertThat(get(s, TENANT_B).statusCode()).isEqualTo(200);
        assertThat(get(s, TENANT_B).statusCode()).isEqualTo(200);
        HttpResponse<String> refusedB = get(s, TENANT_B);
        assertThat(refusedB.statusCode()).isEqualTo(429);
        assertThat(refusedB.headers().firstValue("Retry-After")).hasValue("1800");
        assertThat(upstream.getRequestCount()).isEqualTo(7);

        time.advance(java.time.Duration.ofMinutes(12));
        assertThat(get(s, TENANT_A).statusCode()).isEqualTo(200);
        assertThat(get(s, TENANT_B).headers().firstValue("Retry-After")).hasValue("1080");

        // Shown as written, the template; the value appears nowhere Sluice shows or keeps anything.
        var shown = TestHttp.JSON
                .readTree(admin(s, "GET", "/api/upstreams/github", null).body())
                .path("config")
                .path("key_limits");
        assertThat(shown).hasSize(1);
        assertThat(shown.get(0).path("key").asText()).isEqualTo("Bearer ${TENANT_A_TOKEN}");
        assertThat(shown.get(0).path("limits").get(0).path("rate").asText()).isEqualTo("5/h");
        // Sent back unchanged, the entry still holds (the template is read from the environment again).
        ObjectNode config = (ObjectNode) TestHttp.JSON
                .readTree(admin(s, "GET", "/api/upstreams/github", null).body())
                .get("config");
        HttpResponse<String> put = admin(s, "PUT", "/api/upstreams/github", config.toString());
        assertThat(put.statusCode()).as(put.body()).isEqualTo(200);
        time.advance(java.time.Duration.ofMinutes(12));
        assertThat(get(s, TENANT_A).statusCode()).isEqualTo(200);
        assertThat(get(s, TENANT_A).statusCode()).isEqualTo(429);
        // A variable the config's key_limits did not use cannot be brought in through the admin API.
        ((ObjectNode) config.get("key_limits").get(0)).put("key", "${HOME}");
        HttpResponse<String> newVariable = admin(s, "PUT", "/api/upstreams/github", config.toString());
        assertThat(newVariable.statusCode()).isEqualTo(400);
        assertThat(newVariable.body()).contains("upstreams.github.key_limits[0].key");
        String bare = TENANT_A.substring("Bearer ".length());
        for (String seen : List.of(
                TestHttp.get(s.admin("/metrics")).body(),
                admin(s, "GET", "/api/upstreams", null).body(),
                admin(s, "GET", "/api/upstreams/github", null).body(),
                admin(s, "GET", "/api/config", null).body(),
                Files.readString(state))) {
            assertThat(seen).doesNotContain(bare);
        }
    }

    @Test
    void anOperatorGivesOneKeyItsOwnLimitsLiveByItsLabel(@TempDir Path dir) throws Exception {
        var s = start("limits: [{rate: 2/h, per: key}]", dir.resolve("state.json"));
        get(s, TENANT_A);
        for (int i = 0; i < 3; i++) get(s, TENANT_B);
        assertThat(get(s, TENANT_B).headers().firstValue("Retry-After")).hasValue("1800");
        // The busiest key is B: its label is all the operator sees, and all it needs.
        var busiest = TestHttp.JSON
                .readTree(admin(s, "GET", "/api/upstreams/github", null).body())
                .path("live")
                .path("keys")
                .path("busiest");
        String labelB = busiest.get(0).path("label").asText();
        assertThat(busiest.get(0).path("requests").asLong()).isEqualTo(4);

        ObjectNode config = (ObjectNode) TestHttp.JSON
                .readTree(admin(s, "GET", "/api/upstreams/github", null).body())
                .get("config");
        // A bad label is refused, naming the entry.
        config.putArray("key_limits")
                .addObject()
                .put("label", "not-a-label")
                .putArray("limits")
                .addObject()
                .put("rate", "4/h");
        HttpResponse<String> bad = admin(s, "PUT", "/api/upstreams/github", config.toString());
        assertThat(bad.statusCode()).isEqualTo(400);
        assertThat(bad.body()).contains("upstreams.github.key_limits[0].label");
        config.putArray("key_limits")
                .addObject()
                .put("label", labelB)
                .putArray("limits")
                .addObject()
                .put("rate", "4/h");
        HttpResponse<String> put = admin(s, "PUT", "/api/upstreams/github", config.toString());
        assertThat(put.statusCode()).as(put.body()).isEqualTo(200);

        // B keeps its (empty) bucket, which now refills at 4/h: its next token in 15 minutes, not 30.
        assertThat(get(s, TENANT_B).headers().firstValue("Retry-After")).hasValue("900");
        time.advance(java.time.Duration.ofMinutes(15));
        assertThat(get(s, TENANT_B).statusCode()).isEqualTo(200);
        // A still has the policy's 2/h: 1.5 tokens after 15 minutes, so one and then 15 minutes for
        // the missing half (at 4/h it would be 7.5).
        assertThat(get(s, TENANT_A).statusCode()).isEqualTo(200);
        assertThat(get(s, TENANT_A).headers().firstValue("Retry-After")).hasValue("900");
        assertThat(TestHttp.JSON
                        .readTree(admin(s, "GET", "/api/upstreams/github", null).body())
                        .path("config")
                        .path("key_limits")
                        .get(0)
                        .path("label")
                        .asText())
                .isEqualTo(labelB);
    }

    private static AdmissionStage admission(SluiceServerExtension.Running s) {
        return s.sluice().pipeline().stages().stream()
                .filter(AdmissionStage.class::isInstance)
                .map(AdmissionStage.class::cast)
                .findFirst()
                .orElseThrow();
    }
}
