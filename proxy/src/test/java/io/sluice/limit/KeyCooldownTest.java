package io.sluice.limit;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.sluice.testing.SluiceServerExtension;
import io.sluice.testing.TestHttp;
import io.sluice.testing.Upstream;
import io.sluice.time.FakeTimeSource;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import mockwebserver3.Dispatcher;
import mockwebserver3.MockResponse;
import mockwebserver3.MockWebServer;
import mockwebserver3.RecordedRequest;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * {@code cooldown: key} in a real Sluice on fake time, in front of a real upstream that counts per
 * token: the first request of each token listed in {@link #refuseOnce} is answered {@code 429} with
 * {@code Retry-After: 60}, everything else {@code 200}.
 */
class KeyCooldownTest {
    private static final String TENANT_A = "Bearer ghp_tenantAAAAsecret0001";
    private static final String TENANT_B = "Bearer ghp_tenantBBBBsecret0002";
    private static final String TENANT_C = "Bearer ghp_tenantCCCCsecret0003";

    @RegisterExtension
    final SluiceServerExtension sluice = new SluiceServerExtension();

    private final FakeTimeSource time = new FakeTimeSource();
    private final MockWebServer upstream = Upstream.start();
    private final Set<String> refuseOnce = ConcurrentHashMap.newKeySet();

    @BeforeEach
    void answerPerToken() {
        upstream.setDispatcher(new Dispatcher() {
            @Override
            public MockResponse dispatch(RecordedRequest request) {
                String token = request.getHeaders().get("Authorization");
                if (token != null && refuseOnce.remove(token)) {
                    return new MockResponse.Builder()
                            .code(429)
                            .addHeader("Retry-After", "60")
                            .body("token over its limit")
                            .build();
                }
                return Upstream.ok("application/json", "{}");
            }
        });
    }

    @AfterEach
    void stopUpstream() throws Exception {
        upstream.close();
    }

    private SluiceServerExtension.Running start(String policy) {
        return sluice.start(
                """
                upstreams:
                  github:
                    base_url: "%s"
                    allow_private: true
                    max_wait: 0s
                    retry: {max_attempts: 1}
                    key: header:Authorization
                    limits: [{rate: 100/s}]
                %s""".formatted(
                                Upstream.origin(upstream),
                                policy.lines().map(l -> "    " + l + "\n").reduce("", String::concat)),
                Map.of(),
                time);
    }

    private static HttpRequest get(SluiceServerExtension.Running s, String token, String maxWait) {
        HttpRequest.Builder request = HttpRequest.newBuilder(s.data("/github/user"));
        if (token != null) request.header("Authorization", token);
        if (maxWait != null) request.header("Sluice-Max-Wait", maxWait);
        return request.build();
    }

    private static HttpResponse<String> get(SluiceServerExtension.Running s, String token) {
        return TestHttp.send(get(s, token, null));
    }

    @Test
    void aRetryAfterPausesOnlyTheKeyWhoseResponseCarriedIt() {
        var s = start("cooldown: key");
        refuseOnce.add(TENANT_A);

        assertThat(get(s, TENANT_A).statusCode()).isEqualTo(429); // the upstream's own answer
        HttpResponse<String> paused = get(s, TENANT_A);
        assertThat(paused.statusCode()).isEqualTo(429);
        assertThat(paused.headers().firstValue("Retry-After")).hasValue("60");
        assertThat(paused.headers().firstValue("Proxy-Status"))
                .hasValueSatisfying(v -> assertThat(v).contains("sluice"));
        assertThat(upstream.getRequestCount()).isEqualTo(1); // Sluice refused A itself

        // Tenant B, and requests without the key, are not paused.
        assertThat(get(s, TENANT_B).statusCode()).isEqualTo(200);
        assertThat(get(s, null).statusCode()).isEqualTo(200);
        assertThat(admission(s).cooldownRemaining("github")).isZero();
        assertThat(admission(s).keysCoolingDown("github")).isEqualTo(1);

        time.advance(Duration.ofSeconds(59));
        assertThat(get(s, TENANT_A).headers().firstValue("Retry-After")).hasValue("1");
        time.advance(Duration.ofSeconds(1));
        assertThat(get(s, TENANT_A).statusCode()).isEqualTo(200);
        // The pause ended and its entry with it.
        assertThat(admission(s).keysCoolingDown("github")).isZero();
    }

    @Test
    void aRequestOfAPausedKeyWaitsForTheEndWhenItsBudgetAllows() throws Exception {
        // A total timeout past the minute of the pause, so that only the cooldown decides.
        var s = start("cooldown: key\ntimeouts: {connect: 5s, response: 30s, total: 5m}");
        refuseOnce.add(TENANT_A);
        assertThat(get(s, TENANT_A).statusCode()).isEqualTo(429);

        int timers = time.pendingTimers();
        CompletableFuture<HttpResponse<String>> waiting = HttpClient.newBuilder()
                .proxy(HttpClient.Builder.NO_PROXY)
                .build()
                .sendAsync(get(s, TENANT_A, "120000"), HttpResponse.BodyHandlers.ofString());
        await().atMost(10, TimeUnit.SECONDS).until(() -> time.pendingTimers() > timers);
        assertThat(waiting).isNotDone();
        assertThat(upstream.getRequestCount()).isEqualTo(1);

        time.advance(Duration.ofSeconds(60));
        HttpResponse<String> admitted = waiting.get(10, TimeUnit.SECONDS);
        assertThat(admitted.statusCode()).isEqualTo(200);
        assertThat(admitted.headers().firstValue("Server-Timing"))
                .hasValueSatisfying(v -> assertThat(v).contains("cooldown;dur=60000.0"));
        assertThat(upstream.getRequestCount()).isEqualTo(2);
    }

    @Test
    void withTheDefaultScopeARetryAfterPausesTheWholeUpstream() {
        var s = start("");
        refuseOnce.add(TENANT_A);

        assertThat(get(s, TENANT_A).statusCode()).isEqualTo(429);
        HttpResponse<String> b = get(s, TENANT_B);
        assertThat(b.statusCode()).isEqualTo(429);
        assertThat(b.headers().firstValue("Retry-After")).hasValue("60");
        assertThat(upstream.getRequestCount()).isEqualTo(1);
    }

    @Test
    void pastMaxKeysCoolingAtOnceAPauseFallsBackToTheWholeUpstream() {
        var s = start("cooldown: key\nmax_keys: 1");
        refuseOnce.add(TENANT_A);
        refuseOnce.add(TENANT_B);

        assertThat(get(s, TENANT_A).statusCode()).isEqualTo(429); // A: paused on its own
        assertThat(get(s, TENANT_C).statusCode()).isEqualTo(200);
        assertThat(get(s, TENANT_B).statusCode()).isEqualTo(429); // B: the table is full
        assertThat(admission(s).keysCoolingDown("github")).isEqualTo(1);
        assertThat(admission(s).cooldownRemaining("github")).isEqualTo(Duration.ofSeconds(60));

        HttpResponse<String> c = get(s, TENANT_C);
        assertThat(c.statusCode()).isEqualTo(429);
        assertThat(c.headers().firstValue("Retry-After")).hasValue("60");
        assertThat(upstream.getRequestCount()).isEqualTo(3);
    }

    @Test
    void keysPausedOnTheirOwnAppearByLabelOnlyInLogsMetricsAdminApiAndStateFile(
            @org.junit.jupiter.api.io.TempDir java.nio.file.Path dir) throws Exception {
        java.nio.file.Path state = dir.resolve("state.json");
        List<String> logged = new java.util.concurrent.CopyOnWriteArrayList<>();
        java.util.logging.Logger root = java.util.logging.Logger.getLogger("io.sluice");
        java.util.logging.Handler capture = new java.util.logging.Handler() {
            @Override
            public void publish(java.util.logging.LogRecord record) {
                logged.add(new java.util.logging.SimpleFormatter().format(record));
            }

            @Override
            public void flush() {}

            @Override
            public void close() {}
        };
        root.addHandler(capture);
        try {
            var s = sluice.start("""
                    admin: {token: "key-cooldown-admin-token", state_file: "%s"}
                    log: {access: true}
                    upstreams:
                      github:
                        base_url: "%s"
                        allow_private: true
                        max_wait: 0s
                        max_cooldown: 30s
                        retry: {max_attempts: 1}
                        key: header:Authorization
                        cooldown: key
                        key_metrics: 3
                        limits: [{rate: 100/s}, {rate: 100/h, per: key}]
                    """.formatted(state, Upstream.origin(upstream)), Map.of(), time);
            refuseOnce.add(TENANT_A);
            get(s, TENANT_A); // 429 Retry-After: 60, capped at 30 s: a WARNING is logged
            get(s, TENANT_A); // refused by Sluice: A is paused
            get(s, TENANT_B);
            // A live change, so that the state file is written.
            var config = (com.fasterxml.jackson.databind.node.ObjectNode) TestHttp.JSON
                    .readTree(TestHttp.get(s.admin("/api/upstreams/github")).body())
                    .get("config");
            config.put("max_keys", 500);
            HttpResponse<String> put = TestHttp.send(HttpRequest.newBuilder(s.admin("/api/upstreams/github"))
                    .header("Authorization", "Bearer key-cooldown-admin-token")
                    .header("Content-Type", "application/json")
                    .PUT(HttpRequest.BodyPublishers.ofString(config.toString()))
                    .build());
            assertThat(put.statusCode()).as(put.body()).isEqualTo(200);

            String upstreamJson = TestHttp.get(s.admin("/api/upstreams/github")).body();
            assertThat(TestHttp.JSON
                            .readTree(upstreamJson)
                            .path("live")
                            .path("keys")
                            .path("cooling_down")
                            .asInt())
                    .isEqualTo(1);
            assertThat(logged).anySatisfy(line -> assertThat(line).contains("capped at max_cooldown"));
            List<String> shown = List.of(
                    String.join("\n", logged),
                    TestHttp.get(s.admin("/metrics")).body(),
                    upstreamJson,
                    TestHttp.get(s.admin("/api/upstreams")).body(),
                    TestHttp.get(s.admin("/api/requests/recent")).body(),
                    java.nio.file.Files.readString(state));
            for (String text : shown) {
                for (String token : List.of(TENANT_A, TENANT_B)) {
                    assertThat(text).doesNotContain(token.substring("Bearer ".length()));
                }
            }
        } finally {
            root.removeHandler(capture);
        }
    }

    private static AdmissionStage admission(SluiceServerExtension.Running s) {
        return s.sluice().pipeline().stages().stream()
                .filter(AdmissionStage.class::isInstance)
                .map(AdmissionStage.class::cast)
                .findFirst()
                .orElseThrow();
    }
}
