package io.sluice.config;

import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * What Sluice applies to every request of one upstream (see the design's "Upstreams and policy").
 * {@code headers} are added to each request; their values may come from the environment and are
 * shown only as templates. {@code maxCooldown} bounds how long one upstream answer
 * ({@code Retry-After}, {@code RateLimit-Reset}) may pause the upstream: a longer value is capped,
 * logged and counted, so a buggy or hostile header cannot stop traffic for days. {@code connect}
 * says what a {@code CONNECT} to the upstream's origin does, {@code tunnelIdleTimeout} closes an
 * idle {@code tunnel}-mode pipe, and {@code tls} is how Sluice itself speaks TLS to the upstream.
 * {@code key} says what a {@code per: key} limit is per, and {@code maxKeys} how many distinct keys
 * get buckets of their own (see docs/multi-tenant-budgets.md); {@code cooldown} whether an upstream's
 * pause applies to the whole upstream or only to the key whose response asked for it;
 * {@code keyMetrics} how many of the busiest keys get metric series of their own (0: none);
 * {@code keyLimits} the {@code per: key} limits of particular keys, in place of the policy's own
 * for those keys (see {@link KeyLimit}). {@code learn} adopts the limits the
 * upstream announces in its rate-limit headers beside (never instead of) {@code limits}, so the
 * stricter wins; {@code limits: learn} is {@code learn} with no limits of its own. {@code free304}
 * lets a conditional request go out without spending a token, charging one only if the answer is
 * not a {@code 304} (see docs/limits.md).
 * {@code priority}, when set, orders the requests waiting for a token by class (see docs/limits.md,
 * "Priority").
 */
public record Policy(
        List<RateLimit> limits,
        int maxConcurrency,
        Duration maxWait,
        Timeouts timeouts,
        RetryPolicy retry,
        CachePolicy cache,
        Map<String, Interpolated> headers,
        boolean allowPrivate,
        Duration maxCooldown,
        ConnectMode connect,
        Duration tunnelIdleTimeout,
        UpstreamTls tls,
        Optional<KeySource> key,
        int maxKeys,
        CooldownScope cooldown,
        int keyMetrics,
        List<KeyLimit> keyLimits,
        boolean learn,
        boolean free304,
        Optional<PriorityPolicy> priority) {

    /** {@code max_keys} when not set: enough for a busy multi-tenant app, small enough to hold (~a few MB). */
    public static final int DEFAULT_MAX_KEYS = 10_000;
    /** The most keys {@code key_metrics} may give series of their own, per upstream: cardinality stays small. */
    public static final int MAX_KEY_METRICS = 100;

    public Policy {
        limits = List.copyOf(limits);
        headers = Map.copyOf(headers);
        keyLimits = List.copyOf(keyLimits);
        if (maxConcurrency < 1) {
            throw new IllegalArgumentException("max_concurrency must be at least 1: " + maxConcurrency);
        }
        Checks.notNegative("max_wait", maxWait);
        Checks.notNegative("max_cooldown", maxCooldown);
        if (connect == null) throw new IllegalArgumentException("connect: required");
        Checks.positive("tunnel_idle_timeout", tunnelIdleTimeout);
        if (tls == null) throw new IllegalArgumentException("tls: required");
        if (key == null) throw new IllegalArgumentException("key: required (Optional.empty() for none)");
        if (priority == null) throw new IllegalArgumentException("priority: required (Optional.empty() for none)");
        if (maxKeys < 1) throw new IllegalArgumentException("max_keys must be at least 1: " + maxKeys);
        if (cooldown == null) throw new IllegalArgumentException("cooldown: required");
        if (keyMetrics < 0 || keyMetrics > MAX_KEY_METRICS) {
            throw new IllegalArgumentException("key_metrics must be 0 to " + MAX_KEY_METRICS + ": " + keyMetrics);
        }
        if (cooldown == CooldownScope.KEY && key.isEmpty()) {
            throw new IllegalArgumentException("cooldown: key needs the policy's key: (header:NAME or query:NAME)");
        }
        if (!keyLimits.isEmpty()) {
            if (keyLimits.size() > KeyLimit.MAX_ENTRIES) {
                throw new IllegalArgumentException(
                        "key_limits has " + keyLimits.size() + " entries; at most " + KeyLimit.MAX_ENTRIES);
            }
            if (key.isEmpty()) {
                throw new IllegalArgumentException("key_limits needs the policy's key: (header:NAME or query:NAME)");
            }
            if (limits.stream().noneMatch(RateLimit::perKey)) {
                throw new IllegalArgumentException(
                        "key_limits needs a per: key limit in limits (the budget of every other key)");
            }
        }
        for (int i = 0; i < limits.size(); i++) {
            if (limits.get(i).perKey() && key.isEmpty()) {
                throw new IllegalArgumentException(
                        "limits[" + i + "].per: key needs the policy's key: (header:NAME or query:NAME)");
            }
        }
    }

    /** Whether any limit is {@code per: key}. */
    public boolean hasKeyedLimits() {
        for (RateLimit limit : limits) if (limit.perKey()) return true;
        return false;
    }
}
