package io.sluice.limit;

import static org.assertj.core.api.Assertions.assertThat;

import io.sluice.config.Priority;
import io.sluice.fetch.ErrorType;
import io.sluice.fetch.FetchFailure;
import io.sluice.fetch.FetchOutcome;
import io.sluice.fetch.FetchRequest;
import io.sluice.fetch.FetchResponse;
import io.sluice.time.FakeTimeSource;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import org.junit.jupiter.api.Test;

/** The wait by class of an upstream that sets {@code priority}, on fake time through the real stage. */
class PriorityAdmissionTest {
    private static final long MS = 1_000_000L;
    private static final long S = 1_000_000_000L;

    private final FakeTimeSource time = new FakeTimeSource();
    private final AdmissionStage admission = AdmissionStage.local(time, Runnable::run);

    private Harness harness(String policy) {
        return Harness.of(time, policy, admission);
    }

    private static FetchRequest of(Priority p, String path) {
        return Harness.get(path).toBuilder().priority(Optional.of(p)).build();
    }

    private static FetchRequest batchItem(String path) {
        return Harness.get(path).toBuilder().batchItem(true).build();
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
    void servesWaitingClassesByWeight() {
        Harness h = harness("""
                limits: [{rate: 10/s, burst: 1}]
                max_wait: 1m
                priority: {weights: {interactive: 3, batch: 1}}""");
        h.execute(of(Priority.INTERACTIVE, "/warm")); // takes the one token
        for (int i = 0; i < 8; i++) h.execute(of(Priority.BATCH, "/b" + i));
        for (int i = 0; i < 8; i++) h.execute(of(Priority.INTERACTIVE, "/i" + i));
        assertThat(admission.queued("example", Priority.BATCH)).isEqualTo(8);
        assertThat(admission.queued("example", Priority.INTERACTIVE)).isEqualTo(8);
        var state = io.sluice.upstream.LiveState.of("example", List.of(admission));
        assertThat(state.queued()).hasValue(16);
        assertThat(state.queuedByPriority())
                .containsEntry(Priority.INTERACTIVE, 8)
                .containsEntry(Priority.BATCH, 8)
                .containsEntry(Priority.BACKGROUND, 0);

        h.advance(Duration.ofSeconds(2));

        // Three interactive turns for each batch turn while both wait; each class in arrival order.
        assertThat(h.upstream.paths())
                .containsExactly(
                        "/warm", "/b0", "/i0", "/i1", "/i2", "/b1", "/i3", "/i4", "/i5", "/b2", "/i6", "/i7", "/b3",
                        "/b4", "/b5", "/b6", "/b7");
        // One token every 100 ms, whoever takes it.
        List<Long> sent = h.upstream.sentAt();
        for (int i = 1; i < sent.size(); i++) assertThat(sent.get(i)).isEqualTo(i * 100 * MS);
        assertThat(admission.queued("example")).isZero();
    }

    @Test
    void keepsArrivalOrderWithinAClassAtTheRate() {
        Harness h = harness("limits: [{rate: 2/s, burst: 1}]\nmax_wait: 10s\npriority: {}");
        List<CompletableFuture<FetchOutcome>> outcomes = new ArrayList<>();
        for (int i = 0; i < 5; i++) outcomes.add(h.execute(of(Priority.BACKGROUND, "/" + i)));
        h.advance(Duration.ofSeconds(5));
        assertThat(h.upstream.paths()).containsExactly("/0", "/1", "/2", "/3", "/4");
        assertThat(h.upstream.sentAt()).containsExactly(0L, 500 * MS, 1000 * MS, 1500 * MS, 2000 * MS);
        assertThat(response(outcomes.get(4)).trace().queueNanos()).isEqualTo(2000 * MS);
    }

    @Test
    void batchItemsTakeTheUpstreamsDefaultClass() {
        Harness h = harness("""
                limits: [{rate: 10/s, burst: 1}]
                max_wait: 1m
                priority: {weights: {interactive: 1, background: 1000}, default_batch: background}""");
        h.execute(of(Priority.INTERACTIVE, "/warm"));
        h.execute(of(Priority.INTERACTIVE, "/i0"));
        h.execute(of(Priority.INTERACTIVE, "/i1"));
        h.execute(batchItem("/b0"));
        h.execute(batchItem("/b1"));
        assertThat(admission.queued("example", Priority.BACKGROUND)).isEqualTo(2);
        h.advance(Duration.ofSeconds(1));
        // Background outweighs interactive here: both batch items go before the waiting interactive calls.
        assertThat(h.upstream.paths()).containsExactly("/warm", "/b0", "/b1", "/i0", "/i1");
    }

    @Test
    void reserveKeepsTheLastTokensForInteractiveWhileAHugeBatchWaits() {
        Harness h = harness("""
                limits: [{rate: 10/s, burst: 10}]
                max_wait: 1h
                timeouts: {total: 2h}
                priority: {reserve: {interactive: 20%}}""");
        for (int i = 0; i < 10_000; i++) h.execute(of(Priority.BATCH, "/b" + i));
        // Batch may take 8 of the 10 tokens; the last 2 stay for interactive calls.
        assertThat(h.upstream.count()).isEqualTo(8);
        assertThat(admission.availableTokens("example")).hasValue(2);

        List<CompletableFuture<FetchOutcome>> interactive = new ArrayList<>();
        for (int second = 0; second < 30; second++) {
            interactive.add(h.execute(of(Priority.INTERACTIVE, "/i" + second)));
            h.advance(Duration.ofSeconds(1));
            assertThat(admission.availableTokens("example").getAsLong()).isGreaterThanOrEqualTo(1);
        }
        // Every interactive call went at once, never behind the 10,000 batch items.
        for (var outcome : interactive)
            assertThat(response(outcome).trace().queueNanos()).isZero();
        // The batch still gets the whole rate, less what the interactive calls took.
        long batchSent =
                h.upstream.paths().stream().filter(p -> p.startsWith("/b")).count();
        assertThat(batchSent).isBetween(270L, 280L);
    }

    @Test
    void withoutAReserveABatchClassCanEmptyTheBucketSoInteractiveWaitsForATurn() {
        Harness h = harness("""
                limits: [{rate: 10/s, burst: 10}]
                max_wait: 1h
                timeouts: {total: 2h}
                priority: {}""");
        for (int i = 0; i < 10_000; i++) h.execute(of(Priority.BATCH, "/b" + i));
        assertThat(h.upstream.count()).isEqualTo(10);
        CompletableFuture<FetchOutcome> call = h.execute(of(Priority.INTERACTIVE, "/i"));
        h.advance(Duration.ofSeconds(1));
        // Next in line by weight, but it still waits for the next token.
        assertThat(response(call).trace().queueNanos()).isEqualTo(100 * MS);
    }

    @Test
    void refusesAtOnceWithTheEarliestAdmissionItsClassAllows() {
        Harness h = harness("""
                limits: [{rate: 1/s, burst: 1}]
                max_wait: 2s
                priority: {}""");
        h.execute(of(Priority.INTERACTIVE, "/i0")); // the token; interactive's pass moves on
        CompletableFuture<FetchOutcome> b1 = h.execute(of(Priority.BATCH, "/b1")); // next turn: 1 s
        CompletableFuture<FetchOutcome> i1 = h.execute(of(Priority.INTERACTIVE, "/i1")); // after b1: 2 s

        // Each class's next request would wait 3 s at the earliest, beyond the 2 s budget.
        FetchFailure i2 = failure(h.execute(of(Priority.INTERACTIVE, "/i2")));
        assertThat(i2.type()).isEqualTo(ErrorType.RATE_LIMITED);
        assertThat(i2.retryAfter()).contains(Duration.ofSeconds(3));
        assertThat(i2.message()).contains("3000 ms", "2000 ms");
        FetchFailure b2 = failure(h.execute(of(Priority.BATCH, "/b2")));
        assertThat(b2.retryAfter()).contains(Duration.ofSeconds(3));

        h.advance(Duration.ofSeconds(3));
        assertThat(h.upstream.paths()).containsExactly("/i0", "/b1", "/i1");
        assertThat(h.upstream.sentAt()).containsExactly(0L, S, 2 * S);
        assertThat(response(b1).trace().queueNanos()).isEqualTo(S);
        assertThat(response(i1).trace().queueNanos()).isEqualTo(2 * S);
    }

    @Test
    void aReservedShareCountsInTheLowerClassesRefusal() {
        Harness h = harness("""
                limits: [{rate: 1/s, burst: 5}]
                max_wait: 2s
                priority: {reserve: {interactive: 40%}}""");
        for (int i = 0; i < 3; i++) h.execute(of(Priority.BATCH, "/b" + i)); // 5 → 2: the reserve
        // A fourth batch item needs a third token in the bucket: 1 s; a fifth, 2 s; a sixth, 3 s.
        CompletableFuture<FetchOutcome> b3 = h.execute(of(Priority.BATCH, "/b3"));
        CompletableFuture<FetchOutcome> b4 = h.execute(of(Priority.BATCH, "/b4"));
        FetchFailure b5 = failure(h.execute(of(Priority.BATCH, "/b5")));
        assertThat(b5.retryAfter()).contains(Duration.ofSeconds(3));
        // Interactive takes from the reserve at once.
        assertThat(response(h.execute(of(Priority.INTERACTIVE, "/i0"))).trace().queueNanos())
                .isZero();
        h.advance(Duration.ofSeconds(5));
        assertThat(response(b3)).isNotNull();
        assertThat(b4).isDone();
    }

    @Test
    void aQueuedRequestWhoseBudgetRunsOutIsRefusedThen() {
        Harness h = harness("""
                limits: [{rate: 1/s, burst: 4}]
                max_wait: 1500ms
                priority: {reserve: {interactive: 50%}}""");
        h.execute(of(Priority.BATCH, "/b0"));
        h.execute(of(Priority.BATCH, "/b1")); // 4 → 2: batch must leave 2
        CompletableFuture<FetchOutcome> b2 = h.execute(of(Priority.BATCH, "/b2")); // needs a third: 1 s
        assertThat(b2).isNotDone();
        h.advance(Duration.ofMillis(500));
        h.execute(of(Priority.INTERACTIVE, "/i0")); // takes from the reserve: b2 now needs 2 s more
        h.advance(Duration.ofMillis(900));
        assertThat(b2).isNotDone();
        h.advance(Duration.ofMillis(200));
        FetchFailure refused = failure(b2);
        assertThat(refused.type()).isEqualTo(ErrorType.RATE_LIMITED);
        assertThat(refused.retryAfter()).hasValueSatisfying(d -> assertThat(d).isPositive());
        assertThat(h.upstream.paths()).containsExactly("/b0", "/b1", "/i0");
        assertThat(admission.queued("example")).isZero();
    }

    @Test
    void holdsTheQueueWhileTheUpstreamCoolsDown() {
        Harness h = harness("""
                limits: [{rate: 10/s, burst: 1}]
                max_wait: 1m
                priority: {}""");
        h.upstream.enqueue(429, "Retry-After", "5");
        h.execute(of(Priority.INTERACTIVE, "/first"));
        h.execute(of(Priority.BATCH, "/b0"));
        h.execute(of(Priority.INTERACTIVE, "/i0"));
        h.advance(Duration.ofSeconds(10));
        assertThat(h.upstream.paths()).containsExactly("/first", "/b0", "/i0");
        assertThat(h.upstream.sentAt().get(1)).isGreaterThanOrEqualTo(5 * S);
    }

    @Test
    void aCancelledWaiterLeavesTheQueue() {
        Harness h = harness("limits: [{rate: 1/s, burst: 1}]\nmax_wait: 10s\npriority: {}");
        h.execute(of(Priority.BATCH, "/0"));
        var call = h.pipeline.newCall(of(Priority.BATCH, "/1"));
        CompletableFuture<FetchOutcome> cancelled = call.execute();
        call.cancel(new io.sluice.fetch.FetchException(ErrorType.CANCELLED, "client went away"));
        assertThat(failure(cancelled).type()).isEqualTo(ErrorType.CANCELLED);
        h.execute(of(Priority.BATCH, "/2"));
        h.advance(Duration.ofSeconds(2));
        assertThat(h.upstream.paths()).containsExactly("/0", "/2");
        assertThat(h.upstream.sentAt()).containsExactly(0L, S);
    }
}
