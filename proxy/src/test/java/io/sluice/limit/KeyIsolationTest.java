package io.sluice.limit;

import static org.assertj.core.api.Assertions.assertThat;

import io.sluice.config.Priority;
import io.sluice.fetch.ErrorType;
import io.sluice.fetch.FetchFailure;
import io.sluice.fetch.FetchOutcome;
import io.sluice.fetch.FetchRequest;
import io.sluice.fetch.FetchResponse;
import io.sluice.fetch.RequestBody;
import io.sluice.time.FakeTimeSource;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import org.junit.jupiter.api.Test;

/**
 * Tenant isolation while requests wait, on fake time through the real stage: a key whose own bucket
 * is empty queues in that bucket only, and takes a token of the whole-upstream budget only when its
 * own token is due, so another key with tokens of its own is not held behind it.
 */
class KeyIsolationTest {
    private static final long S = 1_000_000_000L;

    private final FakeTimeSource time = new FakeTimeSource();
    private final AdmissionStage admission = AdmissionStage.local(time, Runnable::run);

    private static FetchRequest of(String tenant, String path, Priority priority) {
        FetchRequest r = Harness.request("GET", path, RequestBody.empty(), "X-Tenant", tenant);
        return priority == null
                ? r
                : r.toBuilder().priority(Optional.of(priority)).build();
    }

    private static boolean admitted(CompletableFuture<FetchOutcome> outcome) {
        return outcome.isDone() && outcome.join() instanceof FetchResponse;
    }

    private static FetchFailure failure(CompletableFuture<FetchOutcome> outcome) {
        assertThat(outcome).isDone();
        assertThat(outcome.join()).isInstanceOf(FetchFailure.class);
        return (FetchFailure) outcome.join();
    }

    private static final String POLICY = """
            key: header:X-Tenant
            max_wait: 1m
            limits:
              - {rate: 1/s, burst: 1, per: key}
              - {rate: 10/s, burst: 10}""";

    @Test
    void aKeyWithFiftyWaitersDoesNotDelayAnotherKeyWhoseBucketHasTokens() {
        isolated(Harness.of(time, POLICY, admission), null);
    }

    @Test
    void withPriorityClassesAKeyWithFiftyWaitersDoesNotDelayAnotherKeyEither() {
        isolated(
                Harness.of(time, POLICY + "\npriority: {weights: {interactive: 3, batch: 1}}", admission),
                Priority.BATCH);
    }

    /**
     * A spends its token and queues 50 more requests (its next tokens due 1 to 50 s from now); B, whose
     * own bucket is full, is admitted at once, and so are eight more keys, up to the upstream's burst.
     */
    private void isolated(Harness h, Priority priority) {
        List<CompletableFuture<FetchOutcome>> a = new ArrayList<>();
        for (int i = 0; i <= 50; i++) a.add(h.execute(of("a", "/a" + i, priority)));
        assertThat(admitted(a.get(0))).isTrue();
        for (int i = 1; i <= 50; i++)
            assertThat(a.get(i)).as("a%d waits for its own token", i).isNotDone();

        var b = h.execute(of("b", "/b", priority));
        assertThat(admitted(b)).as("b is not held behind a's 50 waiters").isTrue();
        assertThat(h.upstream.sentAt()).containsExactly(0L, 0L); // b's wait: zero

        // The whole-upstream cap still holds every key together: 10 at once, a and b included.
        List<CompletableFuture<FetchOutcome>> others = new ArrayList<>();
        for (int i = 0; i < 9; i++) others.add(h.execute(of("k" + i, "/k" + i, priority)));
        for (int i = 0; i < 8; i++) assertThat(admitted(others.get(i))).isTrue();
        assertThat(others.get(8)).as("the upstream's burst is spent").isNotDone();
        h.advance(Duration.ofMillis(100));
        assertThat(admitted(others.get(8))).isTrue();

        // a's waiters go out in their order, one a second, as a's own bucket allows.
        h.advance(Duration.ofMillis(900));
        assertThat(admitted(a.get(1))).isTrue();
        assertThat(a.get(2)).isNotDone();
        h.advance(Duration.ofSeconds(49));
        for (int i = 1; i <= 50; i++) assertThat(admitted(a.get(i))).isTrue();
        List<String> aPaths =
                h.upstream.paths().stream().filter(p -> p.startsWith("/a")).toList();
        List<String> expected = new ArrayList<>();
        for (int i = 0; i <= 50; i++) expected.add("/a" + i);
        assertThat(aPaths).containsExactlyElementsOf(expected);
        List<Long> sent = h.upstream.sentAt();
        assertThat(sent.get(sent.size() - 1)).isEqualTo(50 * S);
        assertThat(admission.queued("example")).isZero();
    }

    @Test
    void aKeyIsStillRefusedAtOnceWithTheExactWaitOfItsOwnQueue() {
        Harness h = Harness.of(time, POLICY.replace("max_wait: 1m", "max_wait: 2500ms"), admission);
        var a0 = h.execute(of("a", "/a0", null));
        var a1 = h.execute(of("a", "/a1", null));
        var a2 = h.execute(of("a", "/a2", null));
        var a3 = h.execute(of("a", "/a3", null));
        assertThat(admitted(a0)).isTrue();
        assertThat(a1).isNotDone();
        assertThat(a2).isNotDone();
        FetchFailure refused = failure(a3);
        assertThat(refused.type()).isEqualTo(ErrorType.RATE_LIMITED);
        assertThat(refused.retryAfter()).contains(Duration.ofSeconds(3));
        // The refused request gave its key token back: the next one is due where a3's would have been.
        h.advance(Duration.ofSeconds(2));
        assertThat(admitted(a1)).isTrue();
        assertThat(admitted(a2)).isTrue();
        assertThat(admitted(h.execute(of("b", "/b", null)))).isTrue();
    }

    private static final List<String> BY_WEIGHT = List.of(
            "/warm", "/b0", "/i0", "/i1", "/i2", "/b1", "/i3", "/i4", "/i5", "/b2", "/i6", "/i7", "/b3", "/b4", "/b5",
            "/b6", "/b7");

    /** Within one key whose own bucket is the limit, the classes order its waiters by weight. */
    @Test
    void theClassesOrderTheWaitersOfOneKeyByWeightAndOtherKeysGoAtOnce() {
        Harness h = Harness.of(time, """
                key: header:X-Tenant
                max_wait: 1m
                limits:
                  - {rate: 10/s, burst: 1, per: key}
                  - {rate: 100/s, burst: 100}
                priority: {weights: {interactive: 3, batch: 1}}""", admission);
        h.execute(of("a", "/warm", Priority.INTERACTIVE)); // takes a's one token
        for (int i = 0; i < 8; i++) h.execute(of("a", "/b" + i, Priority.BATCH));
        for (int i = 0; i < 8; i++) h.execute(of("a", "/i" + i, Priority.INTERACTIVE));
        var other = h.execute(of("b", "/other", Priority.BATCH));
        assertThat(admitted(other))
                .as("b's batch request does not wait for a's line")
                .isTrue();

        h.advance(Duration.ofSeconds(2));

        assertThat(h.upstream.paths().stream().filter(p -> !p.equals("/other"))).containsExactlyElementsOf(BY_WEIGHT);
        // a's own rate, one every 100 ms, whoever takes it.
        List<Long> sent = h.upstream.sentAt();
        assertThat(sent.get(sent.size() - 1)).isEqualTo(16 * 100_000_000L);
    }

    /**
     * A class's {@code reserve} holds in each key's bucket: a's batch backlog cannot spend the last
     * 40 % of a's burst, so a's interactive request goes at once; b's budget is b's own.
     */
    @Test
    void aReserveIsKeptInEachKeysOwnBucket() {
        Harness h = Harness.of(time, """
                key: header:X-Tenant
                max_wait: 1m
                limits:
                  - {rate: 1/s, burst: 5, per: key}
                  - {rate: 100/s, burst: 100}
                priority: {reserve: {interactive: 40%}}""", admission);
        List<CompletableFuture<FetchOutcome>> batch = new ArrayList<>();
        for (int i = 0; i < 6; i++) batch.add(h.execute(of("a", "/b" + i, Priority.BATCH)));
        // 5 → 2: the reserve (40 % of 5) is left for interactive.
        for (int i = 0; i < 3; i++) assertThat(admitted(batch.get(i))).isTrue();
        assertThat(batch.get(3)).isNotDone();
        assertThat(admitted(h.execute(of("a", "/i0", Priority.INTERACTIVE)))).isTrue();
        // b's batch requests spend b's own burst, down to b's own reserve.
        for (int i = 0; i < 3; i++)
            assertThat(admitted(h.execute(of("b", "/x" + i, Priority.BATCH)))).isTrue();
        assertThat(admitted(h.execute(of("b", "/x3", Priority.BATCH)))).isFalse();
        assertThat(batch.get(3)).isNotDone();
    }

    /** When the whole upstream's bucket is the limit, the classes order every key's requests together. */
    @Test
    void theClassesOrderTheUpstreamsTokensAcrossKeys() {
        Harness h = Harness.of(time, """
                key: header:X-Tenant
                max_wait: 1m
                limits:
                  - {rate: 100/s, burst: 100, per: key}
                  - {rate: 10/s, burst: 1}
                priority: {weights: {interactive: 3, batch: 1}}""", admission);
        h.execute(of("c", "/warm", Priority.INTERACTIVE)); // takes the upstream's one token
        for (int i = 0; i < 8; i++) h.execute(of("a", "/b" + i, Priority.BATCH));
        for (int i = 0; i < 8; i++) h.execute(of("b", "/i" + i, Priority.INTERACTIVE));
        assertThat(admission.queued("example", Priority.BATCH)).isEqualTo(8);
        assertThat(admission.queued("example", Priority.INTERACTIVE)).isEqualTo(8);

        h.advance(Duration.ofSeconds(2));

        assertThat(h.upstream.paths()).containsExactlyElementsOf(BY_WEIGHT);
        assertThat(admission.queued("example")).isZero();
    }

    /**
     * A request refused by the upstream's line after its key's line served it gives its key's token
     * back: the key's next request is not charged for it.
     */
    @Test
    void aRequestRefusedForTheUpstreamsTokenGivesItsKeysTokenBack() {
        Harness h = Harness.of(time, """
                key: header:X-Tenant
                max_wait: 500ms
                limits:
                  - {rate: 1/h, burst: 1, per: key}
                  - {rate: 1/s, burst: 1}
                priority: {weights: {interactive: 3, batch: 1}}""", admission);
        assertThat(admitted(h.execute(of("c", "/warm", Priority.BATCH)))).isTrue(); // the upstream's token
        FetchFailure refused = failure(h.execute(of("a", "/a0", Priority.BATCH)));
        assertThat(refused.type()).isEqualTo(ErrorType.RATE_LIMITED);
        assertThat(refused.retryAfter()).contains(Duration.ofSeconds(1));
        h.advance(Duration.ofSeconds(1));
        // a's hour is still whole: its one token was given back.
        assertThat(admitted(h.execute(of("a", "/a1", Priority.BATCH)))).isTrue();
    }

    /**
     * Shared mode, both buckets in a real Redis: a's waiters give the upstream's token back while
     * their own is not due, so b is admitted at once; a's next waiter goes when its token is due.
     */
    @Test
    void inSharedModeAKeysWaitersHoldNoneOfTheSharedUpstreamBucket() throws Exception {
        try (RedisServer redis = RedisServer.start();
                SharedLimits shared = SharedLimits.connect(
                        new io.sluice.config.RedisConfig(
                                io.sluice.config.Interpolated.literal(redis.uri()),
                                0.5,
                                Duration.ofSeconds(5),
                                "isolation:",
                                Optional.of(io.sluice.config.Interpolated.literal("a-key-secret-for-isolation-tests"))),
                        time)) {
            long giveUpAt = System.nanoTime() + java.util.concurrent.TimeUnit.SECONDS.toNanos(15);
            while (!shared.usingRedis()) {
                assertThat(System.nanoTime()).as("connected to Redis").isLessThan(giveUpAt);
                time.advance(SharedLimits.PROBE_INTERVAL);
                java.util.concurrent.locks.LockSupport.parkNanos(20_000_000L);
            }
            Harness h = Harness.of(time, """
                    key: header:X-Tenant
                    max_wait: 1m
                    limits:
                      - {rate: 1/s, burst: 1, per: key}
                      - {rate: 1/min, burst: 2}""", AdmissionStage.shared(shared, time, Runnable::run));
            assertThat(settled(h.execute(of("a", "/a0", null)))).isTrue();
            List<CompletableFuture<FetchOutcome>> a = new ArrayList<>();
            for (int i = 1; i <= 5; i++) {
                int before = time.pendingTimers();
                var waiter = h.execute(of("a", "/a" + i, null));
                // Two timers: its deadline's, and the one for its key's token, set once Redis has
                // answered for both tokens and the upstream's has gone back.
                while (time.pendingTimers() < before + 2) {
                    assertThat(System.nanoTime()).as("a%d waiting", i).isLessThan(giveUpAt);
                    java.util.concurrent.locks.LockSupport.parkNanos(5_000_000L);
                }
                a.add(waiter);
            }
            // The upstream's 1/min bucket had two tokens: a took one, the second is b's, at once.
            assertThat(settled(h.execute(of("b", "/b", null)))).isTrue();
            assertThat(a).noneMatch(CompletableFuture::isDone);
            assertThat(shared.usingRedis()).isTrue();
        }
    }

    /** Waits (bounded, real time) for an outcome that goes through Redis; true when admitted. */
    private static boolean settled(CompletableFuture<FetchOutcome> outcome) throws Exception {
        FetchOutcome result = outcome.get(5, java.util.concurrent.TimeUnit.SECONDS);
        if (result instanceof FetchResponse) return true;
        assertThat(((FetchFailure) result).type()).as("%s", result).isEqualTo(ErrorType.RATE_LIMITED);
        return false;
    }

    /**
     * {@code max_concurrency} is taken after admission: a's requests waiting for their own tokens hold
     * no slot and are not in the line for one, so b, admitted by its bucket, takes the free slot at
     * once. (Slots are the upstream's: once admitted, a's requests queue for them with every other
     * key's, first come first served.)
     */
    @Test
    void aKeysWaitersHoldNoConcurrencySlotAndAreNotInItsLine() {
        Harness h = Harness.of(time, """
                key: header:X-Tenant
                max_wait: 1m
                max_concurrency: 2
                limits: [{rate: 1/s, burst: 1, per: key}]""", admission, new ConcurrencyStage(time, Runnable::run), chain -> {
            // Answers after 10 s: each admitted request holds its slot that long.
            CompletableFuture<FetchResponse> answer = new CompletableFuture<>();
            time.schedule(
                    Duration.ofSeconds(10),
                    () -> answer.complete(new FetchResponse(
                            200,
                            io.sluice.fetch.Fields.of(java.util.Map.of()),
                            io.sluice.fetch.ResponseBody.empty(),
                            chain.call().trace())));
            return answer;
        });
        List<CompletableFuture<FetchOutcome>> all = new ArrayList<>();
        for (int i = 0; i <= 50; i++) all.add(h.execute(of("a", "/a" + i, null)));
        var b = h.execute(of("b", "/b", null));
        all.add(b);
        all.forEach(outcome -> outcome.thenAccept(o -> {
            if (o instanceof FetchResponse r) r.body().discard(); // read: its slot is free again
        }));
        assertThat(admission.queued("example")).isZero();
        // a0 and b are both at the upstream at time zero; a's 50 others wait for a's tokens.
        h.advance(Duration.ofMillis(9999));
        assertThat(b).isNotDone();
        h.advance(Duration.ofMillis(1));
        assertThat(admitted(all.get(0))).isTrue();
        assertThat(admitted(b))
                .as("b had the second slot at once, answered 10 s later")
                .isTrue();
        assertThat(all.subList(1, 51)).noneMatch(CompletableFuture::isDone);
    }
}
