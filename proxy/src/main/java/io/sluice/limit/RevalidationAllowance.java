package io.sluice.limit;

import io.github.bucket4j.Bucket;
import io.github.bucket4j.TokensInheritanceStrategy;
import io.github.bucket4j.local.LocalBucket;
import io.sluice.config.RateLimit;
import io.sluice.time.TimeSource;
import java.util.List;

/**
 * The small bucket that bounds {@code free_304}: conditional requests that go out without a token
 * from the upstream's own buckets. It holds a tenth ({@link #SHARE}) of each of the upstream's
 * limits, rate and burst (at least one token), so a client that revalidates in a loop can add at
 * most a tenth to what the upstream receives, even if every answer were a 200 charged after the
 * fact. Always local: it bounds this sidecar's own optimism, not a shared budget.
 */
final class RevalidationAllowance {
    /** The share of each limit that revalidations may take on top of it. */
    static final double SHARE = 0.1;

    private final TimeSource time;
    private List<RateLimit> limits;
    private LocalBucket bucket;

    RevalidationAllowance(TimeSource time) {
        this.time = time;
    }

    /** Takes a revalidation token if one is there now; never waits. {@code limits} may not be empty. */
    synchronized boolean tryTake(List<RateLimit> current) {
        if (current != limits) {
            var configuration = BucketConfigs.of(current, SHARE);
            if (bucket == null) {
                var builder = Bucket.builder().withCustomTimePrecision(TimeMeters.monotonic(time));
                for (var bandwidth : configuration.getBandwidths()) builder.addLimit(bandwidth);
                bucket = builder.build();
            } else {
                bucket.replaceConfiguration(configuration, TokensInheritanceStrategy.AS_IS);
            }
            limits = current;
        }
        return bucket.tryConsume(1);
    }

    @Override
    public String toString() {
        return "RevalidationAllowance" + limits;
    }
}
