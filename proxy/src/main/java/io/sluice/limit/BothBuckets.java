package io.sluice.limit;

import io.sluice.config.RateLimit;
import java.util.List;
import java.util.OptionalLong;
import java.util.concurrent.CompletableFuture;

/**
 * A request's two buckets, the upstream's and its key's, taken as one: a token from each, due when
 * the later is. Each bucket keeps its own first-come first-served order; a refused request returns
 * both tokens. {@link Gate} takes the key's token first and the upstream's only once the key's is
 * due, so that a key waiting for its own tokens holds none of the upstream's meanwhile.
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

    /** The upstream's token alone, for a request whose key's token has come due. */
    CompletableFuture<Reservation> reserveWhole() {
        return whole.reserve();
    }

    /** The upstream's bucket, when both are local. */
    LocalTokenBucket localWhole() {
        return (LocalTokenBucket) whole;
    }

    /** The two tokens as one reservation. */
    static Reservation both(Reservation whole, Reservation key) {
        return new Both(whole, key);
    }

    /** Both tokens without futures (both buckets local), for a charge after the fact. */
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

    record Both(Reservation whole, Reservation key) implements Reservation {
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
