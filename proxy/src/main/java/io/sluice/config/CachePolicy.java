package io.sluice.config;

import java.time.Duration;
import java.util.Optional;

/**
 * Response caching for one upstream. {@code maxTtl} caps any freshness the upstream grants;
 * {@code defaultTtl}, when set, is the freshness of a cacheable response that carries no
 * freshness information (RFC 9111 §4.2.2 heuristic freshness, which Sluice applies only when the
 * operator opts in). {@code minUses} is how many requests for a URL it takes before a response that
 * is not fresh on arrival (kept only to be revalidated, or for {@code max-stale}) is stored, like
 * nginx's {@code proxy_cache_min_uses}; fresh responses are stored from the first. {@code
 * heuristic}, when set, is the share of {@code Date - Last-Modified} that a response stating no
 * freshness is fresh for (RFC 9111 §4.2.2), before {@code defaultTtl}.
 */
public record CachePolicy(
        boolean enabled, Duration maxTtl, Optional<Duration> defaultTtl, int minUses, Optional<Double> heuristic) {
    /** The most {@code min_uses} can say: the cache remembers up to three requests per URL. */
    public static final int MAX_MIN_USES = 3;

    public CachePolicy {
        Checks.notNegative("max_ttl", maxTtl);
        defaultTtl.ifPresent(ttl -> Checks.notNegative("default_ttl", ttl));
        if (minUses < 1 || minUses > MAX_MIN_USES) {
            throw new IllegalArgumentException("min_uses must be between 1 and " + MAX_MIN_USES + ": " + minUses);
        }
        heuristic.ifPresent(share -> {
            if (!(share > 0 && share <= 1)) {
                throw new IllegalArgumentException("heuristic must be above 0 and at most 1 (or 100%): " + share);
            }
        });
    }

    /** A policy that stores responses from their first request ({@code min_uses: 1}). */
    public CachePolicy(boolean enabled, Duration maxTtl, Optional<Duration> defaultTtl) {
        this(enabled, maxTtl, defaultTtl, 1, Optional.empty());
    }
}
