package io.sluice.time;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.SplittableRandom;
import java.util.concurrent.CompletableFuture;
import org.junit.jupiter.api.Test;

/** One thread's timers grouped by delay, driven on fake time through a fake underlying scheduler. */
class TimerQueuesTest {
    private static final long MS = 1_000_000L;

    /** The underlying scheduler: what is armed, run by {@link #advanceTo} in deadline order. */
    private final List<Armed> armed = new ArrayList<>();

    private long now = 1_000 * MS;
    private final TimerQueues timers = new TimerQueues(Thread.currentThread(), () -> now, (after, task) -> {
        Armed a = new Armed(now + after, task);
        armed.add(a);
        return () -> armed.remove(a);
    });

    private record Armed(long due, Runnable task) {}

    private void advanceTo(long nanos) {
        while (true) {
            Armed next = armed.stream()
                    .filter(a -> a.due() <= nanos)
                    .min(Comparator.comparingLong(Armed::due))
                    .orElse(null);
            if (next == null) break;
            armed.remove(next);
            now = Math.max(now, next.due());
            next.task().run();
        }
        now = nanos;
    }

    @Test
    void runsEachTimerOnceItsDelayHasPassedAndNotBefore() {
        List<String> ran = new ArrayList<>();
        long start = now;
        timers.schedule(30 * MS, () -> ran.add("a"));
        advanceTo(start + 10 * MS);
        timers.schedule(30 * MS, () -> ran.add("b"));
        timers.schedule(5 * MS, () -> ran.add("c"));

        advanceTo(start + 29 * MS);
        assertThat(ran).containsExactly("c");
        advanceTo(start + 30 * MS);
        assertThat(ran).containsExactly("c", "a");
        advanceTo(start + 39 * MS);
        assertThat(ran).containsExactly("c", "a");
        advanceTo(start + 40 * MS);
        assertThat(ran).containsExactly("c", "a", "b");
        assertThat(armed).as("nothing left armed").isEmpty();
    }

    @Test
    void aDelayIsRoundedUpToWholeMillisecondsSoNothingRunsEarly() {
        List<String> ran = new ArrayList<>();
        long start = now;
        timers.schedule(MS / 2, () -> ran.add("half"));
        advanceTo(start + MS - 1);
        assertThat(ran).isEmpty();
        advanceTo(start + MS);
        assertThat(ran).containsExactly("half");
    }

    @Test
    void aCancelledTimerNeverRunsAndOnlyTheFirstOfCancelAndRunWins() {
        List<String> ran = new ArrayList<>();
        long start = now;
        TimeSource.Timer a = timers.schedule(10 * MS, () -> ran.add("a"));
        TimeSource.Timer b = timers.schedule(10 * MS, () -> ran.add("b"));

        assertThat(a.cancel()).isTrue();
        assertThat(a.cancel()).isFalse();
        advanceTo(start + 10 * MS);
        assertThat(ran).containsExactly("b");
        assertThat(b.cancel()).as("already ran").isFalse();
    }

    @Test
    void aTimerCancelledFromAnotherThreadIsDroppedWhenReached() throws Exception {
        List<String> ran = new ArrayList<>();
        long start = now;
        TimeSource.Timer a = timers.schedule(10 * MS, () -> ran.add("a"));
        timers.schedule(10 * MS, () -> ran.add("b"));

        assertThat(CompletableFuture.supplyAsync(a::cancel).get()).isTrue();
        advanceTo(start + 10 * MS);
        assertThat(ran).containsExactly("b");
    }

    @Test
    void aFailingTaskDoesNotStopTheOnesAfterIt() {
        List<String> ran = new ArrayList<>();
        long start = now;
        timers.schedule(10 * MS, () -> {
            throw new IllegalStateException("boom");
        });
        timers.schedule(10 * MS, () -> ran.add("after"));
        advanceTo(start + 20 * MS);
        timers.schedule(10 * MS, () -> ran.add("later"));
        advanceTo(start + 30 * MS);
        assertThat(ran).containsExactly("after", "later");
    }

    @Test
    void aTaskMayScheduleAnotherOfTheSameDelay() {
        List<String> ran = new ArrayList<>();
        long start = now;
        timers.schedule(10 * MS, () -> {
            ran.add("first");
            timers.schedule(10 * MS, () -> ran.add("second"));
        });
        advanceTo(start + 19 * MS);
        assertThat(ran).containsExactly("first");
        advanceTo(start + 20 * MS);
        assertThat(ran).containsExactly("first", "second");
    }

    @Test
    void aTimerScheduledByARunningTaskDoesNotDelayTheOnesAlreadyWaiting() {
        List<Long> ranAt = new ArrayList<>();
        long start = now;
        timers.schedule(10 * MS, () -> timers.schedule(10 * MS, () -> ranAt.add(now - start)));
        advanceTo(start + 5 * MS);
        timers.schedule(10 * MS, () -> ranAt.add(now - start)); // due at 15, before the one due at 20
        advanceTo(start + 30 * MS);
        assertThat(ranAt).containsExactly(15 * MS, 20 * MS);
    }

    @Test
    void pastTheGroupLimitTimersGoToTheUnderlyingSchedulerAndStillRunOnTime() {
        List<Long> ranAt = new ArrayList<>();
        long start = now;
        int delays = TimerQueues.MAX_GROUPS + 10;
        for (int d = 1; d <= delays; d++) timers.schedule(d * MS, () -> ranAt.add(now - start));
        advanceTo(start + delays * MS);
        assertThat(ranAt).hasSize(delays);
        for (int d = 1; d <= delays; d++) assertThat(ranAt.get(d - 1)).isEqualTo(d * MS);
    }

    @Test
    void randomSchedulesAndCancelsRunExactlyTheUncancelledOnesNoEarlierThanDue() {
        SplittableRandom random = new SplittableRandom(11);
        long start = now;
        List<long[]> runs = new ArrayList<>(); // {id, due, ranAt}
        List<TimeSource.Timer> handles = new ArrayList<>();
        List<Long> dues = new ArrayList<>();
        boolean[] cancelled = new boolean[3_000];
        for (int id = 0; id < cancelled.length; id++) {
            advanceTo(now + random.nextLong(0, 200_000)); // up to 0.2 ms between schedules
            long delay = (1 + random.nextInt(5)) * 7 * MS - random.nextLong(MS); // five delays, some not whole ms
            long due = now + delay;
            int me = id;
            handles.add(timers.schedule(delay, () -> runs.add(new long[] {me, due, now})));
            dues.add(due);
            if (id > 0 && random.nextInt(3) == 0) {
                int victim = random.nextInt(id + 1);
                if (!cancelled[victim] && handles.get(victim).cancel()) cancelled[victim] = true;
            }
        }
        advanceTo(now + 100 * MS);

        long expected = 0;
        for (boolean c : cancelled) if (!c) expected++;
        assertThat(runs).hasSize((int) expected);
        for (long[] run : runs) {
            assertThat(cancelled[(int) run[0]]).isFalse();
            assertThat(run[2]).as("ran no earlier than due").isGreaterThanOrEqualTo(run[1]);
            assertThat(run[2] - run[1]).as("and within a millisecond of it").isLessThan(MS);
        }
        assertThat(armed).isEmpty();
        assertThat(start).isLessThan(now);
    }
}
