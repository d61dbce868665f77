package io.sluice.limit;

import static org.assertj.core.api.Assertions.assertThat;

import io.sluice.config.RateLimit;
import io.sluice.fetch.ErrorType;
import io.sluice.fetch.FetchFailure;
import io.sluice.fetch.FetchOutcome;
import io.sluice.fetch.FetchResponse;
import io.sluice.fetch.RequestBody;
import io.sluice.time.FakeTimeSource;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import org.junit.jupiter.api.Test;

/** {@code per: key} admission on fake time: each key its own FIFO bucket, and a bounded number of them. */
class KeyedAdmissionTest {
    private final FakeTimeSource time = new FakeTimeSource();
    private final AdmissionStage admission = AdmissionStage.local(time, Runnable::run);

    private CompletableFuture<FetchOutcome> send(Harness h, String tenant) {
        return h.execute(Harness.request("GET", "/x", RequestBody.empty(), "X-Tenant", tenant));
    }

    private static boolean admitted(CompletableFuture<FetchOutcome> outcome) {
        return outcome.isDone() && outcome.join() instanceof FetchResponse;
    }

    private static FetchFailure failure(CompletableFuture<FetchOutcome> outcome) {
        assertThat(outcome).isDone();
        assertThat(outcome.join()).isInstanceOf(FetchFailure.class);
        return (FetchFailure) outcome.join();
    }

    @Test
    void eachKeyWaitsInItsOwnQueueAndIsRefusedAtOnceWithTheExactWait() {
        Harness h = Harness.of(
                time, "key: header:X-Tenant\nmax_wait: 2500ms\nlimits: [{rate: 1/s, burst: 1, per: key}]", admission);

        var a1 = send(h, "a");
        var a2 = send(h, "a");
        var a3 = send(h, "a");
        var a4 = send(h, "a");
        var b1 = send(h, "b");

        assertThat(admitted(a1)).isTrue();
        assertThat(admitted(b1)).isTrue(); // b does not queue behind a
        assertThat(a2).isNotDone();
        assertThat(a3).isNotDone();
        FetchFailure refused = failure(a4);
        assertThat(refused.type()).isEqualTo(ErrorType.RATE_LIMITED);
        assertThat(refused.retryAfter()).contains(Duration.ofSeconds(3));

        h.advance(Duration.ofSeconds(1));
        assertThat(admitted(a2)).isTrue();
        assertThat(a3).isNotDone();
        h.advance(Duration.ofSeconds(1));
        assertThat(admitted(a3)).isTrue();
    }

    @Test
    void aHundredThousandKeysKeepAtMostMaxKeysBucketsAndTheRestShareOverflow() {
        Harness h = Harness.of(
                time,
                "key: header:X-Tenant\nmax_keys: 1000\nmax_wait: 0s\nlimits: [{rate: 1/s, burst: 1, per: key}]",
                admission);
        int admittedCount = 0;
        for (int i = 0; i < 100_000; i++) {
            if (admitted(send(h, "tenant-" + i))) admittedCount++;
            if (i % 997 == 0) assertThat(admission.liveKeys("example")).isLessThanOrEqualTo(1000);
        }
        assertThat(admission.liveKeys("example")).isEqualTo(1000);
        // The first 1000 keys had a token each; the other 99,000 shared one overflow token.
        assertThat(admittedCount).isEqualTo(1001);
        // A key that already holds a bucket keeps it: its own token refills, not the overflow's.
        h.advance(Duration.ofMillis(999));
        assertThat(admitted(send(h, "tenant-0"))).isFalse();
        h.advance(Duration.ofMillis(1));
        assertThat(admitted(send(h, "tenant-0"))).isTrue();

        // Idle buckets expire once they would be full again (1 s here), freeing slots for new keys.
        h.advance(Duration.ofSeconds(2));
        assertThat(admission.liveKeys("example")).isZero();
        assertThat(admitted(send(h, "newcomer"))).isTrue();
        assertThat(admission.liveKeys("example")).isEqualTo(1);
    }

    @Test
    void withoutAPerKeyLimitNoKeyedBucketIsMade() {
        Harness h = Harness.of(time, "key: header:X-Tenant\nlimits: [{rate: 1/s}]", admission);
        assertThat(admitted(send(h, "a"))).isTrue();
        assertThat(admission.liveKeys("example")).isZero();
    }

    @Test
    void inSharedModeWithoutAKeySecretKeyBucketsStayInTheSidecarBesideTheSharedUpstreamBucket() throws Exception {
        try (RedisServer redis = RedisServer.start();
                SharedLimits shared = SharedLimits.connect(
                        new io.sluice.config.RedisConfig(
                                io.sluice.config.Interpolated.literal(redis.uri()),
                                0.5,
                                Duration.ofSeconds(1),
                                "keys:",
                                java.util.Optional.empty()),
                        time)) {
            long giveUpAt = System.nanoTime() + java.util.concurrent.TimeUnit.SECONDS.toNanos(15);
            while (!shared.usingRedis()) {
                assertThat(System.nanoTime()).as("connected to Redis").isLessThan(giveUpAt);
                time.advance(SharedLimits.PROBE_INTERVAL);
                java.util.concurrent.locks.LockSupport.parkNanos(20_000_000L);
            }
            Harness h = Harness.of(
                    time,
                    "key: header:X-Tenant\nmax_wait: 0s\nlimits: [{rate: 1/h, per: key}, {rate: 3/h}]",
                    AdmissionStage.shared(shared, time, Runnable::run));
            assertThat(settled(send(h, "a"))).isTrue();
            assertThat(settled(send(h, "a"))).isFalse(); // a's own hour
            assertThat(settled(send(h, "b"))).isTrue();
            assertThat(settled(send(h, "c"))).isTrue();
            assertThat(settled(send(h, "d"))).isFalse(); // the upstream's 3/h, held in Redis
            assertThat(shared.usingRedis()).isTrue();
        }
    }

    /** Waits (bounded, real time) for an outcome that goes through Redis; true when admitted. */
    private static boolean settled(CompletableFuture<FetchOutcome> outcome) throws Exception {
        FetchOutcome result = outcome.get(5, java.util.concurrent.TimeUnit.SECONDS);
        if (result instanceof FetchResponse) return true;
        assertThat(((FetchFailure) result).type()).isEqualTo(ErrorType.RATE_LIMITED);
        return false;
    }

    private static long requestsOf(AdmissionStage stage, int rank) {
        return stage.gateFor("example")
                .keyUsage(10)
                .orElseThrow()
                .busiest()
                .get(rank)
                .requests();
    }

    /**
     * A request counts once for its key however its admission goes. Here, as in shared mode, the
     * token is taken while the store is asked for the shared cooldown; the answer is a cooldown
     * another sidecar recorded, so the token goes back and the request waits the cooldown out, then
     * takes its token again. Counting at each take made it two requests of its key.
     */
    @Test
    void aRequestThatMeetsASharedCooldownWhileTakingItsTokenCountsOnceForItsKey() {
        CompletableFuture<java.time.Instant> firstAnswer = new CompletableFuture<>();
        java.util.concurrent.atomic.AtomicInteger asked = new java.util.concurrent.atomic.AtomicInteger();
        LimitStore local = LimitStore.local(time);
        LimitStore shared = new LimitStore() {
            @Override
            public TokenBucket bucket(String upstream, List<RateLimit> limits) {
                return local.bucket(upstream, limits);
            }

            @Override
            public CompletableFuture<java.time.Instant> sharedCooldownEnd(String upstream) {
                return asked.getAndIncrement() == 0
                        ? firstAnswer
                        : CompletableFuture.completedFuture(java.time.Instant.MIN);
            }

            @Override
            public void shareCooldown(String upstream, java.time.Instant end) {}
        };
        AdmissionStage stage = AdmissionStage.over(shared, shared, time, Runnable::run);
        Harness h = Harness.of(time, "key: header:X-Tenant\nmax_wait: 1m\nlimits: [{rate: 10/s, per: key}]", stage);

        var a = send(h, "a");
        assertThat(a).isNotDone();
        firstAnswer.complete(time.clock().instant().plusSeconds(10)); // another sidecar's Retry-After
        assertThat(a).as("queued behind the cooldown").isNotDone();
        h.advance(Duration.ofSeconds(10));
        assertThat(admitted(a)).isTrue();
        assertThat(h.upstream.count()).isEqualTo(1);
        assertThat(requestsOf(stage, 0)).isEqualTo(1);
    }

    /** A learned limit's count caught up from a response is not a request of the key. */
    @Test
    void catchingUpALearnedCountDoesNotCountARequest() {
        Harness h = Harness.of(time, "key: header:X-Tenant\nlearn: true\nlimits: [{rate: 10/s, per: key}]", admission);
        for (int i = 0; i < 3; i++) {
            h.upstream.enqueue(200, "RateLimit-Policy", "\"default\";q=100;w=60", "X-RateLimit-Remaining", "50");
            assertThat(admitted(send(h, "a"))).isTrue();
        }
        assertThat(h.upstream.count()).isEqualTo(3);
        assertThat(requestsOf(admission, 0)).isEqualTo(3);
    }
}
