package io.sluice.http;

import io.sluice.fetch.Fields;
import java.time.Duration;
import java.time.Instant;
import java.util.Optional;
import java.util.OptionalLong;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Reads an upstream's own account of its budget, so Sluice pauses when the budget is spent,
 * before the upstream has to refuse. Understood forms:
 *
 * <ul>
 *   <li>{@code RateLimit-Remaining} / {@code RateLimit-Reset} (early drafts of the IETF httpapi
 *       RateLimit headers; reset is delta-seconds);
 *   <li>{@code X-RateLimit-Remaining} / {@code X-RateLimit-Reset} (GitHub, Twitter, and many
 *       others; reset is epoch seconds at GitHub, delta-seconds elsewhere, so it is detected);
 *   <li>{@code RateLimit: ...;r=0;t=30} and {@code RateLimit: remaining=0, reset=30} (later drafts).
 * </ul>
 */
public final class RateLimitHeaders {
    /** The largest request count believed from an upstream; larger ones are nonsense. */
    public static final long MAX_QUOTA = 1_000_000_000L;

    /** Values above this are instants, not deltas: no upstream asks for a pause of 30+ years. */
    private static final long EPOCH_SECONDS_THRESHOLD = 1_000_000_000L;

    private static final long EPOCH_MILLIS_THRESHOLD = 100_000_000_000L;
    private static final String[] REMAINING_FIELDS = {"RateLimit-Remaining", "X-RateLimit-Remaining"};
    private static final String[] RESET_FIELDS = {"RateLimit-Reset", "X-RateLimit-Reset"};
    private static final Pattern COUNT = Pattern.compile("\\d{1,10}");
    private static final Pattern NUMBER = Pattern.compile("\\d+(\\.\\d+)?");
    private static final Pattern REMAINING = Pattern.compile("(?:^|[;,\\s])(?:r|remaining)=\"?(\\d+)");
    private static final Pattern RESET = Pattern.compile("(?:^|[;,\\s])(?:t|reset)=\"?(\\d+)");

    private RateLimitHeaders() {}

    /** How long to pause if the headers say no request is left until a reset; else empty. */
    public static Optional<Duration> exhaustedFor(Fields headers, Instant now) {
        // Asked of every response, so the names are constants and the lookups build no streams.
        for (int i = 0; i < REMAINING_FIELDS.length; i++) {
            Optional<String> remaining = headers.firstValue(REMAINING_FIELDS[i]);
            if (remaining.isEmpty() || !isZero(remaining.get())) continue;
            Optional<Duration> reset = headers.firstValue(RESET_FIELDS[i]).flatMap(value -> resetIn(value, now));
            if (reset.isPresent()) return reset;
        }
        Optional<String> structured = headers.firstValue("RateLimit");
        if (structured.isPresent()) {
            Matcher r = REMAINING.matcher(structured.get());
            Matcher t = RESET.matcher(structured.get());
            if (r.find() && t.find() && isZero(r.group(1))) return resetIn(t.group(1), now);
        }
        return Optional.empty();
    }

    /**
     * How many requests the upstream says are left in its current window, from the same fields as
     * {@link #exhaustedFor}; empty when it does not say, or says something other than a whole number
     * of at most {@link #MAX_QUOTA}.
     */
    public static OptionalLong remaining(Fields headers) {
        for (String field : REMAINING_FIELDS) {
            Optional<String> value = headers.firstValue(field);
            if (value.isPresent()) return count(value.get());
        }
        Optional<String> structured = headers.firstValue("RateLimit");
        if (structured.isPresent()) {
            Matcher r = REMAINING.matcher(structured.get());
            if (r.find()) return count(r.group(1));
        }
        return OptionalLong.empty();
    }

    private static OptionalLong count(String value) {
        String v = value.trim();
        if (!COUNT.matcher(v).matches()) return OptionalLong.empty();
        long n = Long.parseLong(v);
        return n <= MAX_QUOTA ? OptionalLong.of(n) : OptionalLong.empty();
    }

    /** A reset written as delta-seconds, epoch seconds, epoch milliseconds, or an HTTP-date. */
    public static Optional<Duration> resetIn(String value, Instant now) {
        String v = value.trim();
        if (!NUMBER.matcher(v).matches()) {
            return HttpDates.parseAnyWeekday(v, now).map(at -> RetryAfter.until(at, now));
        }
        double number = Double.parseDouble(v);
        Instant at;
        if (number >= EPOCH_MILLIS_THRESHOLD) {
            at = Instant.ofEpochMilli((long) number);
        } else if (number >= EPOCH_SECONDS_THRESHOLD) {
            at = Instant.ofEpochMilli((long) (number * 1000));
        } else {
            return Optional.of(Duration.ofNanos((long) Math.ceil(number * 1e9)));
        }
        return Optional.of(RetryAfter.until(at, now));
    }

    private static boolean isZero(String value) {
        String v = value.trim();
        return NUMBER.matcher(v).matches() && Double.parseDouble(v) == 0;
    }
}
