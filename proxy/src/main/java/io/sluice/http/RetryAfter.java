package io.sluice.http;

import java.time.Duration;
import java.time.Instant;
import java.util.Optional;
import java.util.regex.Pattern;

/**
 * Reads {@code Retry-After} (RFC 9110 §10.2.3): {@code delay-seconds} or an {@code HTTP-date}. A
 * recipient must accept all three date formats of RFC 9110 §5.6.7 (IMF-fixdate and the obsolete
 * RFC 850 and asctime forms), and Envoy, among others, does not: an upstream that sends a date
 * would be ignored. Dates are read by {@link HttpDates}, as every HTTP date in Sluice is.
 */
public final class RetryAfter {
    /**
     * Longer than any sane pause; bigger values, in seconds or as a far date, are clamped to it before
     * the policy caps them. About 292 years: what a long counts in nanoseconds, as deadlines do.
     */
    static final Duration MAX = Duration.ofNanos(Long.MAX_VALUE).withNanos(0);

    private static final long MAX_SECONDS = MAX.getSeconds();

    private static final Pattern DELAY_SECONDS = Pattern.compile("\\d+");

    private RetryAfter() {}

    /**
     * The pause {@code value} asks for, seen at {@code now}: zero for a date in the past, empty if
     * the value is neither form (an unreadable header is ignored, as if absent).
     */
    public static Optional<Duration> parse(String value, Instant now) {
        if (value == null) return Optional.empty();
        String v = value.trim();
        if (DELAY_SECONDS.matcher(v).matches()) {
            long seconds = v.length() > 11 ? MAX_SECONDS : Math.min(MAX_SECONDS, Long.parseLong(v));
            return Optional.of(Duration.ofSeconds(seconds));
        }
        return HttpDates.parseAnyWeekday(v, now).map(date -> until(date, now));
    }

    /** The pause until {@code at}: zero if it is past, at most {@link #MAX}. */
    static Duration until(Instant at, Instant now) {
        if (!at.isAfter(now)) return Duration.ZERO;
        Duration pause = Duration.between(now, at);
        return pause.compareTo(MAX) > 0 ? MAX : pause;
    }
}
