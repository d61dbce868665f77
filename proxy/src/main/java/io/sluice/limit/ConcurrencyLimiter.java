package io.sluice.limit;

import io.sluice.fetch.ErrorType;
import io.sluice.fetch.FetchException;
import io.sluice.time.TimeSource;
import java.time.Duration;
import java.util.ArrayDeque;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.Executor;

/**
 * At most {@code limit} permits out at once; callers beyond that wait in FIFO order, each for at
 * most its own budget. A released permit goes straight to the oldest waiter, so a newcomer can
 * never overtake the queue. java.net.http has no per-host connection cap for HTTP/1.1: this is it.
 */
public final class ConcurrencyLimiter {
    private final TimeSource time;
    private final Executor executor;
    private final ArrayDeque<Waiter> waiters = new ArrayDeque<>();
    private int limit;
    private int inFlight;

    public ConcurrencyLimiter(int limit, TimeSource time, Executor executor) {
        if (limit < 1) throw new IllegalArgumentException("limit must be at least 1: " + limit);
        this.limit = limit;
        this.time = time;
        this.executor = executor;
    }

    /** A permit now, or once one frees within {@code maxWaitNanos}; else fails {@code rate_limited}. */
    public CompletableFuture<Permit> acquire(long maxWaitNanos) {
        Waiter waiter;
        synchronized (this) {
            if (inFlight < limit && waiters.isEmpty()) {
                inFlight++;
                return CompletableFuture.completedFuture(new Permit());
            }
            if (maxWaitNanos <= 0) return CompletableFuture.failedFuture(full(0));
            waiter = new Waiter(maxWaitNanos);
            waiters.addLast(waiter);
        }
        waiter.timer = time.schedule(Duration.ofNanos(maxWaitNanos), () -> expire(waiter));
        return waiter.future;
    }

    /** Gives up waiting (the call was cancelled); a no-op once the waiter holds a permit. */
    public void abandon(CompletableFuture<Permit> pending, Throwable reason) {
        synchronized (this) {
            waiters.removeIf(w -> w.future == pending);
        }
        // If the permit was granted just before this, the stage's own path releases it: the
        // cancelled call fails before using it.
        pending.completeExceptionally(reason);
    }

    /** Changes the cap live; a raise admits waiters at once, a cut takes effect as permits return. */
    public void setLimit(int newLimit) {
        if (newLimit < 1) throw new IllegalArgumentException("limit must be at least 1: " + newLimit);
        synchronized (this) {
            if (newLimit == limit) return;
            limit = newLimit;
        }
        dispatch();
    }

    public synchronized int inFlight() {
        return inFlight;
    }

    public synchronized int queued() {
        return waiters.size();
    }

    public synchronized int limit() {
        return limit;
    }

    private void expire(Waiter waiter) {
        boolean removed;
        synchronized (this) {
            removed = waiters.remove(waiter);
        }
        if (removed) waiter.future.completeExceptionally(full(waiter.budgetNanos));
    }

    private void release() {
        synchronized (this) {
            inFlight--;
        }
        dispatch();
    }

    /** Hands free permits to waiters, oldest first, completing them off the releasing thread. */
    private void dispatch() {
        while (true) {
            Waiter next;
            synchronized (this) {
                if (inFlight >= limit || waiters.isEmpty()) return;
                next = waiters.pollFirst();
                inFlight++;
            }
            next.timer.cancel();
            Permit permit = new Permit();
            executor.execute(() -> {
                if (!next.future.complete(permit)) permit.release();
            });
        }
    }

    private FetchException full(long budgetNanos) {
        return new FetchException(
                ErrorType.RATE_LIMITED,
                "no free connection slot within "
                        + Duration.ofNanos(budgetNanos).toMillis() + " ms (max_concurrency " + limit() + ")");
    }

    /** One slot; release it exactly once (later calls are ignored). */
    public final class Permit {
        private boolean released;

        public void release() {
            synchronized (this) {
                if (released) return;
                released = true;
            }
            ConcurrencyLimiter.this.release();
        }
    }

    private static final class Waiter {
        final CompletableFuture<Permit> future = new CompletableFuture<>();
        final long budgetNanos;
        volatile TimeSource.Timer timer = () -> false;

        Waiter(long budgetNanos) {
            this.budgetNanos = budgetNanos;
        }
    }
}
