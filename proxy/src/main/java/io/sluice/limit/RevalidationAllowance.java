package io.sluice.limit;

import io.sluice.config.RateLimit;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;

/**
 * The small bucket that bounds {@code free_304}: conditional requests that go out without a token
 * from the upstream's own buckets. It holds a tenth ({@link #SHARE}) of each of the upstream's
 * limits, rate and burst (at least one token), so a client that revalidates in a loop can add at
 * most a tenth to what the upstream receives, even if every answer were a 200 charged after the
 * fact. It lives where the upstream's buckets live: in shared mode it is one bucket in Redis for
 * every sidecar (so the tenth is the fleet's, not each replica's), falling back to a local share of
 * it while Redis is unreachable, as the upstream's bucket does.
 */
final class RevalidationAllowance {
    /** The share of each limit that revalidations may take on top of it. */
    static final double SHARE = 0.1;

    private final String name;
    private final LimitStore store;
    // Guarded by this.
    private List<RateLimit> limits;
    private TokenBucket bucket;

    RevalidationAllowance(String upstream, LimitStore store) {
        this.name = upstream + ":revalidation";
        this.store = store;
    }

    /**
     * Takes a revalidation token if one is there now; never waits (true: taken). {@code current},
     * the upstream's limits, may not be empty.
     */
    CompletableFuture<Boolean> tryTake(List<RateLimit> current) {
        TokenBucket b;
        synchronized (this) {
            if (current != limits) {
                List<RateLimit> scaled = scaled(current);
                if (bucket == null) bucket = store.bucket(name, scaled);
                else bucket.reconfigure(scaled);
                limits = current;
            }
            b = bucket;
        }
        return b.tryTake();
    }

    /**
     * A tenth of each limit: the period stretched tenfold (exact, where scaling the token count
     * would round, as {@link BucketConfigs} scales) and a tenth of the burst, at least one token.
     */
    static List<RateLimit> scaled(List<RateLimit> limits) {
        List<RateLimit> out = new ArrayList<>(limits.size());
        for (RateLimit l : limits) {
            out.add(new RateLimit(
                    l.tokens(), Duration.ofNanos((long) (l.period().toNanos() / SHARE)), Math.max(1, (long)
                            Math.floor(l.burst() * SHARE))));
        }
        return List.copyOf(out);
    }

    @Override
    public synchronized String toString() {
        return "RevalidationAllowance" + limits;
    }
}
