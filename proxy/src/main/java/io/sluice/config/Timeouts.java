package io.sluice.config;

import java.time.Duration;

/**
 * {@code connect}: TCP + TLS set-up; {@code response}: from sending to the first byte of the
 * response headers; {@code total}: the whole call including queueing, retries and reading the body.
 */
public record Timeouts(Duration connect, Duration response, Duration total) {
    public Timeouts {
        Checks.positive("connect", connect);
        Checks.positive("response", response);
        Checks.positive("total", total);
    }
}
