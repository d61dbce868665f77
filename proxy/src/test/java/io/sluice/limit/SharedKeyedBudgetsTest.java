package io.sluice.limit;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.lettuce.core.RedisClient;
import io.lettuce.core.api.StatefulRedisConnection;
import io.sluice.testing.SluiceServerExtension;
import io.sluice.testing.TestHttp;
import io.sluice.testing.Upstream;
import io.sluice.time.FakeTimeSource;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import mockwebserver3.Dispatcher;
import mockwebserver3.MockResponse;
import mockwebserver3.MockWebServer;
import mockwebserver3.RecordedRequest;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * {@code per: key} budgets in shared mode: two whole Sluice servers, as two replicas' sidecars,
 * label keys under the same {@code redis.key_secret}, so each key has one budget in a real Redis
 * for both, and Redis holds labels, never the keys themselves.
 */
class SharedKeyedBudgetsTest {
    private static final String TENANT_A = "Bearer ghp_tenantAAAAsecret0001";
    private static final String TENANT_B = "Bearer ghp_tenantBBBBsecret0002";
    private static final String SECRET = "a-key-secret-shared-by-every-replica";

    @RegisterExtension
    final SluiceServerExtension sluice = new SluiceServerExtension();

    private static int get(SluiceServerExtension.Running via, String token) {
        HttpRequest.Builder request = HttpRequest.newBuilder(via.data("/github/user"));
        if (token != null) request.header("Authorization", token);
        return TestHttp.send(request.build()).statusCode();
    }

    @Test
    void twoSidecarsWithOneKeySecretSpendOneBudgetPerKeyInRedis() throws Exception {
        try (RedisServer redis = RedisServer.start();
                MockWebServer upstream = Upstream.start()) {
            upstream.setDispatcher(new Dispatcher() {
                @Override
                public MockResponse dispatch(RecordedRequest request) {
                    return Upstream.ok("application/json", "{}");
                }
            });
            String config = """
                    redis: {uri: "%s", key_secret: "${SLUICE_KEY_SECRET}", timeout: 5s}
                    upstreams:
                      github:
                        base_url: "%s"
                        allow_private: true
                        key: header:Authorization
                        limits: [{rate: 3/h, per: key}, {rate: 100/h}]
                        max_wait: 0s
                        retry: {max_attempts: 1}
                        cache: {enabled: false}
                    """.formatted(redis.uri(), Upstream.origin(upstream));
            // timeout: 5s: on a loaded machine a first compare-and-swap can outlast the 50 ms default,
            // and the fail-over to local buckets (tested elsewhere) would blur the count.
            Map<String, String> env = Map.of("SLUICE_KEY_SECRET", SECRET);
            var first = sluice.start(config, env, io.sluice.time.TimeSource.system());
            var second = sluice.start(config, env, io.sluice.time.TimeSource.system());
            for (var s : List.of(first, second)) {
                await().atMost(Duration.ofSeconds(15))
                        .until(() -> TestHttp.get(s.admin("/readyz")).statusCode() == 200);
            }

            // Tenant A alternates between the sidecars: three tokens in all, not three each.
            int servedA = 0;
            for (int i = 0; i < 6; i++) {
                if (get(i % 2 == 0 ? first : second, TENANT_A) == 200) servedA++;
            }
            assertThat(servedA).isEqualTo(3);
            // Tenant B's budget is its own, also across sidecars.
            assertThat(get(second, TENANT_B)).isEqualTo(200);
            assertThat(get(first, TENANT_B)).isEqualTo(200);
            assertThat(get(second, TENANT_B)).isEqualTo(200);
            assertThat(get(first, TENANT_B)).isEqualTo(429);
            assertThat(upstream.getRequestCount()).isEqualTo(6);

            RedisClient client = RedisClient.create(redis.uri());
            try (StatefulRedisConnection<String, String> c = client.connect()) {
                List<String> keys = c.sync().keys("*");
                assertThat(keys)
                        .filteredOn(k -> k.matches("sluice:bucket:github:key:[0-9a-f]{12}"))
                        .hasSize(2);
                for (String key : keys) {
                    String value =
                            c.sync().type(key).equals("string") ? c.sync().get(key) : "";
                    for (String raw : List.of(TENANT_A, TENANT_B, SECRET)) {
                        String bare = raw.startsWith("Bearer ") ? raw.substring("Bearer ".length()) : raw;
                        assertThat(key).doesNotContain(bare);
                        assertThat(value).doesNotContain(bare);
                    }
                }
            } finally {
                client.shutdown();
            }

            // The secret is shown nowhere either.
            for (var s : List.of(first, second)) {
                assertThat(TestHttp.get(s.admin("/metrics")).body()).doesNotContain(SECRET);
                var shown = TestHttp.get(s.admin("/api/config"));
                assertThat(shown.statusCode()).isEqualTo(200);
                assertThat(shown.body()).contains("\"redis\"").doesNotContain(SECRET);
            }
        }
    }

    /**
     * {@code cooldown: key} in shared mode: a {@code Retry-After} for tenant A's token seen through
     * one sidecar pauses A on the other too (Redis holds the pause under A's label, expiring with
     * it), and pauses no other key. Both sidecars run on one fake clock.
     */
    @Test
    void aKeysPauseSeenByOneSidecarPausesThatKeyOnEverySidecarAndNoOther() throws Exception {
        FakeTimeSource time = new FakeTimeSource();
        Set<String> refuseOnce = ConcurrentHashMap.newKeySet();
        refuseOnce.add(TENANT_A);
        try (RedisServer redis = RedisServer.start();
                MockWebServer upstream = Upstream.start()) {
            upstream.setDispatcher(new Dispatcher() {
                @Override
                public MockResponse dispatch(RecordedRequest request) {
                    String token = request.getHeaders().get("Authorization");
                    if (token != null && refuseOnce.remove(token)) {
                        return new MockResponse.Builder()
                                .code(429)
                                .addHeader("Retry-After", "60")
                                .build();
                    }
                    return Upstream.ok("application/json", "{}");
                }
            });
            String config = """
                    redis: {uri: "%s", key_secret: "${SLUICE_KEY_SECRET}", timeout: 5s}
                    upstreams:
                      github:
                        base_url: "%s"
                        allow_private: true
                        key: header:Authorization
                        cooldown: key
                        limits: [{rate: 100/s, per: key}]
                        max_wait: 0s
                        retry: {max_attempts: 1}
                        cache: {enabled: false}
                    """.formatted(redis.uri(), Upstream.origin(upstream));
            Map<String, String> env = Map.of("SLUICE_KEY_SECRET", SECRET);
            var first = sluice.start(config, env, time);
            var second = sluice.start(config, env, time);
            for (var s : List.of(first, second)) {
                await().atMost(Duration.ofSeconds(15))
                        .until(() -> TestHttp.get(s.admin("/readyz")).statusCode() == 200);
            }

            assertThat(get(first, TENANT_A)).isEqualTo(429); // the upstream's own answer, through the first
            RedisClient client = RedisClient.create(redis.uri());
            try (StatefulRedisConnection<String, String> c = client.connect()) {
                await().atMost(Duration.ofSeconds(10))
                        .until(() ->
                                !c.sync().keys("sluice:cooldown:github:key:*").isEmpty());
                List<String> pauses = c.sync().keys("sluice:cooldown:*");
                // One pause, under A's label: not the upstream's, and neither token nor secret in it.
                assertThat(pauses)
                        .singleElement()
                        .satisfies(k -> assertThat(k).matches("sluice:cooldown:github:key:[0-9a-f]{12}"));
                String key = pauses.get(0);
                assertThat(c.sync().pttl(key)).isBetween(1L, 60_001L); // it expires with the pause
                for (String raw : List.of("ghp_tenantAAAAsecret0001", SECRET)) {
                    assertThat(key).doesNotContain(raw);
                    assertThat(c.sync().get(key)).doesNotContain(raw);
                }
            } finally {
                client.shutdown();
            }

            // The second sidecar refuses A itself, with the pause's own Retry-After...
            HttpResponse<String> paused = TestHttp.send(HttpRequest.newBuilder(second.data("/github/user"))
                    .header("Authorization", TENANT_A)
                    .build());
            assertThat(paused.statusCode()).isEqualTo(429);
            assertThat(paused.headers().firstValue("Retry-After")).hasValue("60");
            assertThat(upstream.getRequestCount()).isEqualTo(1);
            // ...and lets B and keyless requests through, on both sidecars.
            assertThat(get(second, TENANT_B)).isEqualTo(200);
            assertThat(get(first, TENANT_B)).isEqualTo(200);
            assertThat(get(second, null)).isEqualTo(200);
            assertThat(admission(first).cooldownRemaining("github")).isZero();
            assertThat(admission(second).cooldownRemaining("github")).isZero();
            assertThat(admission(second).keysCoolingDown("github")).isEqualTo(1);

            time.advance(Duration.ofSeconds(59));
            assertThat(TestHttp.send(HttpRequest.newBuilder(second.data("/github/user"))
                                    .header("Authorization", TENANT_A)
                                    .build())
                            .headers()
                            .firstValue("Retry-After"))
                    .hasValue("1");
            time.advance(Duration.ofSeconds(1));
            assertThat(get(second, TENANT_A)).isEqualTo(200);
            assertThat(get(first, TENANT_A)).isEqualTo(200);
        }
    }

    /**
     * {@code key_limits} in shared mode: tenant A, given by value through {@code ${ENV}}, has its own
     * 5 an hour in Redis for both sidecars, tenant B the policy's 2.
     */
    @Test
    void aKeyWithLimitsOfItsOwnSpendsThemOnceAcrossSidecars() throws Exception {
        try (RedisServer redis = RedisServer.start();
                MockWebServer upstream = Upstream.start()) {
            upstream.setDispatcher(new Dispatcher() {
                @Override
                public MockResponse dispatch(RecordedRequest request) {
                    return Upstream.ok("application/json", "{}");
                }
            });
            String config = """
                    redis: {uri: "%s", key_secret: "${SLUICE_KEY_SECRET}", timeout: 5s}
                    upstreams:
                      github:
                        base_url: "%s"
                        allow_private: true
                        key: header:Authorization
                        limits: [{rate: 2/h, per: key}]
                        key_limits: [{key: "Bearer ${TENANT_A_TOKEN}", limits: [{rate: 5/h}]}]
                        max_wait: 0s
                        retry: {max_attempts: 1}
                        cache: {enabled: false}
                    """.formatted(redis.uri(), Upstream.origin(upstream));
            Map<String, String> env =
                    Map.of("SLUICE_KEY_SECRET", SECRET, "TENANT_A_TOKEN", TENANT_A.substring("Bearer ".length()));
            var first = sluice.start(config, env, io.sluice.time.TimeSource.system());
            var second = sluice.start(config, env, io.sluice.time.TimeSource.system());
            for (var s : List.of(first, second)) {
                await().atMost(Duration.ofSeconds(15))
                        .until(() -> TestHttp.get(s.admin("/readyz")).statusCode() == 200);
            }

            int servedA = 0;
            int servedB = 0;
            for (int i = 0; i < 8; i++) {
                if (get(i % 2 == 0 ? first : second, TENANT_A) == 200) servedA++;
                if (get(i % 2 == 0 ? second : first, TENANT_B) == 200) servedB++;
            }
            assertThat(servedA).isEqualTo(5);
            assertThat(servedB).isEqualTo(2);
            assertThat(upstream.getRequestCount()).isEqualTo(7);
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
