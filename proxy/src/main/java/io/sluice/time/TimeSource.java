package io.sluice.time;

import java.time.Clock;
import java.time.Duration;

/**
 * Time as Sluice sees it. Reading {@link System#nanoTime()} or the wall clock anywhere else is a
 * bug: it makes behaviour untestable on fake time.
 */
public interface TimeSource {

    /** Monotonic nanoseconds, only meaningful as differences (like {@link System#nanoTime()}). */
    long nanoTime();

    /** Wall clock, for HTTP dates ({@code Date}, {@code Expires}, {@code Retry-After}). */
    Clock clock();

    /**
     * Runs {@code task} once after {@code delay}. The task must be short and must not block: it
     * typically completes a future whose dependents carry on with their own executor.
     */
    Timer schedule(Duration delay, Runnable task);

    /** A scheduled task that may be cancelled before it runs. */
    interface Timer {
        /** Cancels the task if it has not run yet; returns whether it was cancelled. */
        boolean cancel();
    }

    static TimeSource system() {
        return SystemTimeSource.INSTANCE;
    }
}
