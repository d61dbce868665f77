package io.sluice.limit;

import io.sluice.config.RateLimit;
import java.util.List;
import java.util.OptionalLong;
import java.util.concurrent.CompletableFuture;

/**
 * A request's two buckets, the upstream's and its key's, taken as one: a token from each, due when
 * the later is. Each bucket keeps its own first-come first-served order; a refused request returns
 * both tokens.
 */
final class BothBuckets implements TokenBucket {
    private final TokenBucket whole;
    private final TokenBucket key;

    BothBuckets(TokenBucket whole, TokenBucket key) {
        this.whole = whole;
        this.key = key;
    }

    @Override
    public CompletableFuture<Reservation> reserve() {
        if (isLocal()) return CompletableFuture.completedFuture(reserveNow());
        CompletableFuture<Reservation> a = whole.reserve();
        CompletableFuture<Reservation> b = key.reserve();
        CompletableFuture<Reservation> both = a.thenCombine(b, Both::new);
        both.whenComplete((r, error) -> {
            if (error != null) {
                a.thenAccept(Reservation::release);
                b.thenAccept(Reservation::release);
            }
        });
        return both;
    }

    boolean isLocal() {
        return whole instanceof LocalTokenBucket && key instanceof LocalTokenBucket;
    }

    /** Both tokens without futures: the local fast path (both buckets local). */
    Reservation reserveNow() {
        return new Both(((LocalTokenBucket) whole).reserveNow(), ((LocalTokenBucket) key).reserveNow());
    }

    /** The key's bucket: local whenever the upstream's is (key buckets are in Redis only with the rest). */
    LocalTokenBucket localKey() {
        return (LocalTokenBucket) key;
    }

    @Override
    public void reconfigure(List<RateLimit> limits) {
        throw new UnsupportedOperationException("reconfigure each bucket on its own");
    }

    @Override
    public OptionalLong availableTokens() {
        return whole.availableTokens();
    }

    private record Both(Reservation whole, Reservation key) implements Reservation {
        @Override
        public long waitNanos() {
            return Math.max(whole.waitNanos(), key.waitNanos());
        }

        @Override
        public void release() {
            whole.release();
            key.release();
        }
    }

    @Override
    public String toString() {
        return "BothBuckets(" + whole + ", " + key + ")";
    }
}
