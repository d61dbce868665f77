package io.sluice.limit;

import static org.assertj.core.api.Assertions.assertThat;

import io.sluice.config.Interpolated;
import io.sluice.config.RedisConfig;
import io.sluice.fetch.ErrorType;
import io.sluice.fetch.FetchFailure;
import io.sluice.fetch.FetchRequest;
import io.sluice.fetch.FetchResponse;
import io.sluice.fetch.RequestBody;
import io.sluice.time.FakeTimeSource;
import java.time.Duration;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

/**
 * {@code free_304} in shared mode, against a real {@code redis-server}: the revalidation allowance
 * is one bucket in Redis for every sidecar, so two replicas together get the tenth of the budget
 * that one would, not a tenth each. Bucket arithmetic runs on the shared fake clock.
 */
class SharedFree304Test {
    private final FakeTimeSource time = new FakeTimeSource();

    private SharedLimits sidecar(RedisServer redis) {
        return SharedLimits.connect(
                new RedisConfig(
                        Interpolated.literal(redis.uri()),
                        0.5,
                        Duration.ofSeconds(5),
                        "sluice:",
                        java.util.Optional.empty()),
                time);
    }

    private static FetchRequest revalidation() {
        return Harness.request("GET", "/doc", RequestBody.empty(), "If-None-Match", "\"v1\"");
    }

    @Test
    void twoSidecarsShareOneRevalidationAllowance() throws Exception {
        try (RedisServer redis = RedisServer.start();
                SharedLimits one = sidecar(redis);
                SharedLimits two = sidecar(redis)) {
            SharedModeKit.awaitRedis(one, time, Duration.ofSeconds(15));
            SharedModeKit.awaitRedis(two, time, Duration.ofSeconds(15));
            // One token a minute for the fleet; the allowance a tenth of it: one token, back in 10 min.
            String policy = "limits: [{rate: 1/min, burst: 1}]\nfree_304: true\nmax_wait: 0s";
            Harness a = Harness.of(time, policy, AdmissionStage.shared(one, time, Runnable::run));
            Harness b = Harness.of(time, policy, AdmissionStage.shared(two, time, Runnable::run));
            a.upstream.enqueue(304);
            b.upstream.enqueue(304);

            var first = a.execute(revalidation()).get(5, TimeUnit.SECONDS);
            assertThat(first).isInstanceOf(FetchResponse.class);
            assertThat(((FetchResponse) first).status())
                    .as("free: the allowance's token")
                    .isEqualTo(304);

            var second = b.execute(revalidation()).get(5, TimeUnit.SECONDS);
            assertThat(second)
                    .as("the other sidecar finds the shared allowance spent and takes the bucket's token")
                    .isInstanceOf(FetchResponse.class);

            var plain = a.execute(Harness.get("/other")).get(5, TimeUnit.SECONDS);
            assertThat(plain)
                    .as("the bucket's one token went to the second revalidation")
                    .isInstanceOfSatisfying(
                            FetchFailure.class, f -> assertThat(f.type()).isEqualTo(ErrorType.RATE_LIMITED));

            time.advance(Duration.ofMinutes(10)); // the allowance has its token again; so has the bucket
            b.upstream.enqueue(304);
            var third = b.execute(revalidation()).get(5, TimeUnit.SECONDS);
            assertThat(((FetchResponse) third).status()).isEqualTo(304);
            assertThat(SharedModeKit.admitted(a.execute(Harness.get("/after"))))
                    .as("the free revalidation left the bucket's token alone")
                    .isEqualTo(1);
            assertThat(one.usingRedis()).isTrue();
            assertThat(two.usingRedis()).isTrue();
            assertThat(a.upstream.count() + b.upstream.count()).isEqualTo(4);
        }
    }
}
