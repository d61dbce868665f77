package io.sluice.limit;

import static org.assertj.core.api.Assertions.assertThat;

import io.lettuce.core.RedisClient;
import io.lettuce.core.api.StatefulRedisConnection;
import io.sluice.config.Interpolated;
import io.sluice.config.RateLimit;
import io.sluice.config.RedisConfig;
import io.sluice.fetch.FetchFailure;
import io.sluice.fetch.FetchOutcome;
import io.sluice.fetch.FetchResponse;
import io.sluice.time.FakeTimeSource;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.locks.LockSupport;
import org.junit.jupiter.api.Test;

/**
 * Shared mode against a real {@code redis-server}: two {@link SharedLimits} stand for two
 * sidecars. Bucket arithmetic runs on the shared fake clock (Bucket4j takes the client's clock), so
 * the budget checks are exact; only Redis itself and its connection run in real time, and the
 * waits for it are bounded so that a hang fails the test instead of stalling it.
 */
class SharedLimitsTest {
    private static final long S = 1_000_000_000L;

    private final FakeTimeSource time = new FakeTimeSource();

    private SharedLimits sidecar(RedisServer redis, Duration timeout) {
        return SharedLimits.connect(
                new RedisConfig(Interpolated.literal(redis.uri()), 0.5, timeout, "sluice:", java.util.Optional.empty()),
                time);
    }

    private void awaitRedis(SharedLimits shared) {
        SharedModeKit.awaitRedis(shared, time, Duration.ofSeconds(15));
    }

    /**
     * Makes a few decisions on a key of its own, so that first-use costs (class loading, the JIT,
     * Redis loading the scripts) do not land on the decisions a test counts, then makes sure the
     * sidecar is still on Redis.
     */
    private void warmUp(SharedLimits shared) throws Exception {
        awaitRedis(shared);
        TokenBucket bucket = shared.store().bucket("warm-up", List.of(RateLimit.parse("1000/s", 1000L)));
        for (int i = 0; i < 20; i++) {
            bucket.reserve().get(5, TimeUnit.SECONDS);
            shared.store().sharedCooldownEnd("warm-up").get(5, TimeUnit.SECONDS);
        }
        shared.store().shareCooldown("warm-up", time.clock().instant().plusMillis(1));
        awaitRedis(shared);
    }

    private static int admitted(CompletableFuture<FetchOutcome> outcome) throws Exception {
        return SharedModeKit.admitted(outcome);
    }

    @Test
    void twoSidecarsSharingOneRedisNeverExceedOneBudgetTogether() throws Exception {
        try (RedisServer redis = RedisServer.start();
                SharedLimits one = sidecar(redis, Duration.ofSeconds(1));
                SharedLimits two = sidecar(redis, Duration.ofSeconds(1))) {
            warmUp(one);
            warmUp(two);
            String policy = "limits: [{rate: 10/s, burst: 10}]\nmax_wait: 0s";
            Harness a = Harness.of(time, policy, AdmissionStage.shared(one, time, Runnable::run));
            Harness b = Harness.of(time, policy, AdmissionStage.shared(two, time, Runnable::run));

            long start = time.nanoTime();
            int total = 0;
            for (int step = 0; step < 100; step++) {
                // Each sidecar alone asks for 3 per 100 ms: 30/s each, 60/s together.
                for (int i = 0; i < 3; i++) {
                    total += admitted(a.execute(Harness.get("/a")));
                    total += admitted(b.execute(Harness.get("/b")));
                }
                double elapsed = (time.nanoTime() - start) / (double) S;
                assertThat(total).as("admitted by both after %.1f s", elapsed).isLessThanOrEqualTo((int)
                        Math.floor(10 + 10 * elapsed));
                time.advance(Duration.ofMillis(100));
            }
            assertThat(one.usingRedis()).isTrue();
            assertThat(two.usingRedis()).isTrue();
            // The budget is used, not merely respected: 10 + 10/s over 9.9 s.
            assertThat(total).isGreaterThanOrEqualTo(105);
            assertThat(a.upstream.count()).isPositive();
            assertThat(b.upstream.count()).isPositive();
        }
    }

    @Test
    void concurrentRequestsFromTwoSidecarsShareOneBurst() throws Exception {
        try (RedisServer redis = RedisServer.start();
                SharedLimits one = sidecar(redis, Duration.ofSeconds(1));
                SharedLimits two = sidecar(redis, Duration.ofSeconds(1))) {
            warmUp(one);
            warmUp(two);
            String policy = "limits: [{rate: 1/h, burst: 10}]\nmax_wait: 0s";
            Harness a = Harness.of(time, policy, AdmissionStage.shared(one, time, Runnable::run));
            Harness b = Harness.of(time, policy, AdmissionStage.shared(two, time, Runnable::run));
            List<CompletableFuture<FetchOutcome>> outcomes = new java.util.ArrayList<>();
            // 16 in flight from each sidecar at once, all at the same instant.
            for (int i = 0; i < 16; i++) {
                outcomes.add(a.execute(Harness.get("/a")));
                outcomes.add(b.execute(Harness.get("/b")));
            }
            int total = 0;
            for (var outcome : outcomes) total += admitted(outcome);
            assertThat(total).isEqualTo(10);
            assertThat(one.usingRedis()).isTrue();
            assertThat(two.usingRedis()).isTrue();
        }
    }

    @Test
    void retryAfterSeenByOneSidecarPausesAll() throws Exception {
        try (RedisServer redis = RedisServer.start();
                SharedLimits one = sidecar(redis, Duration.ofSeconds(1));
                SharedLimits two = sidecar(redis, Duration.ofSeconds(1));
                RedisClient client = RedisClient.create(redis.uri());
                StatefulRedisConnection<String, String> direct = client.connect()) {
            warmUp(one);
            warmUp(two);
            Harness a = Harness.of(time, "max_wait: 60s", AdmissionStage.shared(one, time, Runnable::run));
            Harness b = Harness.of(time, "max_wait: 60s", AdmissionStage.shared(two, time, Runnable::run));

            long t0 = time.nanoTime();
            a.upstream.enqueue(429, "Retry-After", "30");
            assertThat(((FetchResponse) a.execute(Harness.get("/a")).get(5, TimeUnit.SECONDS)).status())
                    .isEqualTo(429);
            awaitKey(direct, "sluice:cooldown:example");
            assertThat(direct.sync().pttl("sluice:cooldown:example")).isBetween(1L, 30_001L);

            FetchOutcome impatient = b.get("/b", Duration.ZERO).get(5, TimeUnit.SECONDS);
            assertThat(((FetchFailure) impatient).retryAfter()).contains(Duration.ofSeconds(30));
            CompletableFuture<FetchOutcome> patient = b.execute(Harness.get("/b"));
            time.advance(Duration.ofMillis(29_999));
            assertThat(b.upstream.count()).isZero();
            time.advance(Duration.ofMillis(1));
            assertThat(admitted(patient)).isEqualTo(1);
            assertThat(b.upstream.sentAt()).containsExactly(t0 + 30 * S);
        }
    }

    @Test
    void fallsBackToLocalShareWhenRedisDiesAndReturnsWhenItIsBack() throws Exception {
        // A generous timeout: this test is about a dropped connection, which fails commands at once
        // (Lettuce rejects them while disconnected); a slow CI machine must not fail over early.
        try (RedisServer redis = RedisServer.start();
                SharedLimits shared = sidecar(redis, Duration.ofSeconds(1))) {
            warmUp(shared);
            Harness h = Harness.of(
                    time,
                    "limits: [{rate: 10/s, burst: 10}]\nmax_wait: 0s",
                    AdmissionStage.shared(shared, time, Runnable::run));
            assertThat(admitted(h.execute(Harness.get("/before")))).isEqualTo(1);

            redis.kill();
            int admitted = 0;
            for (int i = 0; i < 10; i++) admitted += admitted(h.execute(Harness.get("/during")));
            assertThat(shared.usingRedis()).isFalse();
            assertThat(shared.failovers()).isPositive();
            // The local bucket holds local_share (half) of the burst.
            assertThat(admitted).isEqualTo(5);

            redis.restart();
            awaitRedis(shared);
            admitted = 0;
            for (int i = 0; i < 12; i++) admitted += admitted(h.execute(Harness.get("/after")));
            // A fresh Redis bucket: the full burst of 10, not the fallback's 5.
            assertThat(admitted).isEqualTo(10);
            assertThat(shared.usingRedis()).isTrue();
        }
    }

    @Test
    void failsOverWithinTheCommandTimeoutWhenRedisHangsAndReturnsWhenItAnswers() throws Exception {
        try (RedisServer redis = RedisServer.start();
                SharedLimits shared = sidecar(redis, Duration.ofMillis(50))) {
            warmUp(shared);
            Harness h = Harness.of(
                    time,
                    "limits: [{rate: 10/s, burst: 10}]\nmax_wait: 0s",
                    AdmissionStage.shared(shared, time, Runnable::run));
            redis.freeze();
            try {
                // The connection stays open and silent: each command gives up after 50 ms, and the
                // first failure moves decisions to the local share, so every request completes.
                int admitted = 0;
                for (int i = 0; i < 10; i++) admitted += admitted(h.execute(Harness.get("/hung")));
                assertThat(shared.usingRedis()).isFalse();
                assertThat(shared.failovers()).isPositive();
                assertThat(admitted).isEqualTo(5);
            } finally {
                redis.thaw();
            }
            awaitRedis(shared);
            assertThat(admitted(h.execute(Harness.get("/after")))).isEqualTo(1);
        }
    }

    @Test
    void startsOnLocalBucketsWhileRedisIsUnreachable() throws Exception {
        try (RedisServer redis = RedisServer.start()) {
            String uri = redis.uri();
            redis.kill();
            try (SharedLimits shared = SharedLimits.connect(
                    new RedisConfig(
                            Interpolated.literal(uri),
                            0.5,
                            Duration.ofMillis(50),
                            "sluice:",
                            java.util.Optional.empty()),
                    time)) {
                Harness h = Harness.of(
                        time,
                        "limits: [{rate: 10/s, burst: 4}]\nmax_wait: 0s",
                        AdmissionStage.shared(shared, time, Runnable::run));
                int admitted = 0;
                for (int i = 0; i < 5; i++) admitted += admitted(h.execute(Harness.get("/x")));
                assertThat(admitted).isEqualTo(2);
                assertThat(shared.usingRedis()).isFalse();
            }
        }
    }

    private static void awaitKey(StatefulRedisConnection<String, String> direct, String key) {
        long giveUpAt = System.nanoTime() + TimeUnit.SECONDS.toNanos(5);
        while (direct.sync().exists(key) == 0) {
            assertThat(System.nanoTime()).as("cooldown key written").isLessThan(giveUpAt);
            LockSupport.parkNanos(TimeUnit.MILLISECONDS.toNanos(5));
        }
    }
}
