package io.sluice.upstream;

import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.OptionalDouble;

/**
 * The limits an upstream announced in its rate-limit headers and Sluice adopted beside the
 * configured ones ({@code learn}), as the admin API and the metrics show them.
 *
 * @param limits what was learned, empty when nothing is (yet, or after a reset)
 * @param field the response header they came from, e.g. {@code X-RateLimit-Limit}; null when none
 * @param at when they were adopted (the last change); null when none
 * @param pinned whether an operator pinned them: later announcements are ignored
 * @param rejected announcements ignored as nonsense since start
 */
public record LearnedLimit(List<Limit> limits, String field, Instant at, boolean pinned, long rejected) {
    public LearnedLimit {
        limits = List.copyOf(limits);
    }

    /** {@code tokens} per {@code window}, holding at most {@code burst}. */
    public record Limit(long tokens, Duration window, long burst, double perSecond) {}

    /** The slowest learned rate, per second. */
    public OptionalDouble strictestPerSecond() {
        return limits.stream().mapToDouble(Limit::perSecond).min();
    }
}
