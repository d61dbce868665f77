package io.sluice.config;

import java.time.Duration;

/**
 * Retries with exponential backoff and full jitter: attempt {@code n} waits a uniformly random
 * delay in {@code [0, min(maxDelay, baseDelay * 2^(n-1))]}. {@code maxAttempts} counts the first
 * try, so 1 disables retries.
 */
public record RetryPolicy(int maxAttempts, Duration baseDelay, Duration maxDelay) {
    public RetryPolicy {
        if (maxAttempts < 1) throw new IllegalArgumentException("max_attempts must be at least 1: " + maxAttempts);
        Checks.notNegative("base_delay", baseDelay);
        Checks.notNegative("max_delay", maxDelay);
        if (maxDelay.compareTo(baseDelay) < 0) {
            throw new IllegalArgumentException(
                    "max_delay " + Durations.format(maxDelay) + " is below base_delay " + Durations.format(baseDelay));
        }
    }
}
