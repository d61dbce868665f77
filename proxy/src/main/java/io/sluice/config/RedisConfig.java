package io.sluice.config;

import java.time.Duration;

/**
 * Shared mode: buckets and cooldowns live in Redis at {@code uri} (a secret-bearing template).
 *
 * @param localShare the share of each limit a sidecar may use on its own while Redis is
 *     unreachable; with N replicas, {@code 1/N} keeps them within the budget together
 * @param timeout how long one Redis command may take before this sidecar fails over to its local
 *     bucket; it bounds the extra latency Redis can add to a request
 * @param keyPrefix prefix of every key Sluice writes, so several deployments can share one Redis
 */
public record RedisConfig(Interpolated uri, double localShare, Duration timeout, String keyPrefix) {
    public static final double DEFAULT_LOCAL_SHARE = 0.5;
    public static final Duration DEFAULT_TIMEOUT = Duration.ofMillis(50);
    public static final String DEFAULT_KEY_PREFIX = "sluice:";

    public RedisConfig {
        String scheme = uri.value().contains("://")
                ? uri.value().substring(0, uri.value().indexOf("://"))
                : "";
        // redis-sentinel:// (and rediss-sentinel://) ask the Sentinels named in it for the master, on
        // every (re)connection: after a failover, shared mode decides through the promoted replica.
        if (!java.util.Set.of("redis", "rediss", "redis-socket", "redis-sentinel", "rediss-sentinel")
                .contains(scheme)) {
            // The template, not the value: the value may hold a password from the environment.
            throw new IllegalArgumentException(
                    "uri must start with redis://, rediss://, redis-socket:// or redis-sentinel://: \"" + uri.template()
                            + "\"");
        }
        if (!(localShare > 0 && localShare <= 1)) {
            throw new IllegalArgumentException("local_share must be above 0 and at most 1 (or 100%): " + localShare);
        }
        Checks.positive("timeout", timeout);
    }

    public RedisConfig(Interpolated uri) {
        this(uri, DEFAULT_LOCAL_SHARE, DEFAULT_TIMEOUT, DEFAULT_KEY_PREFIX);
    }
}
