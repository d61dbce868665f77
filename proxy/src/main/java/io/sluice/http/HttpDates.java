package io.sluice.http;

import java.time.DateTimeException;
import java.time.Instant;
import java.time.LocalDate;
import java.time.LocalDateTime;
import java.time.ZoneOffset;
import java.time.format.DateTimeFormatter;
import java.time.format.DateTimeFormatterBuilder;
import java.time.format.DateTimeParseException;
import java.time.temporal.ChronoField;
import java.util.Locale;
import java.util.Optional;

/**
 * HTTP dates ({@code Date}, {@code Expires}, {@code Last-Modified}, {@code If-Modified-Since}, the
 * date form of {@code Retry-After} and of {@code RateLimit-Reset}): the one reader of them in
 * Sluice. RFC 9110 §5.6.7: a recipient accepts all three formats: IMF-fixdate, the obsolete RFC 850
 * form and ANSI C's asctime. Names of days and months and {@code GMT} are read ignoring case: the
 * grammar spells them case-sensitively, but §5.6.7 asks recipients to be lenient about what they
 * parse, as browsers and squid are. A day name that contradicts the date makes it no date (see
 * docs/cache-conformance.md on {@code freshness-expires-ansi-c}).
 */
public final class HttpDates {
    private static final DateTimeFormatter IMF_FIXDATE = new DateTimeFormatterBuilder()
            .parseCaseInsensitive()
            .appendPattern("EEE, dd MMM yyyy HH:mm:ss 'GMT'")
            .toFormatter(Locale.US);
    /** The RFC 850 reader for the window of two-digit years last asked for; see {@link #rfc850}. */
    private static volatile Rfc850 lastRfc850 = new Rfc850(Integer.MIN_VALUE, null);

    private static final DateTimeFormatter ASCTIME = new DateTimeFormatterBuilder()
            .parseCaseInsensitive()
            .appendPattern("EEE MMM ppd HH:mm:ss yyyy")
            .toFormatter(Locale.US);

    private static final String DAYS = "MonTueWedThuFriSatSun";
    private static final String MONTHS = "JanFebMarAprMayJunJulAugSepOctNovDec";

    private HttpDates() {}

    /**
     * The instant {@code value} names in any of the three formats, or empty when it is none of them
     * (an invalid date, such as {@code Expires: 0}, is for the caller to judge). {@code now} decides
     * the century of the RFC 850 form's two-digit year.
     */
    public static Optional<Instant> parse(String value, Instant now) {
        String v = value.trim();
        Instant fixdate = imfFixdate(v);
        return fixdate != null ? Optional.of(fixdate) : parseWithFormatters(v, now);
    }

    /**
     * As {@link #parse}, but the day name is not checked against the date: for the fields a client
     * obeys ({@code Retry-After}, {@code RateLimit-Reset}), where dropping a date over a wrong
     * weekday would mean not waiting when the server asked to. Sluice read them this way before the
     * date readers were made one, and the cache keeps the strict reading.
     */
    public static Optional<Instant> parseAnyWeekday(String value, Instant now) {
        String v = value.trim();
        int letters = 0;
        while (letters < v.length() && isAsciiLetter(v.charAt(letters))) letters++;
        if (letters == 0) return Optional.empty();
        String rest = v.substring(letters);
        // RFC 850 spells the day in full before its comma; IMF-fixdate and asctime use three letters.
        java.time.format.TextStyle style = letters > 3 && rest.startsWith(",")
                ? java.time.format.TextStyle.FULL
                : java.time.format.TextStyle.SHORT;
        // The first number after the day name is the day of the month in all three formats. The
        // formatters resolve "31 Feb" to the 28th, which the day-name check alone turned away.
        int dayOfMonth = firstNumber(rest);
        Optional<Instant> strict = parse(v, now);
        if (strict.isPresent()) {
            return strict.get().atOffset(ZoneOffset.UTC).getDayOfMonth() == dayOfMonth ? strict : Optional.empty();
        }
        for (java.time.DayOfWeek day : java.time.DayOfWeek.values()) {
            Optional<Instant> read = parse(day.getDisplayName(style, Locale.US) + rest, now);
            if (read.isPresent() && read.get().atOffset(ZoneOffset.UTC).getDayOfMonth() == dayOfMonth) return read;
        }
        return Optional.empty();
    }

    private static int firstNumber(String v) {
        int i = 0;
        while (i < v.length() && (v.charAt(i) < '0' || v.charAt(i) > '9')) i++;
        int n = 0;
        for (int digits = 0; i < v.length() && v.charAt(i) >= '0' && v.charAt(i) <= '9' && digits < 3; i++, digits++) {
            n = n * 10 + (v.charAt(i) - '0');
        }
        return n;
    }

    private static boolean isAsciiLetter(char c) {
        return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z');
    }

    /** The three formats of §5.6.7 through {@link DateTimeFormatter}; {@link #parse} tries IMF-fixdate by hand first. */
    static Optional<Instant> parseWithFormatters(String v, Instant now) {
        for (DateTimeFormatter format : new DateTimeFormatter[] {IMF_FIXDATE, rfc850(now), ASCTIME}) {
            try {
                return Optional.of(LocalDateTime.parse(v, format).toInstant(ZoneOffset.UTC));
            } catch (DateTimeParseException e) {
                // try the next format
            }
        }
        return Optional.empty();
    }

    /**
     * IMF-fixdate read by hand, the form nearly every origin sends: a cache parses a response's
     * {@code Date} for every response it stores, and going through {@link DateTimeFormatter} was
     * about 2% of the CPU of a passthrough that stores every miss (async-profiler). Returns null for anything it is
     * not sure of (other lengths or forms, out-of-range fields, a day name that does not match the
     * date), which the formatters then decide, so both paths give the same answer.
     */
    private static Instant imfFixdate(String v) {
        // Sun, 06 Nov 1994 08:49:37 GMT
        if (v.length() != 29
                || v.charAt(3) != ','
                || v.charAt(4) != ' '
                || v.charAt(7) != ' '
                || v.charAt(11) != ' '
                || v.charAt(16) != ' '
                || v.charAt(19) != ':'
                || v.charAt(22) != ':'
                || !v.regionMatches(true, 25, " GMT", 0, 4)) return null;
        int weekday = nameAt(DAYS, v, 0);
        int month = nameAt(MONTHS, v, 8);
        int day = digits(v, 5, 2);
        int year = digits(v, 12, 4);
        int hour = digits(v, 17, 2);
        int minute = digits(v, 20, 2);
        int second = digits(v, 23, 2);
        // digits() gives -1 for a non-digit; year 0000 is not a year of the era to the formatters.
        if (weekday < 0 || month < 0 || day < 0 || year < 1) return null;
        if (hour < 0 || hour > 23 || minute < 0 || minute > 59 || second < 0 || second > 59) return null;
        LocalDate date;
        try {
            date = LocalDate.of(year, month + 1, day);
        } catch (DateTimeException e) {
            return null;
        }
        if (date.getDayOfWeek().ordinal() != weekday) return null;
        return Instant.ofEpochSecond(date.toEpochDay() * 86_400 + hour * 3_600 + minute * 60 + second);
    }

    /** Which three-letter name of {@code names} stands at {@code at}, ignoring case as the formatters do, or -1. */
    private static int nameAt(String names, String v, int at) {
        for (int i = 0; i < names.length(); i += 3) {
            if (v.regionMatches(true, at, names, i, 3)) return i / 3;
        }
        return -1;
    }

    /** The decimal number in {@code v[at, at + count)}, or -1 if any of it is not an ASCII digit. */
    private static int digits(String v, int at, int count) {
        int n = 0;
        for (int i = at; i < at + count; i++) {
            char c = v.charAt(i);
            if (c < '0' || c > '9') return -1;
            n = n * 10 + (c - '0');
        }
        return n;
    }

    /** {@code instant} as an IMF-fixdate, the form a sender generates (RFC 9110 §5.6.7). */
    public static String format(Instant instant) {
        return IMF_FIXDATE.format(instant.atOffset(ZoneOffset.UTC));
    }

    /**
     * RFC 9110 §5.6.7: a two-digit year that appears to be more than 50 years in the future is the
     * most recent year in the past with the same last two digits. So the years read are the hundred
     * from 49 years before {@code now}'s year to 50 after it. The formatter depends on the year and
     * is kept for the last one asked, which is nearly always this year.
     */
    private static DateTimeFormatter rfc850(Instant now) {
        int first = now.atOffset(ZoneOffset.UTC).getYear() - 49;
        Rfc850 current = lastRfc850;
        if (current.firstYear() != first) {
            current = new Rfc850(first, rfc850Formatter(first));
            lastRfc850 = current;
        }
        return current.formatter();
    }

    private static DateTimeFormatter rfc850Formatter(int firstYear) {
        return new DateTimeFormatterBuilder()
                .parseCaseInsensitive()
                .appendPattern("EEEE, dd-MMM-")
                .appendValueReduced(ChronoField.YEAR, 2, 2, firstYear)
                .appendPattern(" HH:mm:ss 'GMT'")
                .toFormatter(Locale.US);
    }

    private record Rfc850(int firstYear, DateTimeFormatter formatter) {}
}
