package io.sluice.config;

import java.time.Duration;
import java.util.List;
import java.util.Map;

/**
 * What Sluice applies to every request of one upstream (see the design's "Upstreams and policy").
 * {@code headers} are added to each request; their values may come from the environment and are
 * shown only as templates. {@code maxCooldown} bounds how long one upstream answer
 * ({@code Retry-After}, {@code RateLimit-Reset}) may pause the upstream: a longer value is capped,
 * logged and counted, so a buggy or hostile header cannot stop traffic for days. {@code connect}
 * says what a {@code CONNECT} to the upstream's origin does, {@code tunnelIdleTimeout} closes an
 * idle {@code tunnel}-mode pipe, and {@code tls} is how Sluice itself speaks TLS to the upstream.
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
        UpstreamTls tls) {

    public Policy {
        limits = List.copyOf(limits);
        headers = Map.copyOf(headers);
        if (maxConcurrency < 1) {
            throw new IllegalArgumentException("max_concurrency must be at least 1: " + maxConcurrency);
        }
        Checks.notNegative("max_wait", maxWait);
        Checks.notNegative("max_cooldown", maxCooldown);
        if (connect == null) throw new IllegalArgumentException("connect: required");
        Checks.positive("tunnel_idle_timeout", tunnelIdleTimeout);
        if (tls == null) throw new IllegalArgumentException("tls: required");
    }
}
