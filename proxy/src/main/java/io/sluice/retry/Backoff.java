package io.sluice.retry;

import io.sluice.config.RetryPolicy;
import java.time.Duration;
import java.util.function.DoubleSupplier;

/**
 * Exponential backoff with full jitter (the AWS Architecture Blog's "Exponential Backoff and
 * Jitter"): retry {@code n} waits a uniform random delay in
 * {@code [0, min(max_delay, base_delay × 2^(n-1))]}. Full jitter spreads the retries of many
 * clients that failed together, instead of sending them back in synchronised waves.
 */
final class Backoff {
    private final DoubleSupplier random;

    /** {@code random} yields uniform values in {@code [0, 1)}. */
    Backoff(DoubleSupplier random) {
        this.random = random;
    }

    /** The delay before retry {@code n} (1 for the first retry). */
    Duration delay(RetryPolicy policy, int n) {
        return Duration.ofNanos((long) (ceiling(policy, n) * random.getAsDouble()));
    }

    /** The upper bound of retry {@code n}'s delay. */
    static long ceiling(RetryPolicy policy, int n) {
        long max = policy.maxDelay().toNanos();
        long delay = policy.baseDelay().toNanos();
        for (int i = 1; i < n && delay < max; i++) delay = delay > max / 2 ? max : delay * 2;
        return Math.min(delay, max);
    }
}
