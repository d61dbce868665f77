package io.sluice.limit;

import com.github.benmanes.caffeine.cache.Cache;
import com.github.benmanes.caffeine.cache.Caffeine;
import com.github.benmanes.caffeine.cache.Expiry;
import com.github.benmanes.caffeine.cache.RemovalCause;
import io.sluice.config.RateLimit;
import io.sluice.time.TimeSource;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * One upstream's {@code per: key} buckets, by key label (never by key value: see {@link KeyLabels}).
 *
 * <p>Bounded two ways. A bucket idle long enough to have refilled completely (the slowest limit's
 * refill time, plus {@code max_wait} for any debt it was left in) expires: a new one would be
 * identical, so expiry never grants a key more than its limits. And at most {@code max_keys} keys
 * hold buckets at once; a key that arrives past the cap shares the single {@code overflow} bucket
 * until idle keys expire. Evicting a busy key's bucket instead would hand it a fresh burst, so a
 * flood of made-up keys could reset a real tenant's budget; sharing one overflow bucket can only
 * make the flood's own requests wait. Requests without the key share the {@code none} bucket.
 * Neither shared bucket counts towards {@code max_keys} or expires. A key's wait by class (with
 * {@code priority}) is held by its bucket and goes with it, so it is bounded the same way.
 */
final class KeyedBuckets {
    private final String upstream;
    private final LimitStore store;
    private final Cache<String, Keyed> buckets;
    private final AtomicInteger live = new AtomicInteger();

    private volatile List<RateLimit> limits;
    private volatile int maxKeys;
    private volatile long maxWaitNanos;
    private final Keyed none;
    private final Keyed overflow;

    KeyedBuckets(
            String upstream, LimitStore store, TimeSource time, List<RateLimit> limits, int maxKeys, Duration maxWait) {
        this.upstream = upstream;
        this.store = store;
        configure(limits, maxKeys, maxWait);
        this.buckets = Caffeine.newBuilder()
                .ticker(time::nanoTime)
                // Maintenance runs on the calling thread: the removal listener only adjusts a counter.
                .executor(Runnable::run)
                .expireAfter(new Expiry<String, Keyed>() {
                    @Override
                    public long expireAfterCreate(String label, Keyed value, long now) {
                        return value.idleNanos;
                    }

                    @Override
                    public long expireAfterUpdate(String label, Keyed value, long now, long current) {
                        return value.idleNanos;
                    }

                    @Override
                    public long expireAfterRead(String label, Keyed value, long now, long current) {
                        return value.idleNanos;
                    }
                })
                .removalListener((String label, Keyed value, RemovalCause cause) -> {
                    if (cause != RemovalCause.REPLACED) live.decrementAndGet();
                })
                .build();
        this.none = newKeyed(KeyLabels.NONE, limits);
        this.overflow = newKeyed(KeyLabels.OVERFLOW, limits);
    }

    /** Applies a live policy change; each bucket takes the new limits when next used. */
    void configure(List<RateLimit> limits, int maxKeys, Duration maxWait) {
        if (limits.isEmpty()) throw new IllegalArgumentException("per-key limits cannot be empty");
        this.maxWaitNanos = Math.min(Long.MAX_VALUE / 4, maxWait.toNanos());
        this.limits = limits;
        this.maxKeys = maxKeys;
    }

    /**
     * How long a bucket with {@code limits} must be idle to be full again: the slowest limit's
     * time to refill its burst, plus {@code max_wait} for any debt it was left in.
     */
    private long idleNanos(List<RateLimit> limits) {
        long refill = 0;
        for (RateLimit limit : limits) {
            double nanos = (double) limit.burst() * limit.period().toNanos() / limit.tokens();
            refill = Math.max(refill, (long) Math.min(Long.MAX_VALUE / 4, Math.ceil(nanos)));
        }
        return refill + maxWaitNanos;
    }

    /**
     * The bucket of the key labelled {@code label} ({@link KeyLabels#NONE} for no key), created on
     * first use; {@code overflowed} runs when the key had to share the overflow bucket.
     */
    TokenBucket bucket(String label, Runnable overflowed) {
        return bucket(label, null, overflowed, true);
    }

    /**
     * As {@link #bucket(String, Runnable)}, for a key with limits of its own ({@code key_limits};
     * null: the policy's). Such a key always gets a bucket of its own, even past {@code max_keys}
     * (there are at most as many as the policy has entries): sharing the overflow bucket would hold
     * it to other keys' limits. {@code count}: whether this is a request to count against the key
     * (false when the caller already counted it, or is not admitting a request).
     */
    TokenBucket bucket(String label, List<RateLimit> own, Runnable overflowed, boolean count) {
        List<RateLimit> wanted = own != null ? own : limits;
        Keyed keyed = label.equals(KeyLabels.NONE) ? none : buckets.getIfPresent(label);
        if (keyed == null) keyed = admitKey(label, wanted, own != null);
        if (keyed == null) {
            overflowed.run();
            keyed = overflow;
            wanted = limits;
        }
        if (count) keyed.requests.increment();
        return keyed.current(wanted);
    }

    /**
     * Counts a refusal of a request of the key labelled {@code label}: against its bucket, or the
     * overflow bucket when it holds none.
     */
    void refused(String label) {
        Keyed keyed = label.equals(KeyLabels.NONE) ? none : buckets.getIfPresent(label);
        (keyed == null ? overflow : keyed).refusals.increment();
    }

    /**
     * The {@code n} keys with the most requests, most first, as {@code (label, requests, refusals,
     * tokens)} views; the shared budgets are among them once used. Reads every live key: for the
     * admin API, not the request path.
     */
    Busiest busiest(int n) {
        java.util.PriorityQueue<Usage> top =
                new java.util.PriorityQueue<>(java.util.Comparator.comparingLong(Usage::requests));
        long[] totals = new long[2];
        java.util.function.Consumer<Keyed> offer = keyed -> {
            long requests = keyed.requests.sum();
            if (requests == 0) return;
            totals[0] += requests;
            totals[1] += keyed.refusals.sum();
            if (n <= 0) return;
            if (top.size() == n && top.peek().requests() >= requests) return;
            top.add(new Usage(keyed.label, requests, keyed.refusals.sum(), keyed.bucket.availableTokens()));
            if (top.size() > n) top.poll();
        };
        offer.accept(none);
        offer.accept(overflow);
        buckets.asMap().values().forEach(offer);
        List<Usage> out = new java.util.ArrayList<>(top);
        out.sort(java.util.Comparator.comparingLong(Usage::requests).reversed().thenComparing(Usage::label));
        return new Busiest(out, totals[0], totals[1]);
    }

    /** The busiest keys, and the requests and refusals of every key together. */
    record Busiest(List<Usage> top, long requests, long refusals) {}

    int maxKeys() {
        return maxKeys;
    }

    /** One key's counts and tokens, for {@link #busiest}. */
    record Usage(String label, long requests, long refusals, java.util.OptionalLong tokensLeft) {}

    /** A new key's bucket, or null when {@code max_keys} are already live. */
    private Keyed admitKey(String label, List<RateLimit> wanted, boolean pinned) {
        if (pinned) {
            live.incrementAndGet();
        } else if (!claimSlot()) {
            // Expired entries still hold their slots until maintenance runs: run it before refusing.
            buckets.cleanUp();
            if (!claimSlot()) return null;
        }
        boolean[] created = {false};
        Keyed keyed = buckets.asMap().computeIfAbsent(label, l -> {
            created[0] = true;
            return newKeyed(l, wanted);
        });
        if (!created[0]) live.decrementAndGet(); // another request created it meanwhile
        return keyed;
    }

    private boolean claimSlot() {
        int max = maxKeys;
        return live.getAndUpdate(n -> n < max ? n + 1 : n) < max;
    }

    /** Keys holding buckets of their own now (not counting {@code none} and {@code overflow}). */
    int liveKeys() {
        buckets.cleanUp();
        return live.get();
    }

    private Keyed newKeyed(String label, List<RateLimit> applied) {
        return new Keyed(label, store.bucket(name(label), applied), applied, idleNanos(applied));
    }

    /** The name a bucket has in the store (in Redis: part of its key), made of the label alone. */
    private String name(String label) {
        return upstream + ":key:" + label;
    }

    @Override
    public String toString() {
        return "KeyedBuckets{" + upstream + ", " + live.get() + "/" + maxKeys + " keys}";
    }

    /** A key's bucket, the limits last applied to it, and what it has seen. */
    private final class Keyed {
        final String label;
        final TokenBucket bucket;
        final java.util.concurrent.atomic.LongAdder requests = new java.util.concurrent.atomic.LongAdder();
        final java.util.concurrent.atomic.LongAdder refusals = new java.util.concurrent.atomic.LongAdder();
        volatile List<RateLimit> applied;
        /** How long it may stay idle before it expires, for the limits applied. */
        volatile long idleNanos;

        Keyed(String label, TokenBucket bucket, List<RateLimit> applied, long idleNanos) {
            this.label = label;
            this.bucket = bucket;
            this.applied = applied;
            this.idleNanos = idleNanos;
        }

        TokenBucket current(List<RateLimit> limits) {
            if (applied != limits) {
                synchronized (this) {
                    if (applied != limits) {
                        bucket.reconfigure(limits);
                        idleNanos = idleNanos(limits);
                        applied = limits;
                    }
                }
            }
            return bucket;
        }
    }
}
