package io.sluice.limit;

import io.sluice.config.CooldownScope;
import io.sluice.config.Policy;
import io.sluice.config.Priority;
import io.sluice.config.PriorityPolicy;
import io.sluice.config.RateLimit;
import io.sluice.config.RetryPolicy;
import io.sluice.fetch.Call;
import io.sluice.fetch.ErrorType;
import io.sluice.fetch.FetchException;
import io.sluice.fetch.FetchListener;
import io.sluice.fetch.FetchResponse;
import io.sluice.http.RateLimitHeaders;
import io.sluice.http.RetryAfter;
import io.sluice.time.TimeSource;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.LongAdder;

/**
 * Admission to one upstream: its token buckets and its cooldown. A request is admitted when the
 * upstream is not cooling down and its token is due; it waits for both on timers, never on a
 * thread. While a cooldown lasts, arriving requests queue here in order and take their tokens
 * only when it ends, so the bucket's burst, not the backlog, bounds what goes out at that moment.
 *
 * <p>Times are monotonic nanoseconds of the injected {@link TimeSource}; a shared store speaks
 * wall-clock instants, converted at the edge.
 */
final class Gate {
    private static final System.Logger LOG = System.getLogger(Gate.class.getName());
    private static final CompletableFuture<Void> ADMITTED = CompletableFuture.completedFuture(null);

    private final String upstream;
    private final LimitStore store;
    private final LimitStore keyStore;
    private final TimeSource time;
    private final LongAdder cappedCooldowns;
    private final KeyLabels labels;
    private final LearnedLimits learned;
    /** With {@code cooldown: key}: each cooling key's pause. */
    private final KeyCooldowns keyCooldowns;

    private volatile List<RateLimit> limits;
    private volatile Policy applied;
    private volatile String limitsText = "[]";
    /** The upstream's own bucket: its limits without {@code per: key}; null when there are none. */
    private volatile TokenBucket bucket;
    /** The {@code per: key} buckets; null when no limit is per key. */
    private volatile KeyedBuckets keyed;
    /** The limits of particular keys ({@code key_limits}), as applied with {@link #keyed}. */
    private volatile KeyOverrides overrides = KeyOverrides.NONE;

    private volatile int bare429s;

    // Guarded by this.
    /**
     * Monotonic instant the cooldown ends; starts at creation (already past), never at
     * {@code Long.MIN_VALUE}: {@code nanoTime} may be any value, and the subtraction would wrap.
     */
    private long cooldownUntil;

    private final ArrayDeque<Paused> paused = new ArrayDeque<>();
    /** Of {@link #paused}, how many are in each class (guarded by this). */
    private final int[] pausedByClass = new int[Priority.values().length];
    /** The token wait by class, for a policy that sets {@code priority}. */
    private final FairQueue fair;

    private boolean draining;
    private TimeSource.Timer resumeTimer;
    private long resumeAt;

    /** A gate that admits against the configured limits only (nothing learned unless the policy says learn). */
    Gate(
            String upstream,
            LimitStore store,
            LimitStore keyStore,
            TimeSource time,
            LongAdder cappedCooldowns,
            KeyLabels labels) {
        this(upstream, store, keyStore, time, cappedCooldowns, labels, new LearnedLimits(upstream));
    }

    Gate(
            String upstream,
            LimitStore store,
            LimitStore keyStore,
            TimeSource time,
            LongAdder cappedCooldowns,
            KeyLabels labels,
            LearnedLimits learned) {
        this.upstream = upstream;
        this.learned = learned;
        this.keyStore = keyStore;
        this.labels = labels;
        this.store = store;
        this.time = time;
        this.cappedCooldowns = cappedCooldowns;
        this.cooldownUntil = time.nanoTime();
        this.keyCooldowns = new KeyCooldowns(time);
        this.fair = new FairQueue(time, this::cooldownEnd, this::noToken);
    }

    /**
     * Completes when {@code call} may be sent under {@code policy} (its upstream's, as the chain
     * handed it down); fails at once with {@code rate_limited} and the exact wait when the cooldown,
     * the queue ahead and the bucket already show that it cannot be admitted within its wait budget.
     */
    CompletableFuture<Void> admit(Call call, Policy policy) {
        long start = time.nanoTime();
        long budgetEnd = saturatedAdd(start, call.waitBudgetNanos(start, policy));
        return afterKeyCooldown(call, policy, start, budgetEnd, start);
    }

    /**
     * With {@code cooldown: key}, first waits out the pause of {@code call}'s own key (refused at
     * once when it outlasts the wait budget), then admits as usual. In a single sidecar, keys that
     * are not cooling down, and every request while no key is, go straight on: the label is only
     * computed when some key is paused. When key pauses are shared (Redis with
     * {@code redis.key_secret}), the key's pause is read from Redis by label first, since another
     * sidecar may have recorded it.
     */
    private CompletableFuture<Void> afterKeyCooldown(Call call, Policy policy, long start, long budgetEnd, long now) {
        if (policy.cooldown() != CooldownScope.KEY || policy.key().isEmpty()) {
            return admitNow(call, policy, start, budgetEnd);
        }
        if (!keyStore.sharesCooldowns()) {
            if (keyCooldowns.isEmpty()) return admitNow(call, policy, start, budgetEnd);
            String label = label(call, policy);
            return waitForKey(call, policy, keyCooldowns.end(label, now), start, budgetEnd, now);
        }
        String label = label(call, policy);
        return keyStore.sharedCooldownEnd(keyPauseName(label)).thenCompose(shared -> {
            long at = time.nanoTime();
            long end = keyCooldowns.end(label, at);
            long adopted = learnKeyPause(label, shared, at, policy.maxKeys());
            return waitForKey(call, policy, adopted - end > 0 ? adopted : end, start, budgetEnd, at);
        });
    }

    /** Admits {@code call} at once when its key's pause has ended by {@code now}, else after it (or refuses). */
    private CompletableFuture<Void> waitForKey(
            Call call, Policy policy, long end, long start, long budgetEnd, long now) {
        if (end - now <= 0) return admitNow(call, policy, start, budgetEnd);
        if (end - budgetEnd > 0) {
            return CompletableFuture.failedFuture(keyCoolingDown(end - now, budgetEnd - start));
        }
        CompletableFuture<Void> admitted = new CompletableFuture<>();
        TimeSource.Timer timer = time.schedule(Duration.ofNanos(end - now), () -> {
            long resumed = time.nanoTime();
            call.trace().addCooldown(resumed - now);
            // The key may have been paused again meanwhile (here or by another sidecar): check once more.
            afterKeyCooldown(call, policy, start, budgetEnd, resumed).whenComplete((ok, error) -> {
                if (error != null) admitted.completeExceptionally(error);
                else admitted.complete(null);
            });
        });
        call.onCancel(reason -> {
            if (timer.cancel()) admitted.completeExceptionally(reason);
        });
        return admitted;
    }

    /**
     * Adopts a pause of the key labelled {@code label} that another sidecar recorded, ending at the
     * wall-clock {@code end}; returns its monotonic end ({@code now} when there is none). A pause that
     * finds this sidecar's table full is still honoured by the request that read it.
     */
    private long learnKeyPause(String label, Instant end, long now, int maxKeys) {
        if (end == null || end.equals(Instant.MIN)) return now;
        Duration left = Duration.between(time.clock().instant(), end);
        if (left.isNegative() || left.isZero()) return now;
        long until = now + left.toNanos();
        keyCooldowns.extend(label, until, maxKeys);
        return until;
    }

    /** The name of a key's pause in the store (in Redis: part of its key), made of the label alone. */
    private String keyPauseName(String label) {
        return upstream + ":key:" + label;
    }

    private CompletableFuture<Void> admitNow(Call call, Policy policy, long start, long budgetEnd) {
        // The configured limits, and with learn: those the upstream announced (all must admit).
        List<RateLimit> currentLimits = learned.effective(policy);
        CompletableFuture<Instant> shared = store.sharedCooldownEnd(upstream);
        if (shared == null) return admit(call, policy, currentLimits, start, budgetEnd, start, false);
        TokenBucket b = pausedAt(start) ? null : bucket(call, policy, currentLimits);
        if (b != null) {
            // Ask Redis for the shared cooldown and for the token at once: a round trip less than
            // one after the other. A cooldown that turns out to be on sends the token back.
            CompletableFuture<TokenBucket.Reservation> token = b.reserve();
            return shared.thenCombine(token, (end, reservation) -> {
                        learn(end);
                        return reservation;
                    })
                    .thenCompose(reservation -> {
                        long now = time.nanoTime();
                        if (pausedAt(now)) {
                            reservation.release();
                            // Already counted against its key when the token was taken.
                            return admit(call, policy, currentLimits, start, budgetEnd, now, true);
                        }
                        return taken(call, b, reservation, start, budgetEnd, now);
                    });
        }
        return shared.thenCompose(end -> {
            learn(end);
            return admit(call, policy, currentLimits, start, budgetEnd, time.nanoTime(), false);
        });
    }

    /** Whether a request arriving at {@code now} must queue behind a cooldown. */
    private synchronized boolean pausedAt(long now) {
        return cooldownUntil > now || !paused.isEmpty() || draining;
    }

    /** {@code counted}: whether {@code call} was already counted as a request of its key. */
    private CompletableFuture<Void> admit(
            Call call,
            Policy policy,
            List<RateLimit> currentLimits,
            long start,
            long budgetEnd,
            long now,
            boolean counted) {
        Paused waiter;
        synchronized (this) {
            if (cooldownUntil > now || !paused.isEmpty() || draining) {
                long estimate = Math.max(0, cooldownUntil - now)
                        + BucketConfigs.lowerBoundNanos(currentLimits, pausedAhead(call, policy) + 1L);
                if (estimate > budgetEnd - now) {
                    return CompletableFuture.failedFuture(coolingDown(estimate, budgetEnd - start));
                }
                waiter = new Paused(call, policy, currentLimits, start, budgetEnd, now, counted);
                paused.addLast(waiter);
                pausedByClass[waiter.priority.ordinal()]++;
                armResume(now);
            } else {
                waiter = null;
            }
        }
        if (waiter == null) return reserve(call, policy, currentLimits, start, budgetEnd, now, counted);
        waiter.expiry = time.schedule(Duration.ofNanos(budgetEnd - now), () -> expire(waiter));
        call.onCancel(reason -> abandon(waiter, reason));
        return waiter.future;
    }

    // ---- tokens ----

    /** Takes a token; {@code now} is a clock reading taken just before (one read less on the hot path). */
    private CompletableFuture<Void> reserve(
            Call call,
            Policy policy,
            List<RateLimit> currentLimits,
            long tokenStart,
            long budgetEnd,
            long now,
            boolean counted) {
        TokenBucket b = bucket(call, policy, currentLimits, !counted);
        if (b == null) {
            call.trace().addQueue(now - tokenStart);
            return ADMITTED;
        }
        Optional<PriorityPolicy> priority = policy.priority();
        if (priority.isPresent()) {
            CompletableFuture<Void> byClass =
                    prioritised(call, call.priority(policy), b, priority.get(), tokenStart, budgetEnd, now);
            if (byClass != null) return byClass;
        }
        if (b instanceof LocalTokenBucket local) return reserved(call, local.reserveNow(), tokenStart, budgetEnd, now);
        if (b instanceof BothBuckets both) return keyFirst(call, both, tokenStart, budgetEnd, now);
        return b.reserve().thenCompose(r -> reserved(call, r, tokenStart, budgetEnd, time.nanoTime()));
    }

    /**
     * The key's token first, then the upstream's. A request whose key's token is due now takes the
     * upstream's at once (the common case, no more work than before). One whose key's bucket is empty
     * waits for its key's token holding none of the upstream's, and takes the upstream's only when
     * its key's comes due: the upstream's budget is spent in the order requests become sendable, so
     * a key with a backlog of its own never delays another key whose bucket has tokens (with both
     * tokens taken at arrival, a backlog of 50 put the upstream's bucket 50 tokens into debt, which
     * every other key then waited out). Refused at once when the key's wait, or the upstream's, is
     * already past the budget.
     */
    private CompletableFuture<Void> keyFirst(Call call, BothBuckets both, long tokenStart, long budgetEnd, long now) {
        if (both.isLocal()) {
            LocalTokenBucket whole = both.localWhole();
            TokenBucket.Reservation key = both.localKey().reserveNow();
            long keyWait = key.waitNanos();
            if (keyWait == 0)
                return reserved(call, BothBuckets.both(whole.reserveNow(), key), tokenStart, budgetEnd, now);
            return afterKeyToken(
                    call,
                    key,
                    keyWait,
                    whole.nanosUntil(1),
                    () -> CompletableFuture.completedFuture(whole.reserveNow()),
                    tokenStart,
                    budgetEnd,
                    now);
        }
        // A bucket in Redis: both asked at once (one round trip); the upstream's token goes back
        // when the key's is not due yet, and is asked for again when it is.
        return both.reserve().thenCompose(r -> taken(call, both, r, tokenStart, budgetEnd, time.nanoTime()));
    }

    /**
     * Goes on with the tokens {@code b} gave (asked of Redis, both at once): when they are a key's
     * and the upstream's and the key's is not due yet, the upstream's goes back and is asked for
     * again when the key's is due.
     */
    private CompletableFuture<Void> taken(
            Call call, TokenBucket b, TokenBucket.Reservation r, long tokenStart, long budgetEnd, long now) {
        if (!(b instanceof BothBuckets both) || !(r instanceof BothBuckets.Both taken)) {
            return reserved(call, r, tokenStart, budgetEnd, now);
        }
        long keyWait = taken.key().waitNanos();
        if (keyWait == 0) return reserved(call, taken, tokenStart, budgetEnd, now);
        long wholeWait = taken.whole().waitNanos();
        taken.whole().release();
        return afterKeyToken(call, taken.key(), keyWait, wholeWait, both::reserveWhole, tokenStart, budgetEnd, now);
    }

    /**
     * Waits {@code keyWait} for the key's token already taken, then takes the upstream's. {@code
     * wholeWait}: the upstream's wait for a token now, so that the later of the two is a lower bound
     * on the request's wait.
     */
    private CompletableFuture<Void> afterKeyToken(
            Call call,
            TokenBucket.Reservation key,
            long keyWait,
            long wholeWait,
            java.util.function.Supplier<CompletableFuture<TokenBucket.Reservation>> takeWhole,
            long tokenStart,
            long budgetEnd,
            long now) {
        long atLeast = Math.max(keyWait, wholeWait);
        if (atLeast > budgetEnd - now) {
            key.release();
            return CompletableFuture.failedFuture(noToken(atLeast, budgetEnd - tokenStart));
        }
        CompletableFuture<Void> admitted = new CompletableFuture<>();
        TimeSource.Timer timer = time.schedule(
                Duration.ofNanos(keyWait),
                () -> takeWhole.get().whenComplete((whole, error) -> {
                    if (error != null) {
                        key.release();
                        admitted.completeExceptionally(error);
                        return;
                    }
                    long at = time.nanoTime();
                    if (whole.waitNanos() == 0) {
                        call.trace().addQueue(at - tokenStart);
                        // A cooldown that began meanwhile still holds the request.
                        afterToken(call, admitted, budgetEnd);
                        return;
                    }
                    reserved(call, BothBuckets.both(whole, key), tokenStart, budgetEnd, at)
                            .whenComplete((ok, refused) -> {
                                if (refused != null) admitted.completeExceptionally(refused);
                                else admitted.complete(null);
                            });
                }));
        call.onCancel(reason -> {
            if (timer.cancel()) {
                key.release();
                admitted.completeExceptionally(reason);
            }
        });
        return admitted;
    }

    /**
     * The wait by class ({@code priority}), when every bucket is in this process (null otherwise: a
     * shared bucket keeps the plain wait). With {@code per: key} limits, the key's token through its
     * key's own wait by class, then the upstream's through the upstream's: the classes order one
     * key's waiters, and across keys the requests that their keys already admit; a key whose bucket
     * is empty holds none of the upstream's tokens while it waits.
     */
    private CompletableFuture<Void> prioritised(
            Call call,
            Priority cls,
            TokenBucket b,
            PriorityPolicy priority,
            long tokenStart,
            long budgetEnd,
            long now) {
        if (b instanceof BothBuckets both) {
            if (!both.isLocal()) return null;
            LocalTokenBucket key = both.localKey();
            LocalTokenBucket whole = both.localWhole();
            CompletableFuture<Void> keyToken =
                    waitLine(key).admit(call, cls, key, priority, tokenStart, budgetEnd, now);
            if (keyToken.isDone() && !keyToken.isCompletedExceptionally()) {
                return upstreamToken(call, cls, key, whole, priority, now, tokenStart, budgetEnd, now);
            }
            return keyToken.thenCompose(ignored -> {
                long at = time.nanoTime();
                return upstreamToken(call, cls, key, whole, priority, at, tokenStart, budgetEnd, at);
            });
        }
        if (!(b instanceof LocalTokenBucket local)) return null;
        // Only the upstream's limits, or only the key's.
        FairQueue line = local == bucket ? fair : waitLine(local);
        return line.admit(call, cls, local, priority, tokenStart, budgetEnd, now);
    }

    /** The upstream's token by class, for a request holding its key's; refused, it gives the key's back. */
    private CompletableFuture<Void> upstreamToken(
            Call call,
            Priority cls,
            LocalTokenBucket key,
            LocalTokenBucket whole,
            PriorityPolicy priority,
            long queuedFrom,
            long tokenStart,
            long budgetEnd,
            long now) {
        CompletableFuture<Void> token = fair.admit(call, cls, whole, priority, queuedFrom, tokenStart, budgetEnd, now);
        if (token.isDone() && !token.isCompletedExceptionally()) return token;
        token.whenComplete((ok, refused) -> {
            if (refused != null) key.giveBack();
        });
        return token;
    }

    /** The wait by class for a key's bucket's tokens, kept with that bucket. */
    private FairQueue waitLine(LocalTokenBucket key) {
        FairQueue line = key.waitLine();
        return line != null ? line : key.waitLine(() -> new FairQueue(time, this::cooldownEnd, this::noToken));
    }

    private CompletableFuture<Void> reserved(
            Call call, TokenBucket.Reservation token, long tokenStart, long budgetEnd, long now) {
        long wait = token.waitNanos();
        if (wait == 0) {
            // Due now: admitted even with no wait budget at all (max_wait 0, or a deadline that
            // the time spent reaching this point has just used up).
            if (now != tokenStart) call.trace().addQueue(now - tokenStart);
            return ADMITTED;
        }
        if (wait > budgetEnd - now) {
            // Refused now rather than held only to fail later; the token goes back so that the
            // requests behind are not charged for one that was never sent.
            token.release();
            return CompletableFuture.failedFuture(noToken(wait, budgetEnd - tokenStart));
        }
        CompletableFuture<Void> admitted = new CompletableFuture<>();
        TimeSource.Timer timer = time.schedule(Duration.ofNanos(wait), () -> {
            call.trace().addQueue(time.nanoTime() - tokenStart);
            afterToken(call, admitted, budgetEnd);
        });
        call.onCancel(reason -> {
            if (timer.cancel()) {
                token.release();
                admitted.completeExceptionally(reason);
            }
        });
        return admitted;
    }

    /** The token is due; a cooldown that began meanwhile still holds the request (it keeps its token). */
    private void afterToken(Call call, CompletableFuture<Void> admitted, long budgetEnd) {
        CompletableFuture<Instant> shared = store.sharedCooldownEnd(upstream);
        if (shared == null) {
            hold(call, admitted, budgetEnd);
            return;
        }
        shared.whenComplete((end, error) -> {
            if (end != null) learn(end);
            hold(call, admitted, budgetEnd);
        });
    }

    private void hold(Call call, CompletableFuture<Void> admitted, long budgetEnd) {
        long now = time.nanoTime();
        long until;
        synchronized (this) {
            until = cooldownUntil;
        }
        if (until <= now) {
            admitted.complete(null);
            return;
        }
        if (until > budgetEnd) {
            admitted.completeExceptionally(coolingDown(until - now, budgetEnd - call.startNanos()));
            return;
        }
        TimeSource.Timer timer = time.schedule(Duration.ofNanos(until - now), () -> {
            call.trace().addCooldown(time.nanoTime() - now);
            afterToken(call, admitted, budgetEnd);
        });
        call.onCancel(reason -> {
            if (timer.cancel()) admitted.completeExceptionally(reason);
        });
    }

    /**
     * Takes {@code call}'s token after the fact, due or not: a {@code free_304} request that went out
     * without one and was not answered {@code 304}. The buckets may go into debt, which the requests
     * behind then wait out, so the budget is kept over time even though this one was not held back.
     */
    void charge(Call call, Policy policy) {
        TokenBucket b = bucket(call, policy, learned.effective(policy));
        if (b == null) return;
        if (b instanceof LocalTokenBucket local) local.reserveNow();
        else if (b instanceof BothBuckets both && both.isLocal()) both.reserveNow();
        else b.reserve();
    }

    /**
     * Lowers the tokens of {@code call}'s learned bucket to {@code remaining}, what the upstream
     * just said is left, when it holds more: a newly learned limit starts from the upstream's count,
     * not from a full burst, and one that others sharing the quota have spent is caught up. The
     * configured limits keep their tokens, and no token is ever added. With a policy {@code key:}
     * the learned limits are per key and the count is the key's own; a key that shares the
     * overflow bucket leaves it alone (one key's count says nothing of the others'). Buckets in
     * Redis are left as they are (see docs/limits.md).
     */
    void tightenLearned(Call call, Policy policy, long remaining) {
        List<RateLimit> wanted = learned.effective(policy);
        if (wanted != limits || policy != applied) configure(policy, wanted);
        boolean perKey = policy.key().isPresent();
        // Learned limits come after the configured ones, in each bucket's share of them.
        int from =
                (int) policy.limits().stream().filter(l -> l.perKey() == perKey).count();
        TokenBucket target;
        if (perKey) {
            KeyedBuckets k = keyed;
            if (k == null) return;
            boolean[] overflowed = {false};
            KeyOverrides o = overrides;
            String label = label(call, policy);
            List<RateLimit> own = o.limitsFor(label, call, policy);
            // Not a request: the count it carries is caught up, nothing is counted against the key.
            target = k.bucket(label, own, () -> overflowed[0] = true, false);
            if (overflowed[0]) return;
            // A key with limits of its own has its learned limits after those.
            if (own != null) from = own.size() - o.learnedTail();
        } else {
            target = bucket;
        }
        if (target instanceof LocalTokenBucket local) local.capTokens(from, remaining);
    }

    /** The buckets {@code call} takes a token from, counting it as a request of its key. */
    private TokenBucket bucket(Call call, Policy policy, List<RateLimit> wanted) {
        return bucket(call, policy, wanted, true);
    }

    /**
     * The buckets {@code call} takes a token from: the upstream's, its key's, or both. {@code count}:
     * whether to count it as a request of its key (and an overflow, when it has to share that
     * bucket); false when this admission already did, so that a request that takes its token a
     * second time (given back because a shared cooldown turned up meanwhile) still counts once.
     */
    private TokenBucket bucket(Call call, Policy policy, List<RateLimit> wanted, boolean count) {
        if (wanted != limits || policy != applied) configure(policy, wanted);
        KeyedBuckets k = keyed;
        TokenBucket whole = bucket;
        if (k == null) return whole;
        String label = label(call, policy);
        Runnable overflowed = count ? () -> call.events().keyOverflow(call, upstream) : () -> {};
        TokenBucket own = k.bucket(label, overrides.limitsFor(label, call, policy), overflowed, count);
        return whole == null ? own : new BothBuckets(whole, own);
    }

    private synchronized void configure(Policy policy, List<RateLimit> wanted) {
        if (wanted == limits && policy == applied) return;
        List<RateLimit> whole = wanted.stream().filter(l -> !l.perKey()).toList();
        List<RateLimit> perKey = wanted.stream().filter(RateLimit::perKey).toList();
        if (whole.isEmpty()) {
            bucket = null;
        } else if (bucket == null) {
            bucket = store.bucket(upstream, whole);
        } else {
            bucket.reconfigure(whole);
        }
        // Built before the buckets take the new limits: a request never sees new buckets with old overrides.
        overrides = KeyOverrides.of(policy, perKey);
        if (perKey.isEmpty() || policy.key().isEmpty()) {
            keyed = null;
        } else if (keyed == null) {
            keyed = new KeyedBuckets(upstream, keyStore, time, perKey, policy.maxKeys(), policy.maxWait());
        } else {
            keyed.configure(perKey, policy.maxKeys(), policy.maxWait());
        }
        limits = wanted;
        applied = policy;
        // Kept ready for refusals: under overload every other decision may be one.
        limitsText = describe(wanted);
    }

    /**
     * The label of {@code call}'s key, read from its own request (a batch item's own headers and
     * URL). The value is hashed here and goes no further.
     */
    private String label(Call call, Policy policy) {
        var request = call.request();
        return policy.key()
                .flatMap(key -> key.valueIn(request::header, request.uri()))
                .map(labels::label)
                .orElse(KeyLabels.NONE);
    }

    // ---- cooldowns ----

    /**
     * Reads what the upstream said about pausing. RFC 9110 §10.2.3: {@code Retry-After} on a 429
     * or 503 says how long to wait, and Sluice applies it to the whole upstream, not only to the
     * request that received it (with {@code cooldown: key}, to every request of the same key). A 429
     * without it backs off exponentially. Budget headers with nothing left pause until their reset.
     */
    void observe(FetchResponse response, Call call, Policy policy) {
        FetchListener events = call.events();
        int status = response.status();
        Instant now = time.clock().instant();
        if (status == 429 || status == 503) {
            Optional<Duration> retryAfter =
                    response.headers().firstValue("Retry-After").flatMap(value -> RetryAfter.parse(value, now));
            if (retryAfter.isPresent()) {
                cooldown(pause(call, retryAfter.get(), "Retry-After", policy), "retry_after", events);
            } else if (status == 429) {
                cooldown(pause(call, nextBackoff(policy.retry()), null, policy), "backoff_429", events);
            }
        }
        if (status != 429 && bare429s != 0) bare429s = 0;
        RateLimitHeaders.exhaustedFor(response.headers(), now)
                .ifPresent(p -> cooldown(pause(call, p, "RateLimit reset", policy), "ratelimit_reset", events));
    }

    /** Pauses {@code call}'s key with {@code cooldown: key}, else (or when the key table is full) the upstream. */
    private Duration pause(Call call, Duration pause, String source, Policy policy) {
        if (policy.cooldown() != CooldownScope.KEY || policy.key().isEmpty()) {
            return startCooldown(pause, source, policy);
        }
        Duration capped = capped(pause, source, policy);
        if (capped.isZero() || capped.isNegative()) return Duration.ZERO;
        long end = time.nanoTime() + capped.toNanos();
        String label = label(call, policy);
        return switch (keyCooldowns.extend(label, end, policy.maxKeys())) {
            case EXTENDED -> {
                // Shared by label (never by value) when every sidecar labels keys alike; no-op otherwise.
                keyStore.shareCooldown(
                        keyPauseName(label), time.clock().instant().plus(capped));
                yield capped;
            }
            case ALREADY -> Duration.ZERO;
            // max_keys keys are cooling down already: the stricter reading, the whole upstream.
            case FULL -> startCooldown(capped, null, policy);
        };
    }

    private void cooldown(Duration applied, String reason, FetchListener events) {
        if (applied.isPositive()) events.cooldownStart(upstream, applied, reason);
    }

    /**
     * Pauses the upstream for {@code pause} (extending, never shortening, a current cooldown).
     * {@code source} names the header that asked for it, whose value the policy caps; null for
     * Sluice's own backoff. Returns the pause applied, or zero when a longer one was already on.
     */
    Duration startCooldown(Duration pause, String source, Policy policy) {
        pause = capped(pause, source, policy);
        if (pause.isZero() || pause.isNegative()) return Duration.ZERO;
        long now = time.nanoTime();
        long until = now + pause.toNanos();
        synchronized (this) {
            if (until <= cooldownUntil) return Duration.ZERO;
            cooldownUntil = until;
        }
        store.shareCooldown(upstream, time.clock().instant().plus(pause));
        return pause;
    }

    /** {@code pause} bounded by {@code max_cooldown}; a header's value past it is logged and counted. */
    private Duration capped(Duration pause, String source, Policy policy) {
        Duration cap = policy.maxCooldown();
        if (source != null && pause.compareTo(cap) > 0) {
            cappedCooldowns.increment();
            LOG.log(
                    System.Logger.Level.WARNING,
                    "upstream {0}: {1} asks for a pause of {2} s; capped at max_cooldown {3} s",
                    upstream,
                    source,
                    pause.toSeconds(),
                    cap.toSeconds());
            pause = cap;
        } else if (pause.compareTo(cap) > 0) {
            pause = cap; // Sluice's own backoff: bounded by configuration, nothing to report
        }
        return pause;
    }

    /** base_delay × 2^(n-1) for the n-th 429 in a row without Retry-After, up to max_delay. */
    private synchronized Duration nextBackoff(RetryPolicy retry) {
        int n = ++bare429s;
        long max = retry.maxDelay().toNanos();
        long delay = retry.baseDelay().toNanos();
        for (int i = 1; i < n && delay < max; i++) delay = delay > max / 2 ? max : delay * 2;
        return Duration.ofNanos(Math.min(delay, max));
    }

    /** Adopts a cooldown another sidecar recorded. */
    private void learn(Instant end) {
        if (end == null || end.equals(Instant.MIN)) return;
        Duration left = Duration.between(time.clock().instant(), end);
        if (left.isNegative() || left.isZero()) return;
        long until = time.nanoTime() + left.toNanos();
        synchronized (this) {
            if (until > cooldownUntil) cooldownUntil = until;
        }
    }

    // ---- the queue behind a cooldown ----

    /** Arms the timer that releases the paused queue when the cooldown ends. Holds the lock. */
    private void armResume(long now) {
        long at = Math.max(now, cooldownUntil);
        if (resumeTimer != null && resumeAt <= at) return;
        if (resumeTimer != null) resumeTimer.cancel();
        resumeAt = at;
        resumeTimer = time.schedule(Duration.ofNanos(at - now), this::resume);
    }

    private void resume() {
        synchronized (this) {
            resumeTimer = null;
        }
        CompletableFuture<Instant> shared = store.sharedCooldownEnd(upstream);
        if (shared == null) {
            drain();
            return;
        }
        shared.whenComplete((end, error) -> {
            if (end != null) learn(end);
            drain();
        });
    }

    /** Sends the paused requests on to their buckets, oldest first. */
    private void drain() {
        while (true) {
            List<Paused> batch;
            long now = time.nanoTime();
            synchronized (this) {
                if (cooldownUntil > now) {
                    // Extended meanwhile (by this or another sidecar): wait for the new end.
                    draining = false;
                    if (!paused.isEmpty()) armResume(now);
                    return;
                }
                if (paused.isEmpty()) {
                    draining = false;
                    return;
                }
                draining = true;
                batch = new ArrayList<>(paused);
                paused.clear();
                java.util.Arrays.fill(pausedByClass, 0);
            }
            for (Paused p : batch) {
                if (!p.settled.compareAndSet(false, true)) continue;
                TimeSource.Timer expiry = p.expiry;
                if (expiry != null) expiry.cancel();
                p.call.trace().addCooldown(now - p.pausedAt);
                reserve(p.call, p.policy, p.limits, now, p.budgetEnd, now, p.counted)
                        .whenComplete((v, error) -> {
                            if (error != null) p.future.completeExceptionally(error);
                            else p.future.complete(null);
                        });
            }
        }
    }

    private void expire(Paused p) {
        if (!p.settled.compareAndSet(false, true)) return;
        long now = time.nanoTime();
        long retryAfter;
        synchronized (this) {
            if (paused.remove(p)) pausedByClass[p.priority.ordinal()]--;
            retryAfter = Math.max(0, cooldownUntil - now)
                    + BucketConfigs.lowerBoundNanos(p.limits, pausedAhead(p.call, p.policy) + 1L);
        }
        p.call.trace().addCooldown(now - p.pausedAt);
        p.future.completeExceptionally(coolingDown(retryAfter, p.budgetEnd - p.start));
    }

    private void abandon(Paused p, Throwable reason) {
        if (!p.settled.compareAndSet(false, true)) return;
        synchronized (this) {
            if (paused.remove(p)) pausedByClass[p.priority.ordinal()]--;
        }
        TimeSource.Timer expiry = p.expiry;
        if (expiry != null) expiry.cancel();
        p.future.completeExceptionally(reason);
    }

    // ---- live state ----

    synchronized Duration cooldownRemaining() {
        return Duration.ofNanos(Math.max(0, cooldownUntil - time.nanoTime()));
    }

    /** Requests waiting for a cooldown's end or, with {@code priority}, for a token. */
    int queued() {
        int behindCooldown;
        synchronized (this) {
            behindCooldown = paused.size();
        }
        // Outside this lock: the fair queue reads the cooldown under its own lock, so it is only
        // ever taken queue first, gate second.
        return behindCooldown + fair.queued();
    }

    /** Whether the policy last applied sets {@code priority}. */
    boolean prioritised() {
        Policy p = applied;
        return p != null && p.priority().isPresent();
    }

    /** Requests of class {@code p} waiting for a cooldown's end or a token. */
    int queued(Priority p) {
        int behindCooldown;
        synchronized (this) {
            behindCooldown = pausedByClass[p.ordinal()];
        }
        return behindCooldown + fair.queued(p);
    }

    /**
     * The paused requests that will certainly take their tokens before {@code call}: all of them
     * when waiting is first come, first served; with {@code priority}, those of its own class (the
     * others may go before or after it). Holds the lock.
     */
    private long pausedAhead(Call call, Policy policy) {
        if (policy.priority().isEmpty()) return paused.size();
        return pausedByClass[call.priority(policy).ordinal()];
    }

    /** Monotonic instant the cooldown ends (past when there is none). */
    private synchronized long cooldownEnd() {
        return cooldownUntil;
    }

    /** Keys with buckets of their own now (0 when no limit is per key). */
    int liveKeys() {
        KeyedBuckets k = keyed;
        return k == null ? 0 : k.liveKeys();
    }

    java.util.OptionalLong availableTokens() {
        TokenBucket b = bucket;
        return b == null ? java.util.OptionalLong.empty() : b.availableTokens();
    }

    FetchException noToken(long waitNanos, long budgetNanos) {
        return new FetchException(
                ErrorType.RATE_LIMITED,
                "upstream " + upstream + ": next token in " + ceilMillis(waitNanos) + " ms, beyond the wait budget of "
                        + ceilMillis(budgetNanos) + " ms (limits " + limitsText + ")",
                Duration.ofNanos(waitNanos),
                null);
    }

    private FetchException keyCoolingDown(long waitNanos, long budgetNanos) {
        return new FetchException(
                ErrorType.RATE_LIMITED,
                "upstream " + upstream + ": this request's key is cooling down; admission in " + ceilMillis(waitNanos)
                        + " ms at the earliest, beyond the wait budget of " + ceilMillis(budgetNanos) + " ms",
                Duration.ofNanos(waitNanos),
                null);
    }

    /** Counts a refusal at admission against {@code call}'s key (nothing without {@code per: key} limits). */
    void refused(Call call) {
        KeyedBuckets k = keyed;
        Policy policy = applied;
        if (k == null || policy == null) return;
        k.refused(label(call, policy));
    }

    /** The {@code per: key} budgets and the {@code n} busiest keys; empty without {@code per: key} limits. */
    Optional<io.sluice.upstream.KeyUsage> keyUsage(int n) {
        KeyedBuckets k = keyed;
        Policy policy = applied;
        if (k == null || policy == null) return Optional.empty();
        long now = time.nanoTime();
        List<io.sluice.upstream.KeyUsage.Key> busiest = new ArrayList<>();
        // As many as the admin API lists, or key_metrics asks for if more.
        KeyedBuckets.Busiest top = k.busiest(Math.max(n, policy.keyMetrics()));
        for (KeyedBuckets.Usage u : top.top()) {
            long left = keyCooldowns.end(u.label(), now) - now;
            busiest.add(new io.sluice.upstream.KeyUsage.Key(
                    u.label(), u.requests(), u.refusals(), u.tokensLeft(), Duration.ofNanos(Math.max(0, left))));
        }
        return Optional.of(new io.sluice.upstream.KeyUsage(
                k.liveKeys(), k.maxKeys(), keyCooldowns.size(), busiest, top.requests(), top.refusals()));
    }

    /** Keys paused on their own now ({@code cooldown: key}). */
    int keysCoolingDown() {
        return keyCooldowns.size();
    }

    /** Whether {@code call}'s own key is paused now ({@code cooldown: key}). */
    boolean keyCoolingDown(Call call, Policy policy) {
        if (policy.cooldown() != CooldownScope.KEY || keyCooldowns.isEmpty()) return false;
        long now = time.nanoTime();
        return keyCooldowns.end(label(call, policy), now) - now > 0;
    }

    private FetchException coolingDown(long waitNanos, long budgetNanos) {
        return new FetchException(
                ErrorType.RATE_LIMITED,
                "upstream " + upstream + " is cooling down; admission in " + ceilMillis(waitNanos)
                        + " ms at the earliest, beyond the wait budget of " + ceilMillis(budgetNanos) + " ms",
                Duration.ofNanos(waitNanos),
                null);
    }

    private static String describe(List<RateLimit> limits) {
        if (limits == null) return "[]";
        List<String> out = new ArrayList<>();
        for (RateLimit l : limits) out.add(l.rate() + " burst " + l.burst() + (l.perKey() ? " per key" : ""));
        return out.toString();
    }

    private static long ceilMillis(long nanos) {
        return Math.max(0, (nanos + 999_999) / 1_000_000);
    }

    private static long saturatedAdd(long a, long b) {
        long sum = a + b;
        return ((a ^ sum) & (b ^ sum)) < 0 ? Long.MAX_VALUE : sum;
    }

    @Override
    public String toString() {
        return "Gate{" + upstream + "}";
    }

    /**
     * A policy's {@code key_limits} as applied: each entry's limits followed by the learned
     * {@code per: key} limits (the last {@code learnedTail} of the applied per-key limits), by label
     * and by value digest. Each list is built once per policy, so a key's bucket is reconfigured
     * only when its limits change.
     */
    private record KeyOverrides(
            java.util.Map<String, List<RateLimit>> byLabel,
            java.util.Map<String, List<RateLimit>> byDigest,
            int learnedTail) {
        static final KeyOverrides NONE = new KeyOverrides(java.util.Map.of(), java.util.Map.of(), 0);

        static KeyOverrides of(Policy policy, List<RateLimit> perKey) {
            if (policy.keyLimits().isEmpty()) return NONE;
            int configured =
                    (int) policy.limits().stream().filter(RateLimit::perKey).count();
            List<RateLimit> learned = perKey.subList(Math.min(configured, perKey.size()), perKey.size());
            java.util.Map<String, List<RateLimit>> byLabel = new java.util.HashMap<>();
            java.util.Map<String, List<RateLimit>> byDigest = new java.util.HashMap<>();
            for (io.sluice.config.KeyLimit entry : policy.keyLimits()) {
                List<RateLimit> own = new ArrayList<>(entry.limits());
                own.addAll(learned);
                List<RateLimit> applied = List.copyOf(own);
                entry.label().ifPresent(label -> byLabel.put(label, applied));
                entry.digest().ifPresent(digest -> byDigest.put(digest, applied));
            }
            return new KeyOverrides(java.util.Map.copyOf(byLabel), java.util.Map.copyOf(byDigest), learned.size());
        }

        /**
         * The limits of the key labelled {@code label}, or null when it has none of its own. An entry
         * given by value is matched by digesting {@code call}'s key value (only when there is one).
         */
        List<RateLimit> limitsFor(String label, Call call, Policy policy) {
            if (byLabel.isEmpty() && byDigest.isEmpty()) return null;
            List<RateLimit> own = byLabel.get(label);
            if (own != null || byDigest.isEmpty() || label.equals(KeyLabels.NONE)) return own;
            var request = call.request();
            return policy.key()
                    .flatMap(key -> key.valueIn(request::header, request.uri()))
                    .map(value -> byDigest.get(io.sluice.config.KeyLimit.digest(value)))
                    .orElse(null);
        }
    }

    /** A request waiting for a cooldown to end, before it has a token. */
    private static final class Paused {
        final Call call;
        final Policy policy;
        /** The class it waits in under {@link #policy}. */
        final Priority priority;

        final List<RateLimit> limits;
        final long start;
        final long budgetEnd;
        final long pausedAt;
        /** Whether the request was already counted against its key (its token taken and given back). */
        final boolean counted;

        final CompletableFuture<Void> future = new CompletableFuture<>();
        final AtomicBoolean settled = new AtomicBoolean();
        volatile TimeSource.Timer expiry;

        Paused(
                Call call,
                Policy policy,
                List<RateLimit> limits,
                long start,
                long budgetEnd,
                long pausedAt,
                boolean counted) {
            this.call = call;
            this.policy = policy;
            this.priority = call.priority(policy);
            this.counted = counted;
            this.limits = limits;
            this.start = start;
            this.budgetEnd = budgetEnd;
            this.pausedAt = pausedAt;
        }
    }
}
