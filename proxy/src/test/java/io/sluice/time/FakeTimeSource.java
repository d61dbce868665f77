package io.sluice.time;

import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.time.ZoneOffset;
import java.util.PriorityQueue;

/**
 * Time that moves only when a test says so. {@link #advance} runs every timer that falls due, in
 * order, on the calling thread.
 */
public final class FakeTimeSource implements TimeSource {
    private final Instant epoch;
    private long nanos;
    private long sequence;
    private final PriorityQueue<Entry> timers = new PriorityQueue<>();

    public FakeTimeSource() {
        this(Instant.parse("2026-01-01T00:00:00Z"));
    }

    public FakeTimeSource(Instant start) {
        this.epoch = start;
    }

    @Override
    public synchronized long nanoTime() {
        return nanos;
    }

    @Override
    public Clock clock() {
        return new Clock() {
            @Override
            public ZoneOffset getZone() {
                return ZoneOffset.UTC;
            }

            @Override
            public Clock withZone(java.time.ZoneId zone) {
                throw new UnsupportedOperationException();
            }

            @Override
            public Instant instant() {
                return epoch.plusNanos(nanoTime());
            }
        };
    }

    @Override
    public synchronized Timer schedule(Duration delay, Runnable task) {
        Entry entry = new Entry(nanos + Math.max(0, delay.toNanos()), sequence++, task);
        timers.add(entry);
        return () -> {
            synchronized (FakeTimeSource.this) {
                return timers.remove(entry);
            }
        };
    }

    /** Moves time forward, running each timer that falls due at its own instant. */
    public void advance(Duration duration) {
        long target;
        synchronized (this) {
            target = nanos + duration.toNanos();
        }
        while (true) {
            Entry due;
            synchronized (this) {
                due = timers.peek();
                if (due == null || due.at > target) {
                    nanos = target;
                    return;
                }
                timers.poll();
                nanos = Math.max(nanos, due.at);
            }
            due.task.run();
        }
    }

    /** Timers not yet run. */
    public synchronized int pendingTimers() {
        return timers.size();
    }

    private record Entry(long at, long seq, Runnable task) implements Comparable<Entry> {
        @Override
        public int compareTo(Entry other) {
            int byTime = Long.compare(at, other.at);
            return byTime != 0 ? byTime : Long.compare(seq, other.seq);
        }
    }
}
