package io.sluice.limit;

import io.github.bucket4j.Bucket;
import io.github.bucket4j.TokensInheritanceStrategy;
import io.github.bucket4j.local.LocalBucket;
import io.github.bucket4j.local.SynchronizationStrategy;
import io.sluice.config.RateLimit;
import io.sluice.time.TimeSource;
import java.util.List;
import java.util.concurrent.CompletableFuture;

/** Buckets held in this process (Bucket4j's lock-free local bucket on the injected ticker). */
final class LocalTokenBucket implements TokenBucket {
    private final LocalBucket bucket;
    private final double share;
    private volatile List<RateLimit> limits;
    /**
     * The wait by class for this bucket's tokens ({@link FairQueue}), made on first use by a policy
     * that sets {@code priority}: a key's waiting line lives and expires with the key's bucket.
     */
    private volatile FairQueue waitLine;

    LocalTokenBucket(List<RateLimit> limits, double share, TimeSource time) {
        this.limits = List.copyOf(limits);
        this.share = share;
        var configuration = BucketConfigs.of(limits, share);
        // SYNCHRONIZED updates the state in place under a monitor; the default lock-free strategy
        // copies the whole state on every decision, which costs more than the lock on a hot path
        // where decisions take tens of nanoseconds.
        var builder = Bucket.builder()
                .withCustomTimePrecision(TimeMeters.monotonic(time))
                .withSynchronizationStrategy(SynchronizationStrategy.SYNCHRONIZED);
        for (var bandwidth : configuration.getBandwidths()) builder.addLimit(bandwidth);
        this.bucket = builder.build();
    }

    @Override
    public CompletableFuture<Reservation> reserve() {
        return CompletableFuture.completedFuture(reserveNow());
    }

    /** The same as {@link #reserve()}, without the future: the local fast path. */
    Reservation reserveNow() {
        return new Taken(bucket.consumeIgnoringRateLimits(1), bucket);
    }

    @Override
    public CompletableFuture<Boolean> tryTake() {
        return CompletableFuture.completedFuture(bucket.tryConsume(1));
    }

    /**
     * Takes one token only if it is there now and at least {@code keep} tokens would remain in each
     * limit; never goes into debt. The prioritised wait ({@link FairQueue}) takes tokens this way.
     */
    boolean tryTake(long keep) {
        if (keep <= 0) return bucket.tryConsume(1);
        if (!bucket.estimateAbilityToConsume(keep + 1).canBeConsumed()) return false;
        return bucket.tryConsume(1);
    }

    /** Puts back a token that {@link #tryTake(long)} took, for a request that will not be sent after all. */
    void giveBack() {
        bucket.addTokens(1);
    }

    /** This bucket's wait by class, or null before the first request that waits by class. */
    FairQueue waitLine() {
        return waitLine;
    }

    /** This bucket's wait by class: the one made before, else {@code made} (used once only). */
    FairQueue waitLine(java.util.function.Supplier<FairQueue> made) {
        FairQueue line = waitLine;
        if (line != null) return line;
        synchronized (this) {
            if (waitLine == null) waitLine = made.get();
            return waitLine;
        }
    }

    /**
     * A lower bound on the nanoseconds until {@code tokens} tokens can have been taken, counting
     * from now: exact while {@code tokens} fits in the smallest burst (Bucket4j's own estimate, which
     * knows the partly refilled token), and beyond it at the fastest of the limits' rates.
     */
    long nanosUntil(long tokens) {
        if (tokens <= 0) return 0;
        List<RateLimit> current = limits;
        long cap = Long.MAX_VALUE;
        double nanosPerToken = Double.MAX_VALUE;
        for (RateLimit limit : current) {
            cap = Math.min(cap, Math.max(1, (long) Math.floor(limit.burst() * share)));
            nanosPerToken = Math.min(nanosPerToken, limit.period().toNanos() / share / limit.tokens());
        }
        if (tokens <= cap) return bucket.estimateAbilityToConsume(tokens).getNanosToWaitForRefill();
        long first = bucket.estimateAbilityToConsume(cap).getNanosToWaitForRefill();
        return first + (long) Math.ceil((tokens - cap) * nanosPerToken);
    }

    /** The smallest of the limits' bursts: what a class's reserve is a share of. */
    long smallestBurst() {
        long cap = Long.MAX_VALUE;
        for (RateLimit limit : limits) cap = Math.min(cap, Math.max(1, (long) Math.floor(limit.burst() * share)));
        return cap;
    }

    /**
     * Lowers the tokens of the limits from index {@code from} on to at most {@code most} (at least
     * one is left: nothing left is the cooldown's to handle), leaving the other limits' tokens as
     * they are; never adds a token. Learned limits are tightened this way to what the upstream says
     * is left (see {@link LearnedLimits#remaining}).
     */
    synchronized void capTokens(int from, long most) {
        List<RateLimit> current = limits;
        if (from >= current.size()) return;
        var state = bucket.asVerbose().getAvailableTokens().getState();
        boolean over = false;
        for (int i = from; i < current.size(); i++) over |= state.getCurrentSize(i) > Math.max(1, most);
        if (!over) return;
        // Bucket4j changes no single limit's tokens, but a smaller capacity caps them (AS_IS) and
        // the capacity restored keeps the capped count.
        bucket.replaceConfiguration(BucketConfigs.capped(current, share, from, most), TokensInheritanceStrategy.AS_IS);
        bucket.replaceConfiguration(BucketConfigs.of(current, share), TokensInheritanceStrategy.AS_IS);
    }

    @Override
    public synchronized void reconfigure(List<RateLimit> next) {
        if (next.equals(limits)) return;
        limits = List.copyOf(next);
        // AS_IS keeps the tokens each limit has (capped at its new burst): a live change neither
        // grants a fresh burst nor confiscates the current one.
        bucket.replaceConfiguration(BucketConfigs.of(next, share), TokensInheritanceStrategy.AS_IS);
    }

    List<RateLimit> limits() {
        return limits;
    }

    @Override
    public java.util.OptionalLong availableTokens() {
        return java.util.OptionalLong.of(bucket.getAvailableTokens());
    }

    private record Taken(long waitNanos, Bucket bucket) implements Reservation {
        @Override
        public void release() {
            bucket.addTokens(1);
        }
    }

    @Override
    public String toString() {
        return "LocalTokenBucket" + limits;
    }
}
