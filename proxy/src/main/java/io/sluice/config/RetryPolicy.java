package io.sluice.config;

import java.time.Duration;

/**
 * Retries with exponential backoff and full jitter: attempt {@code n} waits a uniformly random
 * delay in {@code [0, min(maxDelay, baseDelay * 2^(n-1))]}. {@code maxAttempts} counts the first
 * try, so 1 disables retries.
 *
 * <p>{@code budget} bounds retries per upstream to a fraction of its requests, so an outage does not
 * multiply the load on a struggling upstream (Finagle's and Envoy's retry budgets): each request
 * deposits {@code budget} of a retry token, each retry spends one, and {@code budgetReserve} tokens
 * (also the most that can be saved up) let a quiet upstream still retry.
 */
public record RetryPolicy(int maxAttempts, Duration baseDelay, Duration maxDelay, double budget, int budgetReserve) {
    public RetryPolicy {
        if (maxAttempts < 1) throw new IllegalArgumentException("max_attempts must be at least 1: " + maxAttempts);
        Checks.notNegative("base_delay", baseDelay);
        Checks.notNegative("max_delay", maxDelay);
        if (maxDelay.compareTo(baseDelay) < 0) {
            throw new IllegalArgumentException(
                    "max_delay " + Durations.format(maxDelay) + " is below base_delay " + Durations.format(baseDelay));
        }
        if (!(budget >= 0 && budget <= 1)) {
            throw new IllegalArgumentException("budget must be between 0 and 1 (or 0% and 100%): " + budget);
        }
        if (budgetReserve < 0)
            throw new IllegalArgumentException("budget_reserve cannot be negative: " + budgetReserve);
    }
}
