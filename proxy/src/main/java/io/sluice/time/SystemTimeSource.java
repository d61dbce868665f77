package io.sluice.time;

import java.time.Clock;
import java.time.Duration;
import java.util.concurrent.ScheduledThreadPoolExecutor;
import java.util.concurrent.TimeUnit;

/** Real time: {@link System#nanoTime()}, the UTC system clock, and one daemon timer thread. */
final class SystemTimeSource implements TimeSource {
    static final SystemTimeSource INSTANCE = new SystemTimeSource();

    /** Each IO thread's timers, grouped by delay in front of XNIO's own queue ({@link TimerQueues}). */
    private static final IoThreadLocal<TimerQueues> IO_TIMERS =
            new IoThreadLocal<>(io -> new TimerQueues(io, System::nanoTime, (after, run) -> {
                // XNIO counts in milliseconds: round up, so a timeout never fires early.
                var key = io.executeAfter(run, (after + 999_999) / 1_000_000, TimeUnit.MILLISECONDS);
                return key::remove;
            }));

    private final ScheduledThreadPoolExecutor timer;

    private SystemTimeSource() {
        timer = new ScheduledThreadPoolExecutor(1, runnable -> {
            Thread thread = new Thread(runnable, "sluice-timer");
            thread.setDaemon(true);
            return thread;
        });
        // Most timers are deadlines that are cancelled when the request finishes first; without
        // this the queue would hold every cancelled deadline until it expires.
        timer.setRemoveOnCancelPolicy(true);
    }

    @Override
    public long nanoTime() {
        return System.nanoTime();
    }

    @Override
    public Clock clock() {
        return Clock.systemUTC();
    }

    /**
     * On an XNIO IO thread the task goes on that thread's own timers ({@link TimerQueues}, in front of
     * XNIO's queue): scheduling there is an uncontended append with no wake-up of another thread,
     * where the shared timer thread costs a lock and often a futex wake per request (every deadline
     * and response timeout is armed, then cancelled). The task then runs on that IO thread, which is
     * where the call it belongs to lives.
     */
    @Override
    public Timer schedule(Duration delay, Runnable task) {
        long nanos = Math.max(0, delay.toNanos());
        TimerQueues queues = IO_TIMERS.get();
        if (queues != null) return queues.schedule(nanos, task);
        var future = timer.schedule(task, nanos, TimeUnit.NANOSECONDS);
        return () -> future.cancel(false);
    }

    @Override
    public String toString() {
        return "SystemTimeSource";
    }
}
