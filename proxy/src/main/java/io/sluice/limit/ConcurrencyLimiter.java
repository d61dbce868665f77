package io.sluice.limit;

import io.sluice.config.Priority;
import io.sluice.config.PriorityPolicy;
import io.sluice.fetch.ErrorType;
import io.sluice.fetch.FetchException;
import io.sluice.time.TimeSource;
import java.time.Duration;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.Executor;

/**
 * At most {@code limit} permits out at once; callers beyond that wait in FIFO order, each for at
 * most its own budget. A released permit goes straight to the oldest waiter, so a newcomer can
 * never overtake the queue. java.net.http has no per-host connection cap for HTTP/1.1: this is it.
 *
 * <p>With a {@link PriorityPolicy} (the upstream's {@code priority}), waiters queue by class, FIFO
 * within each, and freed permits go to the classes by weight, as tokens do in {@link FairQueue}
 * (stride scheduling, the more urgent class on a tie). Reserves are a share of a bucket's burst and
 * do not apply to slots.
 */
public final class ConcurrencyLimiter {
    private static final Priority[] CLASSES = Priority.values();

    private final TimeSource time;
    private final Executor executor;
    /** One queue per class; without priority every waiter queues in the first. */
    private final List<ArrayDeque<Waiter>> waiters = new ArrayList<>();

    private final long[] pass = new long[CLASSES.length];
    private long virtualTime;
    private PriorityPolicy policy;
    private int waiting;
    private int limit;
    private int inFlight;

    public ConcurrencyLimiter(int limit, TimeSource time, Executor executor) {
        if (limit < 1) throw new IllegalArgumentException("limit must be at least 1: " + limit);
        this.limit = limit;
        this.time = time;
        this.executor = executor;
        for (int i = 0; i < CLASSES.length; i++) waiters.add(new ArrayDeque<>());
    }

    /** A permit now, or once one frees within {@code maxWaitNanos}; else fails {@code rate_limited}. */
    public CompletableFuture<Permit> acquire(long maxWaitNanos) {
        return acquire(maxWaitNanos, Priority.INTERACTIVE, null);
    }

    /**
     * {@link #acquire(long)} for a request of class {@code priority}: with {@code policy} (non-null
     * when the upstream sets {@code priority}) it waits in its class's queue, served by the policy's
     * weights; with null, first come first served whatever its class.
     */
    public CompletableFuture<Permit> acquire(long maxWaitNanos, Priority priority, PriorityPolicy policy) {
        Waiter waiter;
        synchronized (this) {
            if (inFlight < limit && waiting == 0) {
                inFlight++;
                return CompletableFuture.completedFuture(new Permit());
            }
            if (maxWaitNanos <= 0) return CompletableFuture.failedFuture(full(0));
            this.policy = policy;
            waiter = new Waiter(maxWaitNanos, policy == null ? 0 : priority.ordinal());
            ArrayDeque<Waiter> q = waiters.get(waiter.cls);
            // A class that was idle joins at the current virtual time: it neither lost its turns
            // while idle nor saved them up.
            if (q.isEmpty()) pass[waiter.cls] = Math.max(pass[waiter.cls], virtualTime);
            q.addLast(waiter);
            waiting++;
        }
        waiter.timer = time.schedule(Duration.ofNanos(maxWaitNanos), () -> expire(waiter));
        return waiter.future;
    }

    /** Gives up waiting (the call was cancelled); a no-op once the waiter holds a permit. */
    public void abandon(CompletableFuture<Permit> pending, Throwable reason) {
        synchronized (this) {
            for (ArrayDeque<Waiter> q : waiters) {
                if (q.removeIf(w -> w.future == pending)) waiting--;
            }
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
        return waiting;
    }

    /** Whether waiters last queued by class (the upstream sets {@code priority}). */
    public synchronized boolean byClass() {
        return policy != null;
    }

    /** Waiters of class {@code p} (all of them count as interactive without priority). */
    public synchronized int queued(Priority p) {
        return waiters.get(p.ordinal()).size();
    }

    public synchronized int limit() {
        return limit;
    }

    private void expire(Waiter waiter) {
        boolean removed;
        synchronized (this) {
            removed = waiters.get(waiter.cls).remove(waiter);
            if (removed) waiting--;
        }
        if (removed) waiter.future.completeExceptionally(full(waiter.budgetNanos));
    }

    private void release() {
        synchronized (this) {
            inFlight--;
        }
        dispatch();
    }

    /**
     * Hands free permits to waiters, oldest first (by class and weight with priority), completing
     * them off the releasing thread.
     */
    private void dispatch() {
        while (true) {
            Waiter next;
            synchronized (this) {
                if (inFlight >= limit || waiting == 0) return;
                int c = next();
                next = waiters.get(c).pollFirst();
                waiting--;
                if (policy != null) {
                    virtualTime = pass[c];
                    pass[c] += FairQueue.UNIT / policy.weight(CLASSES[c]);
                }
                inFlight++;
            }
            next.timer.cancel();
            Permit permit = new Permit();
            executor.execute(() -> {
                if (!next.future.complete(permit)) permit.release();
            });
        }
    }

    /** The waiting class with the lowest pass, the more urgent on a tie. Holds the lock; some class waits. */
    private int next() {
        int best = -1;
        for (int c = 0; c < CLASSES.length; c++) {
            if (waiters.get(c).isEmpty()) continue;
            if (best < 0 || pass[c] < pass[best]) best = c;
        }
        return best;
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
        final int cls;
        volatile TimeSource.Timer timer = () -> false;

        Waiter(long budgetNanos, int cls) {
            this.budgetNanos = budgetNanos;
            this.cls = cls;
        }
    }
}
