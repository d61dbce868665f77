package io.sluice.config;

import java.time.Duration;
import java.util.Optional;

/**
 * Shared mode: buckets and cooldowns live in Redis at {@code uri} (a secret-bearing template): one
 * server, Sentinels, or the seed nodes of a Redis Cluster.
 *
 * @param localShare the share of each limit a sidecar may use on its own while Redis is
 *     unreachable; with N replicas, {@code 1/N} keeps them within the budget together
 * @param timeout how long one Redis command may take before this sidecar fails over to its local
 *     bucket; it bounds the extra latency Redis can add to a request
 * @param keyPrefix prefix of every key Sluice writes, so several deployments can share one Redis
 * @param keySecret the secret every replica labels keys with, so that one key's {@code per: key}
 *     bucket is one Redis key for all of them; without it, per-key buckets stay in each sidecar
 *     (labels under a per-process secret). Only its template is ever shown.
 */
public record RedisConfig(
        Interpolated uri, double localShare, Duration timeout, String keyPrefix, Optional<Interpolated> keySecret) {
    /** The shortest {@code key_secret} accepted, in bytes (UTF-8): 128 bits, HMAC's floor for a key. */
    public static final int MIN_KEY_SECRET_BYTES = 16;

    public static final double DEFAULT_LOCAL_SHARE = 0.5;
    public static final Duration DEFAULT_TIMEOUT = Duration.ofMillis(50);
    public static final String DEFAULT_KEY_PREFIX = "sluice:";

    public RedisConfig {
        String scheme = uri.value().contains("://")
                ? uri.value().substring(0, uri.value().indexOf("://"))
                : "";
        // redis-sentinel:// (and rediss-sentinel://) ask the Sentinels named in it for the master, on
        // every (re)connection: after a failover, shared mode decides through the promoted replica.
        // redis-cluster:// (and rediss-cluster://) name seed nodes of a Redis Cluster.
        if (!java.util.Set.of(
                        "redis",
                        "rediss",
                        "redis-socket",
                        "redis-sentinel",
                        "rediss-sentinel",
                        "redis-cluster",
                        "rediss-cluster")
                .contains(scheme)) {
            // The template, not the value: the value may hold a password from the environment.
            throw new IllegalArgumentException(
                    "uri must start with redis://, rediss://, redis-socket://, redis-sentinel:// or redis-cluster://: \""
                            + uri.template()
                            + "\"");
        }
        if (scheme.endsWith("-cluster")) seeds(uri);
        if (!(localShare > 0 && localShare <= 1)) {
            throw new IllegalArgumentException("local_share must be above 0 and at most 1 (or 100%): " + localShare);
        }
        Checks.positive("timeout", timeout);
        if (keySecret == null) throw new IllegalArgumentException("key_secret: required (Optional.empty() for none)");
        keySecret.ifPresent(secret -> {
            int bytes = secret.value().getBytes(java.nio.charset.StandardCharsets.UTF_8).length;
            if (bytes < MIN_KEY_SECRET_BYTES) {
                // The template and the length, never the value.
                throw new IllegalArgumentException("key_secret must be at least " + MIN_KEY_SECRET_BYTES
                        + " bytes, got " + bytes + " from \"" + secret.template() + "\"");
            }
        });
    }

    /** Whether {@link #uri} names a Redis Cluster ({@code redis-cluster://} or {@code rediss-cluster://}). */
    public boolean cluster() {
        return uri.value().startsWith("redis-cluster://") || uri.value().startsWith("rediss-cluster://");
    }

    /**
     * The seed nodes of a cluster {@link #uri}, each as a {@code redis://} (or {@code rediss://}) URI
     * with the cluster URI's credentials and options: {@code redis-cluster://:pw@h1:7000,h2:7001} gives
     * {@code redis://:pw@h1:7000} and {@code redis://:pw@h2:7001}, as {@code redis-sentinel://} lists
     * its Sentinels. Any one seed that answers is enough; the client learns the rest from it.
     */
    public java.util.List<String> clusterSeeds() {
        if (!cluster()) throw new IllegalStateException("not a cluster uri");
        return seeds(uri);
    }

    private static java.util.List<String> seeds(Interpolated uri) {
        String value = uri.value();
        String scheme = value.substring(0, value.indexOf("://"));
        String rest = value.substring(scheme.length() + 3);
        int end = rest.length();
        for (char c : new char[] {'/', '?', '#'}) {
            int at = rest.indexOf(c);
            if (at >= 0 && at < end) end = at;
        }
        String authority = rest.substring(0, end);
        int at = authority.lastIndexOf('@');
        String userInfo = authority.substring(0, at + 1);
        String plain = scheme.startsWith("rediss") ? "rediss://" : "redis://";
        java.util.List<String> seeds = new java.util.ArrayList<>();
        for (String node : authority.substring(at + 1).split(",", -1)) {
            String host = node.strip();
            if (host.isEmpty() || host.startsWith(":") || host.endsWith(":")) {
                throw new IllegalArgumentException(
                        "uri must name each cluster node as host or host:port, separated by commas: \"" + uri.template()
                                + "\"");
            }
            seeds.add(plain + userInfo + host + rest.substring(end));
        }
        return java.util.List.copyOf(seeds);
    }

    public RedisConfig(Interpolated uri) {
        this(uri, DEFAULT_LOCAL_SHARE, DEFAULT_TIMEOUT, DEFAULT_KEY_PREFIX, Optional.empty());
    }

    @Override
    public String toString() {
        return "RedisConfig[uri=" + uri + ", localShare=" + localShare + ", timeout=" + timeout + ", keyPrefix="
                + keyPrefix + ", keySecret="
                + keySecret.map(Interpolated::template).orElse("(none)") + "]";
    }
}
