package io.sluice.limit;

import static org.assertj.core.api.Assertions.assertThat;

import io.sluice.config.Priority;
import io.sluice.config.PriorityPolicy;
import io.sluice.fetch.ErrorType;
import io.sluice.fetch.FetchException;
import io.sluice.time.FakeTimeSource;
import io.sluice.upstream.LiveState;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import org.junit.jupiter.api.Test;

class ConcurrencyLimiterTest {
    private final FakeTimeSource time = new FakeTimeSource();
    private final ConcurrencyLimiter limiter = new ConcurrencyLimiter(2, time, Runnable::run);
    private static final long FIVE_SECONDS = Duration.ofSeconds(5).toNanos();

    @Test
    void admitsUpToTheLimitAtOnce() {
        assertThat(limiter.acquire(0)).isCompleted();
        assertThat(limiter.acquire(0)).isCompleted();
        assertThat(limiter.inFlight()).isEqualTo(2);
    }

    @Test
    void refusesAtOnceWhenFullAndNoWaitIsAllowed() {
        limiter.acquire(0);
        limiter.acquire(0);
        CompletableFuture<ConcurrencyLimiter.Permit> third = limiter.acquire(0);
        assertThat(third).isCompletedExceptionally();
        assertThat(third.exceptionNow()).isInstanceOf(FetchException.class);
        assertThat(((FetchException) third.exceptionNow()).type()).isEqualTo(ErrorType.RATE_LIMITED);
    }

    @Test
    void servesWaitersFirstComeFirstServed() {
        var first = limiter.acquire(0).join();
        limiter.acquire(0).join();
        List<Integer> order = new ArrayList<>();
        for (int i = 0; i < 3; i++) {
            int n = i;
            limiter.acquire(FIVE_SECONDS).thenAccept(p -> order.add(n));
        }
        assertThat(limiter.queued()).isEqualTo(3);
        first.release();
        assertThat(order).containsExactly(0);
        first.release(); // a second release of the same permit changes nothing
        assertThat(order).containsExactly(0);
        assertThat(limiter.inFlight()).isEqualTo(2);
    }

    @Test
    void waiterFailsRateLimitedWhenItsBudgetRunsOut() {
        limiter.acquire(0);
        limiter.acquire(0);
        var waiting = limiter.acquire(FIVE_SECONDS);
        time.advance(Duration.ofMillis(4999));
        assertThat(waiting).isNotDone();
        time.advance(Duration.ofMillis(1));
        assertThat(waiting).isCompletedExceptionally();
        assertThat(waiting.exceptionNow()).hasMessageContaining("max_concurrency 2");
        assertThat(limiter.queued()).isZero();
    }

    @Test
    void raisingTheLimitLiveAdmitsWaiters() {
        limiter.acquire(0);
        limiter.acquire(0);
        var waiting = limiter.acquire(FIVE_SECONDS);
        limiter.setLimit(3);
        assertThat(waiting).isCompleted();
        assertThat(limiter.inFlight()).isEqualTo(3);
    }

    @Test
    void cuttingTheLimitTakesEffectAsPermitsReturn() {
        var a = limiter.acquire(0).join();
        limiter.acquire(0).join();
        limiter.setLimit(1);
        var waiting = limiter.acquire(FIVE_SECONDS);
        a.release();
        assertThat(waiting).isNotDone();
        assertThat(limiter.inFlight()).isEqualTo(1);
    }

    @Test
    void abandonedWaiterLeavesTheQueue() {
        limiter.acquire(0);
        limiter.acquire(0);
        var waiting = limiter.acquire(FIVE_SECONDS);
        limiter.abandon(waiting, new FetchException(ErrorType.CANCELLED, "gone"));
        assertThat(limiter.queued()).isZero();
        assertThat(waiting).isCompletedExceptionally();
    }

    @Test
    void servesWaitingClassesByWeightAndEachClassFirstComeFirstServed() {
        ConcurrencyLimiter one = new ConcurrencyLimiter(1, time, Runnable::run);
        PriorityPolicy weights = new PriorityPolicy(Map.of(), Map.of(), Priority.BATCH); // 8 : 2 : 1
        var held = new ConcurrencyLimiter.Permit[] {one.acquire(0).join()};
        List<String> order = new ArrayList<>();
        for (int i = 0; i < 4; i++) {
            String name = "b" + i;
            one.acquire(FIVE_SECONDS, Priority.BATCH, weights).thenAccept(p -> {
                order.add(name);
                held[0] = p;
            });
        }
        for (int i = 0; i < 10; i++) {
            String name = "i" + i;
            one.acquire(FIVE_SECONDS, Priority.INTERACTIVE, weights).thenAccept(p -> {
                order.add(name);
                held[0] = p;
            });
        }
        assertThat(one.queued(Priority.INTERACTIVE)).isEqualTo(10);
        assertThat(one.queued(Priority.BATCH)).isEqualTo(4);
        for (int i = 0; i < 14; i++) held[0].release();
        // Four interactive turns for each batch turn (8 : 2), the urgent class first on a tie.
        assertThat(order)
                .containsExactly("i0", "b0", "i1", "i2", "i3", "i4", "b1", "i5", "i6", "i7", "i8", "b2", "i9", "b3");
    }

    @Test
    void withoutPriorityEveryClassWaitsInOneLine() {
        ConcurrencyLimiter one = new ConcurrencyLimiter(1, time, Runnable::run);
        var held = new ConcurrencyLimiter.Permit[] {one.acquire(0).join()};
        List<String> order = new ArrayList<>();
        Priority[] classes = {Priority.BACKGROUND, Priority.BATCH, Priority.INTERACTIVE, Priority.BATCH};
        for (int i = 0; i < classes.length; i++) {
            String name = classes[i].tag() + i;
            one.acquire(FIVE_SECONDS, classes[i], null).thenAccept(p -> {
                order.add(name);
                held[0] = p;
            });
        }
        for (int i = 0; i < classes.length; i++) held[0].release();
        assertThat(order).containsExactly("background0", "batch1", "interactive2", "batch3");
    }

    @Test
    void slotWaitersShowInTheLiveStateByClass() {
        ConcurrencyStage stage = new ConcurrencyStage(time, Runnable::run);
        ConcurrencyLimiter one = stage.limiter("example", 1);
        PriorityPolicy weights = new PriorityPolicy(Map.of(), Map.of(), Priority.BATCH);
        one.acquire(0).join();
        one.acquire(FIVE_SECONDS, Priority.BATCH, weights);
        one.acquire(FIVE_SECONDS, Priority.BATCH, weights);
        one.acquire(FIVE_SECONDS, Priority.INTERACTIVE, weights);
        LiveState live = LiveState.of("example", List.of(stage));
        assertThat(live.queued()).hasValue(3);
        assertThat(live.queuedByPriority())
                .containsEntry(Priority.INTERACTIVE, 1)
                .containsEntry(Priority.BATCH, 2)
                .containsEntry(Priority.BACKGROUND, 0);
    }
}
