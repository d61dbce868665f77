package io.sluice.http;

import static org.assertj.core.api.Assertions.assertThat;

import java.time.Instant;
import java.time.ZoneOffset;
import java.time.format.DateTimeFormatter;
import java.util.List;
import java.util.Locale;
import java.util.Random;
import org.junit.jupiter.api.Test;

class HttpDatesTest {
    /** When the dates are read: it decides only the century of an RFC 850 two-digit year. */
    private static final Instant NOW = Instant.parse("2026-12-07T06:00:00Z");

    @Test
    void acceptsAllThreeHttpDateFormats() {
        Instant expected = Instant.parse("1994-11-06T08:49:37Z");

        assertThat(HttpDates.parse("Sun, 06 Nov 1994 08:49:37 GMT", NOW)).contains(expected);
        assertThat(HttpDates.parse("Sunday, 06-Nov-94 08:49:37 GMT", NOW)).contains(expected);
        assertThat(HttpDates.parse("Sun Nov  6 08:49:37 1994", NOW)).contains(expected);
        assertThat(HttpDates.parse("0", NOW)).isEmpty();
        assertThat(HttpDates.format(expected)).isEqualTo("Sun, 06 Nov 1994 08:49:37 GMT");
    }

    @Test
    void readsImfFixdateByHandExactlyAsTheFormattersDo() {
        DateTimeFormatter imf = DateTimeFormatter.ofPattern("EEE, dd MMM yyyy HH:mm:ss 'GMT'", Locale.US);
        Random random = new Random(7);
        long first = Instant.parse("0001-01-01T00:00:00Z").getEpochSecond();
        long last = Instant.parse("9999-12-31T23:59:59Z").getEpochSecond();
        for (int i = 0; i < 5_000; i++) {
            Instant instant = Instant.ofEpochSecond(first + (long) (random.nextDouble() * (last - first)));
            String text = imf.format(instant.atOffset(ZoneOffset.UTC));

            assertThat(HttpDates.parse(text, NOW)).as(text).contains(instant);
            assertThat(HttpDates.parseWithFormatters(text, NOW)).as(text).contains(instant);
        }

        // Near misses: the hand-written reader must give the formatters' answer, whichever it is.
        List<String> nearMisses = List.of(
                "Mon, 06 Nov 1994 08:49:37 GMT", // the 6th was a Sunday
                "Thu, 29 Feb 2001 08:49:37 GMT", // not a leap year
                "Tue, 29 Feb 2000 08:49:37 GMT", // a leap year
                "Sun, 06 nov 1994 08:49:37 GMT",
                "sun, 06 Nov 1994 08:49:37 GMT",
                "Sun, 06 Nov 1994 24:00:00 GMT",
                "Sun, 06 Nov 1994 08:60:37 GMT",
                "Sun, 06 Nov 1994 08:49:60 GMT",
                "Sat, 01 Jan 0000 00:00:00 GMT",
                "Sun, 00 Nov 1994 08:49:37 GMT",
                "Sun, 06 Nov 1994 08:49:37 UTC",
                "Sun, 6 Nov 1994 08:49:37 GMT",
                "Sun, 06 Nov 1994 08:4a:37 GMT",
                "Sun, 06 Nov 19940 08:49:37 GMT",
                "Sun, 06 Nov 1994 08:49:37 GMT ",
                "  Sun, 06 Nov 1994 08:49:37 GMT");
        for (String text : nearMisses) {
            assertThat(HttpDates.parse(text, NOW)).as(text).isEqualTo(HttpDates.parseWithFormatters(text.trim(), NOW));
        }
        assertThat(HttpDates.parse("Tue, 29 Feb 2000 08:49:37 GMT", NOW))
                .contains(Instant.parse("2000-02-29T08:49:37Z"));
        assertThat(HttpDates.parse("Mon, 06 Nov 1994 08:49:37 GMT", NOW)).isEmpty();
    }

    @Test
    void readsHttpDatesIgnoringTheCaseOfNamesAndGmt() {
        Instant expected = Instant.parse("2050-08-18T08:49:37Z");

        // RFC 9110 §5.6.7: recipients are lenient; the three forms, each in odd case.
        assertThat(HttpDates.parse("thu, 18 aug 2050 08:49:37 gmt", NOW)).contains(expected);
        assertThat(HttpDates.parse("THU, 18 AUG 2050 08:49:37 GMT", NOW)).contains(expected);
        assertThat(HttpDates.parse("thursday, 18-aug-50 08:49:37 gmt", NOW)).contains(expected);
        assertThat(HttpDates.parse("thu aug 18 08:49:37 2050", NOW)).contains(expected);
        // Leniency is about case only: a wrong weekday or a doubled space is still no date.
        assertThat(HttpDates.parse("fri, 18 aug 2050 08:49:37 gmt", NOW)).isEmpty();
        assertThat(HttpDates.parse("Thu, 18  Aug  2050 08:49:37 GMT", NOW)).isEmpty();
    }

    @Test
    void readsAsctimeWithTwoDigitDay() {
        assertThat(HttpDates.parse("Thu Jan 15 10:00:00 2026", NOW)).contains(Instant.parse("2026-01-15T10:00:00Z"));
    }

    @Test
    void treatsRfc850YearMoreThanFiftyYearsAheadAsThePast() {
        Instant now = Instant.parse("2026-01-01T00:00:00Z");
        assertThat(HttpDates.parse("Friday, 01-Jan-27 00:00:00 GMT", now))
                .contains(Instant.parse("2027-01-01T00:00:00Z"));
        assertThat(HttpDates.parse("Thursday, 01-Jan-87 00:00:00 GMT", now))
                .contains(Instant.parse("1987-01-01T00:00:00Z"));
    }

    @Test
    void readsAnRfc850YearAsTheHundredYearsAroundNow() {
        // RFC 9110 §5.6.7: only a year more than 50 years ahead is taken to be in the past.
        assertThat(HttpDates.parse("Wednesday, 01-Jan-76 00:00:00 GMT", NOW))
                .contains(Instant.parse("2076-01-01T00:00:00Z"));
        assertThat(HttpDates.parse("Saturday, 01-Jan-77 00:00:00 GMT", NOW))
                .contains(Instant.parse("1977-01-01T00:00:00Z"));
        assertThat(HttpDates.parse("Wednesday, 01-Jan-70 00:00:00 GMT", NOW))
                .contains(Instant.parse("2070-01-01T00:00:00Z"));
        // The day name is checked in the century chosen: 1 January 1970 was a Thursday.
        assertThat(HttpDates.parse("Thursday, 01-Jan-70 00:00:00 GMT", NOW)).isEmpty();
        // The window moves with now.
        Instant later = Instant.parse("2090-06-01T00:00:00Z");
        assertThat(HttpDates.parse("Sunday, 01-Jan-30 00:00:00 GMT", later))
                .contains(Instant.parse("2130-01-01T00:00:00Z"));
        assertThat(HttpDates.parse("Tuesday, 01-Jan-30 00:00:00 GMT", NOW))
                .contains(Instant.parse("2030-01-01T00:00:00Z"));
    }
}
