package io.sluice.limit;

import io.github.bucket4j.Bandwidth;
import io.github.bucket4j.BucketConfiguration;
import io.github.bucket4j.ConfigurationBuilder;
import io.sluice.config.RateLimit;
import java.time.Duration;
import java.util.List;

/** Turns an upstream's {@code limits} into a Bucket4j configuration: one bandwidth per limit, all must admit. */
final class BucketConfigs {
    private BucketConfigs() {}

    /**
     * {@code share} scales every limit (1 for the full rate; less for a sidecar's local fallback in
     * shared mode). The rate is scaled by stretching the period, which stays exact where scaling
     * the token count would round; capacity is rounded down but never below one token.
     */
    static BucketConfiguration of(List<RateLimit> limits, double share) {
        return capped(limits, share, limits.size(), Long.MAX_VALUE);
    }

    /**
     * {@link #of} with the capacity of the limits from index {@code from} on lowered to {@code most}
     * (never below one token): replacing a bucket's configuration with it, then with {@link #of},
     * caps those limits' tokens at {@code most} and leaves the other limits' tokens alone.
     */
    static BucketConfiguration capped(List<RateLimit> limits, double share, int from, long most) {
        if (limits.isEmpty()) throw new IllegalArgumentException("a bucket needs at least one limit");
        ConfigurationBuilder builder = BucketConfiguration.builder();
        for (int i = 0; i < limits.size(); i++) {
            RateLimit limit = limits.get(i);
            long capacity = Math.max(1, (long) Math.floor(limit.burst() * share));
            if (i >= from) capacity = Math.min(capacity, Math.max(1, most));
            Duration period = share == 1
                    ? limit.period()
                    : Duration.ofNanos((long) (limit.period().toNanos() / share));
            // Ids let replaceConfiguration carry each bandwidth's tokens over when limits change live.
            builder.addLimit(Bandwidth.builder()
                    .capacity(capacity)
                    .refillGreedy(limit.tokens(), period)
                    .id(id(i))
                    .build());
        }
        return builder.build();
    }

    static String id(int index) {
        return "limit-" + index;
    }

    /**
     * A lower bound on the nanoseconds until {@code tokens} more tokens can be taken from a full
     * bucket: what a request queued behind a cooldown must wait at least once the cooldown ends.
     * {@code per: key} limits are left out: the queue ahead may hold other keys, whose tokens come
     * from other buckets, so counting it against one key's bucket would overstate the wait.
     */
    static long lowerBoundNanos(List<RateLimit> limits, long tokens) {
        long worst = 0;
        for (RateLimit limit : limits) {
            if (limit.perKey()) continue;
            long missing = tokens - limit.burst();
            if (missing <= 0) continue;
            double nanos = (double) missing * limit.period().toNanos() / limit.tokens();
            worst = Math.max(worst, (long) Math.ceil(nanos));
        }
        return worst;
    }
}
