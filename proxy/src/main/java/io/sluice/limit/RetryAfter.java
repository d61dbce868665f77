package io.sluice.limit;

import java.time.DateTimeException;
import java.time.Duration;
import java.time.Instant;
import java.time.LocalDateTime;
import java.time.ZoneOffset;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Reads {@code Retry-After} (RFC 9110 §10.2.3): {@code delay-seconds} or an {@code HTTP-date}. A
 * recipient must accept all three date formats of RFC 9110 §5.6.7 (IMF-fixdate and the obsolete
 * RFC 850 and asctime forms), and Envoy, among others, does not: an upstream that sends a date
 * would be ignored. Also used for {@code RateLimit-Reset}-style values given as dates.
 */
public final class RetryAfter {
    /**
     * Longer than any sane pause; bigger values, in seconds or as a far date, are clamped to it before
     * the policy caps them. About 292 years: what a long counts in nanoseconds, as deadlines do.
     */
    static final Duration MAX = Duration.ofNanos(Long.MAX_VALUE).withNanos(0);

    private static final long MAX_SECONDS = MAX.getSeconds();

    private static final Pattern DELAY_SECONDS = Pattern.compile("\\d+");
    // The day name is matched loosely and not checked against the date: a wrong weekday is a
    // sender's typo, and the date itself is unambiguous.
    private static final Pattern IMF_FIXDATE =
            Pattern.compile("[A-Za-z]{3}, (\\d{2}) ([A-Za-z]{3}) (\\d{4}) (\\d{2}):(\\d{2}):(\\d{2}) GMT");
    private static final Pattern RFC_850 =
            Pattern.compile("[A-Za-z]{6,9}, (\\d{2})-([A-Za-z]{3})-(\\d{2}) (\\d{2}):(\\d{2}):(\\d{2}) GMT");
    private static final Pattern ASCTIME =
            Pattern.compile("[A-Za-z]{3} ([A-Za-z]{3}) ([ \\d]\\d) (\\d{2}):(\\d{2}):(\\d{2}) (\\d{4})");
    private static final Map<String, Integer> MONTHS = Map.ofEntries(
            Map.entry("jan", 1),
            Map.entry("feb", 2),
            Map.entry("mar", 3),
            Map.entry("apr", 4),
            Map.entry("may", 5),
            Map.entry("jun", 6),
            Map.entry("jul", 7),
            Map.entry("aug", 8),
            Map.entry("sep", 9),
            Map.entry("oct", 10),
            Map.entry("nov", 11),
            Map.entry("dec", 12));

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
        return parseDate(v, now).map(date -> until(date, now));
    }

    /** The pause until {@code at}: zero if it is past, at most {@link #MAX}. */
    static Duration until(Instant at, Instant now) {
        if (!at.isAfter(now)) return Duration.ZERO;
        Duration pause = Duration.between(now, at);
        return pause.compareTo(MAX) > 0 ? MAX : pause;
    }

    /**
     * An HTTP-date in any of the three formats of RFC 9110 §5.6.7; {@code now} resolves the
     * two-digit year of the RFC 850 form.
     */
    public static Optional<Instant> parseDate(String value, Instant now) {
        String v = value.trim();
        try {
            Matcher m = IMF_FIXDATE.matcher(v);
            if (m.matches()) {
                return date(Integer.parseInt(m.group(3)), m.group(2), m.group(1), m, 4);
            }
            m = RFC_850.matcher(v);
            if (m.matches()) {
                return date(rfc850Year(Integer.parseInt(m.group(3)), now), m.group(2), m.group(1), m, 4);
            }
            m = ASCTIME.matcher(v);
            if (m.matches()) {
                return date(Integer.parseInt(m.group(6)), m.group(1), m.group(2).trim(), m, 3);
            }
        } catch (DateTimeException | NumberFormatException e) {
            return Optional.empty();
        }
        return Optional.empty();
    }

    /**
     * RFC 9110 §5.6.7: a two-digit year that appears to be more than 50 years in the future is the
     * most recent year in the past with the same last two digits.
     */
    private static int rfc850Year(int yy, Instant now) {
        int thisYear = now.atOffset(ZoneOffset.UTC).getYear();
        int candidate = thisYear - Math.floorMod(thisYear, 100) + yy;
        if (candidate > thisYear + 50) candidate -= 100;
        else if (candidate < thisYear - 50) candidate += 100;
        return candidate;
    }

    private static Optional<Instant> date(int year, String monthName, String day, Matcher m, int timeGroup) {
        Integer month = MONTHS.get(monthName.toLowerCase(Locale.ROOT));
        if (month == null) return Optional.empty();
        LocalDateTime time = LocalDateTime.of(
                year,
                month,
                Integer.parseInt(day),
                Integer.parseInt(m.group(timeGroup)),
                Integer.parseInt(m.group(timeGroup + 1)),
                Integer.parseInt(m.group(timeGroup + 2)));
        return Optional.of(time.toInstant(ZoneOffset.UTC));
    }
}
