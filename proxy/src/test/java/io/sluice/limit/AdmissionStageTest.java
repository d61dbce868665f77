package io.sluice.limit;

import static org.assertj.core.api.Assertions.assertThat;

import io.sluice.StandardPipeline;
import io.sluice.fetch.ErrorType;
import io.sluice.fetch.FetchFailure;
import io.sluice.fetch.FetchOutcome;
import io.sluice.fetch.FetchResponse;
import io.sluice.time.FakeTimeSource;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

class AdmissionStageTest {
    private static final long MS = 1_000_000L;
    private static final long S = 1_000_000_000L;

    private final FakeTimeSource time = new FakeTimeSource();
    private final AdmissionStage admission = AdmissionStage.local(time, Runnable::run);

    private Harness harness(String policy) {
        return Harness.of(time, policy, admission);
    }

    private static FetchFailure failure(CompletableFuture<FetchOutcome> outcome) {
        assertThat(outcome).isDone();
        assertThat(outcome.join()).isInstanceOf(FetchFailure.class);
        return (FetchFailure) outcome.join();
    }

    private static FetchResponse response(CompletableFuture<FetchOutcome> outcome) {
        assertThat(outcome).isDone();
        assertThat(outcome.join()).isInstanceOf(FetchResponse.class);
        return (FetchResponse) outcome.join();
    }

    @Test
    void admitsAnAvailableTokenWithNoWaitBudgetWhileTheClockMoves() {
        // A clock that moves a microsecond on every read, as a real one does between two reads.
        FakeTimeSource base = new FakeTimeSource();
        io.sluice.time.TimeSource ticking = new io.sluice.time.TimeSource() {
            @Override
            public long nanoTime() {
                base.advance(Duration.ofNanos(1000));
                return base.nanoTime();
            }

            @Override
            public java.time.Clock clock() {
                return base.clock();
            }

            @Override
            public Timer schedule(Duration delay, Runnable task) {
                return base.schedule(delay, task);
            }
        };
        FakeUpstream upstream = new FakeUpstream(ticking);
        var pipeline = new io.sluice.fetch.Pipeline(
                new StandardPipeline()
                        .resolve(new io.sluice.fetch.ResolveUpstreamStage(
                                Harness.upstreams("limits: [{rate: 1/s, burst: 2}]")))
                        .admission(AdmissionStage.local(ticking, Runnable::run))
                        .send(upstream)
                        .stages(),
                ticking);
        for (int i = 0; i < 2; i++) {
            var outcome = pipeline.newCall(Harness.withMaxWait(Harness.get("/" + i), Duration.ZERO))
                    .execute();
            assertThat(response(outcome).status()).isEqualTo(200);
        }
        var third = pipeline.newCall(Harness.withMaxWait(Harness.get("/2"), Duration.ZERO))
                .execute();
        assertThat(failure(third).type()).isEqualTo(ErrorType.RATE_LIMITED);
    }

    @Test
    void admitsExactlyTheBurstUnderConcurrentDemand() throws Exception {
        Harness h = harness("limits: [{rate: 1/h, burst: 100}]\nmax_wait: 0s");
        int threads = 8;
        var pool = java.util.concurrent.Executors.newFixedThreadPool(threads);
        try {
            var start = new java.util.concurrent.CountDownLatch(1);
            List<java.util.concurrent.Future<Integer>> counts = new ArrayList<>();
            for (int t = 0; t < threads; t++) {
                counts.add(pool.submit(() -> {
                    start.await();
                    int admitted = 0;
                    for (int i = 0; i < 50; i++) {
                        if (h.execute(Harness.get("/x")).join() instanceof FetchResponse) admitted++;
                    }
                    return admitted;
                }));
            }
            start.countDown();
            int total = 0;
            for (var count : counts) total += count.get(30, java.util.concurrent.TimeUnit.SECONDS);
            // 400 requests at one instant against a burst of 100: exactly 100 go out, none more.
            assertThat(total).isEqualTo(100);
            assertThat(h.upstream.count()).isEqualTo(100);
        } finally {
            pool.shutdownNow();
        }
    }

    @Test
    void admitsWithinBurstAtOnce() {
        Harness h = harness("limits: [{rate: 10/s, burst: 3}]");
        for (int i = 0; i < 3; i++)
            assertThat(response(h.execute(Harness.get("/" + i))).status()).isEqualTo(200);
        assertThat(h.upstream.sentAt()).containsExactly(0L, 0L, 0L);
    }

    @Test
    void servesWaitersFirstComeFirstServedAtTheRate() {
        Harness h = harness("limits: [{rate: 2/s, burst: 1}]\nmax_wait: 10s");
        List<CompletableFuture<FetchOutcome>> outcomes = new ArrayList<>();
        for (int i = 0; i < 5; i++) outcomes.add(h.execute(Harness.get("/" + i)));
        assertThat(h.upstream.count()).isEqualTo(1);
        h.advance(Duration.ofSeconds(5));
        assertThat(h.upstream.paths()).containsExactly("/0", "/1", "/2", "/3", "/4");
        assertThat(h.upstream.sentAt()).containsExactly(0L, 500 * MS, 1000 * MS, 1500 * MS, 2000 * MS);
        assertThat(response(outcomes.get(4)).trace().queueNanos()).isEqualTo(2000 * MS);
    }

    @Test
    void refusesAtOnceWithExactRetryAfterWhenTheWaitExceedsTheBudget() {
        Harness h = harness("limits: [{rate: 1/s, burst: 1}]\nmax_wait: 2s");
        h.execute(Harness.get("/0"));
        h.execute(Harness.get("/1"));
        h.execute(Harness.get("/2"));
        CompletableFuture<FetchOutcome> fourth = h.execute(Harness.get("/3"));

        FetchFailure refused = failure(fourth);
        assertThat(refused.type()).isEqualTo(ErrorType.RATE_LIMITED);
        assertThat(refused.retryAfter()).contains(Duration.ofSeconds(3));
        assertThat(refused.message()).contains("3000 ms", "2000 ms");
        // The refused request gave its token back: the next one waits no longer than it would have.
        CompletableFuture<FetchOutcome> patient = h.get("/4", Duration.ofSeconds(5));
        h.advance(Duration.ofSeconds(5));
        assertThat(h.upstream.sentAt()).containsExactly(0L, S, 2 * S, 3 * S);
        assertThat(response(patient).trace().queueNanos()).isEqualTo(3 * S);
    }

    @Test
    void perRequestMaxWaitOverridesThePolicy() {
        Harness h = harness("limits: [{rate: 1/s, burst: 1}]\nmax_wait: 30s");
        h.execute(Harness.get("/0"));
        FetchFailure refused = failure(h.get("/1", Duration.ZERO));
        assertThat(refused.retryAfter()).contains(Duration.ofSeconds(1));
    }

    @Test
    void refusesWhenTheDeadlineIsCloserThanTheToken() {
        Harness h = harness("limits: [{rate: 1/min, burst: 1}]\nmax_wait: 5m\ntimeouts: {total: 10s}");
        h.execute(Harness.get("/0"));
        FetchFailure refused = failure(h.execute(Harness.get("/1")));
        assertThat(refused.type()).isEqualTo(ErrorType.RATE_LIMITED);
        assertThat(refused.retryAfter()).contains(Duration.ofMinutes(1));
    }

    @Test
    void cancelledWaiterReturnsItsToken() {
        Harness h = harness("limits: [{rate: 1/s, burst: 1}]\nmax_wait: 10s\ntimeouts: {total: 60s}");
        h.execute(Harness.get("/0"));
        var call = h.pipeline.newCall(Harness.get("/1"));
        CompletableFuture<FetchOutcome> cancelled = call.execute();
        call.cancel(new io.sluice.fetch.FetchException(ErrorType.CANCELLED, "client went away"));
        assertThat(failure(cancelled).type()).isEqualTo(ErrorType.CANCELLED);
        h.execute(Harness.get("/2"));
        h.advance(Duration.ofSeconds(2));
        assertThat(h.upstream.paths()).containsExactly("/0", "/2");
        assertThat(h.upstream.sentAt()).containsExactly(0L, S);
    }

    @Test
    void followsLiveLimitChanges() {
        Harness h = harness("limits: [{rate: 1/s, burst: 1}]\nmax_wait: 0s");
        assertThat(response(h.execute(Harness.get("/0"))).status()).isEqualTo(200);
        assertThat(failure(h.execute(Harness.get("/1"))).type()).isEqualTo(ErrorType.RATE_LIMITED);
        var config = new io.sluice.config.ConfigLoader(java.util.Map.of())
                .fromYaml("upstreams:\n  example:\n    match: [\"http://api.test\"]\n    max_wait: 0s\n"
                        + "    limits: [{rate: 100/s, burst: 5}]\n")
                .upstreams()
                .get("example");
        h.upstreams.put(config);
        // The next call applies the new limits (tokens carried over as they are): the next token
        // is now 10 ms away at most, not a second.
        FetchFailure refused = failure(h.execute(Harness.get("/2")));
        assertThat(refused.retryAfter())
                .hasValueSatisfying(d -> assertThat(d).isLessThanOrEqualTo(Duration.ofMillis(10)));
        h.advance(Duration.ofMillis(50));
        for (int i = 0; i < 5; i++) {
            assertThat(response(h.execute(Harness.get("/" + i))).status()).isEqualTo(200);
        }
        assertThat(failure(h.execute(Harness.get("/6"))).type()).isEqualTo(ErrorType.RATE_LIMITED);
    }

    // ---- cooldowns ----

    @ParameterizedTest(name = "Retry-After: {0}")
    @ValueSource(
            strings = {
                "30",
                "Thu, 01 Jan 2026 00:00:30 GMT",
                "Thursday, 01-Jan-26 00:00:30 GMT",
                "Thu Jan  1 00:00:30 2026",
            })
    void pausesWholeUpstreamForRetryAfter(String retryAfter) {
        Harness h = harness("limits: [{rate: 100/s}]\nmax_wait: 60s");
        h.upstream.enqueue(429, "Retry-After", retryAfter);
        assertThat(response(h.execute(Harness.get("/first"))).status()).isEqualTo(429);

        CompletableFuture<FetchOutcome> second = h.execute(Harness.get("/second"));
        CompletableFuture<FetchOutcome> third = h.execute(Harness.get("/third"));
        h.advance(Duration.ofMillis(29_999));
        assertThat(h.upstream.count())
                .as("requests inside the Retry-After window")
                .isEqualTo(1);
        h.advance(Duration.ofMillis(1));
        assertThat(h.upstream.paths()).containsExactly("/first", "/second", "/third");
        assertThat(h.upstream.sentAt()).containsExactly(0L, 30 * S, 30 * S);
        assertThat(response(second).trace().cooldownNanos()).isEqualTo(30 * S);
        assertThat(response(third).status()).isEqualTo(200);
    }

    @Test
    void pausesWholeUpstreamFor503WithRetryAfterDate() {
        Harness h = harness("max_wait: 60s");
        h.upstream.enqueue(503, "Retry-After", "Thu, 01 Jan 2026 00:00:10 GMT");
        h.execute(Harness.get("/first"));
        CompletableFuture<FetchOutcome> next = h.execute(Harness.get("/next"));
        h.advance(Duration.ofSeconds(10));
        assertThat(h.upstream.sentAt()).containsExactly(0L, 10 * S);
        assertThat(response(next).status()).isEqualTo(200);
    }

    @Test
    void queuedRequestsResumeInOrderAtTheBucketsPace() {
        Harness h = harness("limits: [{rate: 1/s, burst: 2}]\nmax_wait: 60s");
        h.upstream.enqueue(429, "Retry-After", "5");
        h.execute(Harness.get("/first"));
        for (int i = 0; i < 4; i++) h.execute(Harness.get("/" + i));
        h.advance(Duration.ofSeconds(20));
        assertThat(h.upstream.paths()).containsExactly("/first", "/0", "/1", "/2", "/3");
        // The bucket refilled to its burst of 2 during the pause; then one per second.
        assertThat(h.upstream.sentAt()).containsExactly(0L, 5 * S, 5 * S, 6 * S, 7 * S);
    }

    @Test
    void holdsARequestThatAlreadyHadItsTokenWhenACooldownBegins() {
        Harness h = harness("limits: [{rate: 1/s, burst: 1}]\nmax_wait: 60s");
        h.upstream.enqueue(200).enqueue(429, "Retry-After", "10");
        h.execute(Harness.get("/0"));
        h.execute(Harness.get("/1")); // token due at 1 s
        h.execute(Harness.get("/2")); // token due at 2 s
        h.advance(Duration.ofSeconds(1)); // /1 goes, gets 429 + Retry-After 10
        h.advance(Duration.ofSeconds(20));
        assertThat(h.upstream.paths()).containsExactly("/0", "/1", "/2");
        assertThat(h.upstream.sentAt()).containsExactly(0L, S, 11 * S);
    }

    @Test
    void refusesAtOnceWhenTheCooldownOutlastsTheWaitBudget() {
        Harness h = harness("max_wait: 30s");
        h.upstream.enqueue(429, "Retry-After", "120");
        h.execute(Harness.get("/first"));
        h.advance(Duration.ofSeconds(20));
        FetchFailure refused = failure(h.execute(Harness.get("/second")));
        assertThat(refused.type()).isEqualTo(ErrorType.RATE_LIMITED);
        assertThat(refused.retryAfter()).contains(Duration.ofSeconds(100));
        assertThat(h.upstream.count()).isEqualTo(1);
    }

    @Test
    void backsOffExponentiallyOn429WithoutRetryAfter() {
        Harness h = harness("retry: {base_delay: 100ms, max_delay: 10s}\nmax_wait: 60s");
        h.upstream.enqueue(429).enqueue(429).enqueue(429).enqueue(200);
        h.execute(Harness.get("/0")); // 429 -> pause 100 ms
        h.execute(Harness.get("/1"))
                .thenRun(() -> h.execute(Harness.get("/2"))
                        .thenRun(() -> h.execute(Harness.get("/3")).thenRun(() -> h.execute(Harness.get("/4")))));
        h.advance(Duration.ofSeconds(5));
        // Pauses of 100, 200 and 400 ms after the 1st, 2nd and 3rd bare 429; a 200 resets the count.
        assertThat(h.upstream.sentAt()).containsExactly(0L, 100 * MS, 300 * MS, 700 * MS, 700 * MS);
        assertThat(admission.cooldownRemaining("example")).isZero();
    }

    @Test
    void pausesBeforeTheUpstreamRefusesWhenItsBudgetHeadersReachZero() {
        Harness h = harness("max_wait: 60s");
        long reset = time.clock().instant().getEpochSecond() + 20;
        h.upstream.enqueue(200, "X-RateLimit-Remaining", "0", "X-RateLimit-Reset", Long.toString(reset));
        assertThat(response(h.execute(Harness.get("/0"))).status()).isEqualTo(200);
        h.execute(Harness.get("/1"));
        h.advance(Duration.ofSeconds(19));
        assertThat(h.upstream.count()).isEqualTo(1);
        h.advance(Duration.ofSeconds(1));
        assertThat(h.upstream.sentAt()).containsExactly(0L, 20 * S);
    }

    @Test
    void capsACooldownAtMaxCooldownAndCountsIt() {
        Harness h = harness("max_cooldown: 1m\nmax_wait: 5m\ntimeouts: {total: 5m}");
        h.upstream.enqueue(429, "Retry-After", "86400");
        h.execute(Harness.get("/0"));
        assertThat(admission.cappedCooldowns()).isEqualTo(1);
        assertThat(admission.cooldownRemaining("example")).isEqualTo(Duration.ofMinutes(1));
        h.execute(Harness.get("/1"));
        h.advance(Duration.ofMinutes(2));
        assertThat(h.upstream.sentAt()).containsExactly(0L, 60 * S);
    }

    @Test
    void refusesImpatientRequestWithTheRemainingCooldownWhileOthersWait() {
        Harness h = harness("max_wait: 15s");
        h.upstream.enqueue(429, "Retry-After", "10");
        h.execute(Harness.get("/0"));
        CompletableFuture<FetchOutcome> waiting = h.execute(Harness.get("/1"));
        h.advance(Duration.ofSeconds(5));
        assertThat(failure(h.get("/2", Duration.ZERO)).retryAfter()).contains(Duration.ofSeconds(5));
        assertThat(waiting).isNotDone();
        h.advance(Duration.ofSeconds(5));
        assertThat(response(waiting).status()).isEqualTo(200);
        assertThat(h.upstream.sentAt()).containsExactly(0L, 10 * S);
    }

    @Test
    void pausedRequestFailsWhenTheCooldownIsExtendedPastItsBudget() {
        Harness h = harness("max_wait: 15s\nmax_cooldown: 1h");
        h.upstream.enqueue(429, "Retry-After", "10");
        h.execute(Harness.get("/0"));
        CompletableFuture<FetchOutcome> waiting = h.execute(Harness.get("/1"));
        // Another answer (say, from a request that was already on the wire) extends the pause.
        admissionGate(h).startCooldown(Duration.ofSeconds(60), "Retry-After", policy(h));
        h.advance(Duration.ofSeconds(15));
        FetchFailure failed = failure(waiting);
        assertThat(failed.type()).isEqualTo(ErrorType.RATE_LIMITED);
        assertThat(failed.retryAfter()).contains(Duration.ofSeconds(45));
        assertThat(failed.trace().cooldownNanos()).isEqualTo(15 * S);
        assertThat(h.upstream.count()).isEqualTo(1);
    }

    private Gate admissionGate(Harness h) {
        return admission.gateFor("example");
    }

    private static io.sluice.config.Policy policy(Harness h) {
        return h.upstreams.get("example").orElseThrow().policy();
    }
}
