package io.sluice.config;

import java.time.Duration;
import java.util.regex.Pattern;

/**
 * Durations written {@code 250ms}, {@code 5s}, {@code 2m}, {@code 1h} (or combined, {@code 1m30s}). A
 * duration is at most {@link #MAX} (about 292 years), so that every one can be counted in nanoseconds:
 * caches, deadlines and token buckets all do.
 */
public final class Durations {
    /** The longest duration a long count of nanoseconds holds, in whole days: 106751d. */
    public static final Duration MAX =
            Duration.ofDays(Duration.ofNanos(Long.MAX_VALUE).toDays());

    private static final Pattern PART = Pattern.compile("(\\d+)(ms|s|m|h|d)");
    private static final Pattern WHOLE = Pattern.compile("(?:\\d+(?:ms|s|m|h|d))+");

    private Durations() {}

    public static Duration parse(String text) {
        String s = text.trim();
        if (s.equals("0")) return Duration.ZERO;
        if (!WHOLE.matcher(s).matches()) {
            throw new IllegalArgumentException("invalid duration \"" + text + "\" (use e.g. 250ms, 5s, 2m, 1h)");
        }
        Duration total = Duration.ZERO;
        var part = PART.matcher(s);
        try {
            while (part.find()) {
                long n = Long.parseLong(part.group(1));
                total = total.plus(
                        switch (part.group(2)) {
                            case "ms" -> Duration.ofMillis(n);
                            case "s" -> Duration.ofSeconds(n);
                            case "m" -> Duration.ofMinutes(n);
                            case "h" -> Duration.ofHours(n);
                            default -> Duration.ofDays(n);
                        });
            }
        } catch (ArithmeticException | NumberFormatException e) {
            total = null; // past any long: too long, as below
        }
        if (total == null || total.compareTo(MAX) > 0) {
            throw new IllegalArgumentException(
                    "duration \"" + text + "\" is too long (at most 106751d, about 292 years)");
        }
        return total;
    }

    /** The inverse of {@link #parse}, in the largest unit that is exact. */
    public static String format(Duration duration) {
        long ms = duration.toMillis();
        if (ms == 0) return "0s";
        if (ms % 3_600_000 == 0) return ms / 3_600_000 + "h";
        if (ms % 60_000 == 0) return ms / 60_000 + "m";
        if (ms % 1000 == 0) return ms / 1000 + "s";
        return ms + "ms";
    }
}
