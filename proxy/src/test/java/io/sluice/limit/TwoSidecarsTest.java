package io.sluice.limit;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.sluice.testing.SluiceServerExtension;
import io.sluice.testing.TestHttp;
import io.sluice.testing.Upstream;
import java.time.Duration;
import mockwebserver3.Dispatcher;
import mockwebserver3.MockResponse;
import mockwebserver3.MockWebServer;
import mockwebserver3.RecordedRequest;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/** Two whole Sluice servers, as two replicas' sidecars, spend one budget kept in a real Redis. */
class TwoSidecarsTest {
    @RegisterExtension
    final SluiceServerExtension sluice = new SluiceServerExtension();

    @Test
    void twoSidecarsSharingRedisNeverExceedOneBudgetTogether() throws Exception {
        try (RedisServer redis = RedisServer.start()) {
            spendOneBudgetFromTwoSidecars(redis.uri());
        }
    }

    /** The same scenario against Redis in a container, where a Docker engine exists (not on our CI). */
    @Test
    void twoSidecarsSharingARedisContainerNeverExceedOneBudgetTogether() throws Exception {
        org.junit.jupiter.api.Assumptions.assumeTrue(
                org.testcontainers.DockerClientFactory.instance().isDockerAvailable(),
                "No Docker engine reachable: skipping the container variant; the same scenario runs against a"
                        + " local redis-server in twoSidecarsSharingRedisNeverExceedOneBudgetTogether");
        try (var redis =
                new org.testcontainers.containers.GenericContainer<>("redis:7-alpine").withExposedPorts(6379)) {
            redis.start();
            spendOneBudgetFromTwoSidecars("redis://" + redis.getHost() + ":" + redis.getMappedPort(6379));
        }
    }

    private void spendOneBudgetFromTwoSidecars(String redisUri) throws Exception {
        try (MockWebServer upstream = Upstream.start()) {
            upstream.setDispatcher(new Dispatcher() {
                @Override
                public MockResponse dispatch(RecordedRequest request) {
                    return Upstream.ok("text/plain", "ok");
                }
            });
            String config = """
                    redis: {uri: "%s", timeout: 2s}
                    upstreams:
                      partner:
                        base_url: "%s"
                        allow_private: true
                        limits: [{rate: 5/h, burst: 5}]
                        max_wait: 0s
                        cache: {enabled: false}
                    """.formatted(redisUri, Upstream.origin(upstream));
            var first = sluice.start(config);
            var second = sluice.start(config);
            // Ready, and deciding through Redis: a sidecar starts on its local share until its first
            // PING is answered (so it starts while Redis is down), and that share admits on its own.
            for (var s : java.util.List.of(first, second)) {
                await().atMost(Duration.ofSeconds(15))
                        .until(() -> TestHttp.get(s.admin("/readyz")).statusCode() == 200
                                && TestHttp.get(s.admin("/metrics")).body().contains("sluice_shared_limits_up 1.0"));
            }

            int served = 0;
            int refused = 0;
            for (int i = 0; i < 12; i++) {
                var via = i % 2 == 0 ? first : second;
                int status = TestHttp.get(via.data("/partner/item/" + i)).statusCode();
                if (status == 200) served++;
                if (status == 429) refused++;
            }

            for (var s : java.util.List.of(first, second)) {
                assertThat(TestHttp.get(s.admin("/metrics")).body())
                        .as("no sidecar fell back to its local share")
                        .contains("sluice_shared_limits_failovers_total 0.0");
            }
            assertThat(served).isEqualTo(5);
            assertThat(refused).isEqualTo(7);
            assertThat(upstream.getRequestCount()).isEqualTo(5);
        }
    }
}
