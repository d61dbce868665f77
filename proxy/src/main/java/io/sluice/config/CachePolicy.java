package io.sluice.config;

import java.time.Duration;
import java.util.Optional;

/**
 * Response caching for one upstream. {@code maxTtl} caps any freshness the upstream grants;
 * {@code defaultTtl}, when set, is the freshness of a cacheable response that carries no
 * freshness information (RFC 9111 §4.2.2 heuristic freshness, which Sluice applies only when the
 * operator opts in).
 */
public record CachePolicy(boolean enabled, Duration maxTtl, Optional<Duration> defaultTtl) {
    public CachePolicy {
        Checks.notNegative("max_ttl", maxTtl);
        defaultTtl.ifPresent(ttl -> Checks.notNegative("default_ttl", ttl));
    }
}
