package io.sluice.limit;

import io.sluice.config.Priority;
import io.sluice.config.PriorityPolicy;
import io.sluice.fetch.Call;
import io.sluice.fetch.FetchException;
import io.sluice.time.TimeSource;
import java.time.Duration;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.function.LongSupplier;

/**
 * The token wait of an upstream whose policy sets {@code priority}: one first-come first-served
 * queue per class, served by weight as tokens come in (stride scheduling: a class's pass advances
 * by {@code 1/weight} for every token it takes, and the waiting class with the lowest pass goes
 * next, the more urgent class on a tie). A class's {@code reserve} is enforced at every take: a
 * class below it takes a token only when the reserve's share of the burst would still remain.
 *
 * <p>Unlike the plain wait, which hands out tokens by reservation (debt) so that the order is fixed
 * at arrival, here a request does not own a token until it is served, so a later, more urgent
 * request can go first. A waiter's admission time is therefore no longer known exactly; a request
 * is refused at once only when a lower bound on its wait (its own class ahead of it, the other
 * classes' turns before it by stride, the tokens its class must leave) already exceeds its wait
 * budget, and a queued request whose budget runs out is refused then, with the same lower bound as
 * its retry-after.
 *
 * <p>No dispatch happens while the upstream cools down; tokens are taken only from a bucket of this
 * process (a shared bucket keeps the plain wait). With {@code per: key} limits there is one such
 * wait per key, for the key's own tokens (held by the key's bucket, see
 * {@link LocalTokenBucket#waitLine}), and the upstream's for its tokens, which a request joins only
 * once its key's token is taken: the classes order the waiters of one key, and across keys the
 * requests that their keys already admit.
 */
final class FairQueue {
    private static final Priority[] CLASSES = Priority.values();
    private static final CompletableFuture<Void> SERVED = CompletableFuture.completedFuture(null);
    /** A class of weight w advances its pass by UNIT / w per token (exact for weights 1–16 and 1000). */
    static final long UNIT = 720_720_000L;

    /** Makes the refusal of a request that cannot be admitted within its budget. */
    interface Refusal {
        FetchException of(long waitNanos, long budgetNanos);
    }

    private final TimeSource time;
    private final LongSupplier cooldownUntil;
    private final Refusal refusal;

    // Guarded by this.
    private final List<ArrayDeque<Waiter>> queues = new ArrayList<>();
    private final long[] pass = new long[CLASSES.length];
    private long virtualTime;
    private LocalTokenBucket bucket;
    private PriorityPolicy policy;
    private TimeSource.Timer timer;
    private long timerAt;

    FairQueue(TimeSource time, LongSupplier cooldownUntil, Refusal refusal) {
        this.time = time;
        this.cooldownUntil = cooldownUntil;
        this.refusal = refusal;
        for (int i = 0; i < CLASSES.length; i++) queues.add(new ArrayDeque<>());
    }

    /**
     * Completes when {@code call}, of class {@code cls}, has its token from {@code bucket}; fails at
     * once when it certainly cannot have it within its budget, or later when its budget runs out in
     * the queue.
     */
    CompletableFuture<Void> admit(
            Call call,
            Priority cls,
            LocalTokenBucket bucket,
            PriorityPolicy policy,
            long tokenStart,
            long budgetEnd,
            long now) {
        return admit(call, cls, bucket, policy, tokenStart, tokenStart, budgetEnd, now);
    }

    /**
     * As above, for a request that has already waited since {@code budgetStart} elsewhere (for its
     * key's token): its time here counts as queueing from {@code tokenStart}, and a refusal names
     * the whole budget.
     */
    CompletableFuture<Void> admit(
            Call call,
            Priority priority,
            LocalTokenBucket bucket,
            PriorityPolicy policy,
            long tokenStart,
            long budgetStart,
            long budgetEnd,
            long now) {
        int cls = priority.ordinal();
        synchronized (this) {
            // Nobody waiting and a token there: served at once, as dispatch would serve a lone
            // waiter, without making one (no allocation on the path that does not wait).
            if (isEmpty() && cooldownUntil.getAsLong() <= now) {
                this.bucket = bucket;
                this.policy = policy;
                pass[cls] = Math.max(pass[cls], virtualTime);
                if (bucket.tryTake(keep(cls))) {
                    virtualTime = pass[cls];
                    pass[cls] += stride(cls);
                    if (now != tokenStart) call.trace().addQueue(now - tokenStart);
                    return SERVED;
                }
            }
        }
        Waiter w = new Waiter(call, cls, tokenStart, budgetStart, budgetEnd);
        List<Waiter> ready;
        long refused = -1;
        boolean servedNow;
        synchronized (this) {
            this.bucket = bucket;
            this.policy = policy;
            ArrayDeque<Waiter> q = queues.get(w.cls);
            // A class that was idle joins at the current virtual time: it neither lost its turns
            // while idle nor saved them up.
            if (q.isEmpty()) pass[w.cls] = Math.max(pass[w.cls], virtualTime);
            q.addLast(w);
            ready = dispatch(now);
            if (!w.done) {
                long wait = estimate(w, q.size() - 1L);
                if (wait > budgetEnd - now) {
                    q.removeLast();
                    w.done = true;
                    refused = wait;
                }
            }
            servedNow = w.done && refused < 0;
        }
        release(ready, w, now);
        if (refused >= 0) return CompletableFuture.failedFuture(refusal.of(refused, budgetEnd - budgetStart));
        if (servedNow) {
            if (now != tokenStart) call.trace().addQueue(now - tokenStart);
            return CompletableFuture.completedFuture(null);
        }
        long left = budgetEnd - now;
        // One nanosecond past the budget: a token due exactly at its end is still taken.
        w.expiry = time.schedule(Duration.ofNanos(left == Long.MAX_VALUE ? left : left + 1), () -> expire(w));
        call.onCancel(reason -> abandon(w, reason));
        return w.future;
    }

    /** Requests waiting in class {@code p}. */
    synchronized int queued(Priority p) {
        return queues.get(p.ordinal()).size();
    }

    /** Requests waiting in every class. */
    synchronized int queued() {
        int n = 0;
        for (ArrayDeque<Waiter> q : queues) n += q.size();
        return n;
    }

    // ---- under the lock ----

    /** Serves waiters while tokens allow; arms the timer for the next token. Holds the lock. */
    private List<Waiter> dispatch(long now) {
        List<Waiter> ready = List.of();
        if (isEmpty()) return ready;
        long pausedUntil = cooldownUntil.getAsLong();
        if (pausedUntil > now) {
            arm(now, pausedUntil);
            return ready;
        }
        while (true) {
            int c = pick();
            if (c < 0) break;
            Waiter w = queues.get(c).pollFirst();
            w.done = true;
            virtualTime = pass[c];
            pass[c] += stride(c);
            if (ready.isEmpty()) ready = new ArrayList<>();
            ready.add(w);
        }
        if (!isEmpty()) arm(now, now + Math.max(1, nextWait()));
        return ready;
    }

    /**
     * The class to serve now, whose token has just been taken; -1 when no waiting class may take
     * one. Classes are tried by pass: the first may be held back by a reserve that a more urgent
     * class behind it is not.
     */
    private int pick() {
        int tried = 0;
        while (true) {
            int best = -1;
            for (int c = 0; c < CLASSES.length; c++) {
                if ((tried & (1 << c)) != 0 || queues.get(c).isEmpty()) continue;
                if (best < 0 || pass[c] < pass[best]) best = c;
            }
            if (best < 0) return -1;
            if (bucket.tryTake(keep(best))) return best;
            tried |= 1 << best;
        }
    }

    /** Nanoseconds until some waiting class may take a token. */
    private long nextWait() {
        long wait = Long.MAX_VALUE;
        for (int c = 0; c < CLASSES.length; c++) {
            if (!queues.get(c).isEmpty()) wait = Math.min(wait, bucket.nanosUntil(keep(c) + 1));
        }
        return wait;
    }

    /**
     * A lower bound on the nanoseconds until {@code w}, {@code k}-th in its class's queue, is
     * served, if nothing else arrives (arrivals only push it back). Ahead of it: the {@code k} of its
     * class, and each other class's turns whose pass comes before its own (at most that class's
     * queue). A class that must leave more tokens than {@code w}'s class may be held back and take
     * fewer turns, so it is not counted. Then {@code w}'s class must find its own reserve left.
     */
    private long estimate(Waiter w, long k) {
        int c = w.cls;
        long target = pass[c] + k * stride(c);
        long keep = keep(c);
        long ahead = k;
        for (int d = 0; d < CLASSES.length; d++) {
            int queued = queues.get(d).size();
            if (d == c || queued == 0 || keep(d) > keep) continue;
            long diff = target - pass[d];
            long s = stride(d);
            long turns = diff > 0 ? (diff + s - 1) / s : 0;
            if (diff >= 0 && diff % s == 0 && d < c) turns++;
            ahead += Math.min(queued, turns);
        }
        return bucket.nanosUntil(ahead + 1 + keep);
    }

    /** Tokens a request of class {@code c} must leave: its reserve share of the smallest burst, never all of it. */
    private long keep(int c) {
        double share = policy.keepShare(CLASSES[c]);
        if (share == 0) return 0;
        long burst = bucket.smallestBurst();
        return Math.min(burst - 1, (long) Math.floor(share * burst));
    }

    private long stride(int c) {
        return UNIT / policy.weight(CLASSES[c]);
    }

    private boolean isEmpty() {
        for (ArrayDeque<Waiter> q : queues) if (!q.isEmpty()) return false;
        return true;
    }

    private void arm(long now, long at) {
        if (timer != null && timerAt <= at) return;
        if (timer != null) timer.cancel();
        timerAt = at;
        timer = time.schedule(Duration.ofNanos(at - now), this::onTimer);
    }

    // ---- outside the lock ----

    private void onTimer() {
        long now = time.nanoTime();
        List<Waiter> ready;
        synchronized (this) {
            timer = null;
            ready = dispatch(now);
        }
        release(ready, null, now);
    }

    /** Lets the served waiters go (all but {@code self}, the request being admitted right now). */
    private static void release(List<Waiter> ready, Waiter self, long now) {
        for (Waiter w : ready) {
            if (w == self) continue;
            TimeSource.Timer expiry = w.expiry;
            if (expiry != null) expiry.cancel();
            w.call.trace().addQueue(now - w.start);
            w.future.complete(null);
        }
    }

    private void expire(Waiter w) {
        long now = time.nanoTime();
        long wait;
        synchronized (this) {
            if (w.done) return;
            ArrayDeque<Waiter> q = queues.get(w.cls);
            long k = 0;
            for (Waiter other : q) {
                if (other == w) break;
                k++;
            }
            wait = estimate(w, k);
            q.remove(w);
            w.done = true;
        }
        w.call.trace().addQueue(now - w.start);
        w.future.completeExceptionally(refusal.of(Math.max(1, wait), w.budgetEnd - w.budgetStart));
    }

    private void abandon(Waiter w, Throwable reason) {
        synchronized (this) {
            if (w.done) return;
            queues.get(w.cls).remove(w);
            w.done = true;
        }
        TimeSource.Timer expiry = w.expiry;
        if (expiry != null) expiry.cancel();
        w.future.completeExceptionally(reason);
    }

    @Override
    public String toString() {
        return "FairQueue" + queues.stream().map(ArrayDeque::size).toList();
    }

    private static final class Waiter {
        final Call call;
        final int cls;
        final long start;
        final long budgetStart;
        final long budgetEnd;
        final CompletableFuture<Void> future = new CompletableFuture<>();
        /** Guarded by the queue's lock: served, refused or abandoned. */
        boolean done;

        volatile TimeSource.Timer expiry;

        Waiter(Call call, int cls, long start, long budgetStart, long budgetEnd) {
            this.call = call;
            this.cls = cls;
            this.start = start;
            this.budgetStart = budgetStart;
            this.budgetEnd = budgetEnd;
        }
    }
}
