package io.sluice.limit;

import io.sluice.config.RateLimit;
import io.sluice.fetch.Fields;
import io.sluice.http.RateLimitPolicy;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Optional;

/**
 * The limits an upstream says it applies, as {@code learn} adopts them: the fields are read by
 * {@link RateLimitPolicy} ({@code RateLimit-Policy}, {@code RateLimit-Limit},
 * {@code X-RateLimit-Limit}), and each announced quota becomes a {@link RateLimit} here, with
 * Sluice's own floor on how slow a learned limit may be.
 */
final class PolicyHeaders {
    private PolicyHeaders() {}

    /** What a response said about the upstream's limits. */
    sealed interface Reading permits Announced, Nonsense {
        /** The field the reading came from, e.g. {@code X-RateLimit-Limit}. */
        String field();
    }

    /**
     * Limits (quota per window, burst = quota) the upstream announced, for the whole upstream.
     * {@code inferred}: the window was not stated but taken from the distance to the reset.
     */
    record Announced(List<RateLimit> limits, String field, boolean inferred) implements Reading {}

    /** A field that is there but cannot be believed; why, for the log. */
    record Nonsense(String field, String why) implements Reading {}

    /** The upstream's announced policy, or empty when the response states none. */
    static Optional<Reading> read(Fields headers, Instant now) {
        return RateLimitPolicy.read(headers, now).map(PolicyHeaders::learnable);
    }

    private static Reading learnable(RateLimitPolicy.Reading reading) {
        return switch (reading) {
            case RateLimitPolicy.Announced a ->
                new Announced(
                        a.quotas().stream()
                                .map(q -> limit(q.quota(), q.windowSeconds()))
                                .toList(),
                        a.field(),
                        a.inferred());
            case RateLimitPolicy.Nonsense n -> new Nonsense(n.field(), n.why());
        };
    }

    /**
     * {@code quota} per {@code window} seconds, bursting to the quota, never slower than one request
     * a minute: a hostile {@code q=1;w=86400} would otherwise stall the upstream for a day per request.
     */
    static RateLimit limit(long quota, long windowSeconds) {
        long seconds = Math.min(windowSeconds, quota * 60);
        return new RateLimit(quota, Duration.ofSeconds(seconds), quota);
    }
}
