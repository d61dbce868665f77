package io.sluice.http;

import static org.assertj.core.api.Assertions.assertThat;

import java.time.Duration;
import java.time.Instant;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

class RetryAfterTest {
    private static final Instant NOW = Instant.parse("1994-11-06T08:49:00Z");

    /**
     * Found by the fuzz test of these parsers (LimitHeadersFuzzTest then, HeaderParsersFuzzTest now): a pause past 292 years (10^10 seconds, or a date in 9999) did not
     * fit the nanoseconds the retry stage counts it in, and failed the call with ArithmeticException.
     */
    @Test
    void clampsAPauseTooLongToCountInNanoseconds() {
        for (String value : new String[] {"99999999999999999999", "10000000000", "Fri, 31 Dec 9999 23:59:59 GMT"}) {
            assertThat(RetryAfter.parse(value, NOW)).as(value).contains(RetryAfter.MAX);
        }
        assertThat(RetryAfter.MAX.toNanos()).isPositive();
        assertThat(RateLimitHeaders.resetIn("99999999999999999999", NOW)).contains(RetryAfter.MAX);
    }

    @Test
    void readsDelaySeconds() {
        assertThat(RetryAfter.parse("120", NOW)).contains(Duration.ofSeconds(120));
        assertThat(RetryAfter.parse(" 0 ", NOW)).contains(Duration.ZERO);
    }

    @ParameterizedTest(name = "{0}")
    @CsvSource(
            delimiter = '|',
            value = {
                "Sun, 06 Nov 1994 08:49:37 GMT", // IMF-fixdate
                "Sunday, 06-Nov-94 08:49:37 GMT", // obsolete RFC 850
                "Sun Nov  6 08:49:37 1994", // obsolete asctime
            })
    void readsEachHttpDateFormatOfRfc9110(String date) {
        assertThat(RetryAfter.parse(date, NOW)).contains(Duration.ofSeconds(37));
    }

    @Test
    void readsItsDateAsEveryHttpDateIsRead() {
        // One reader for all HTTP dates (HttpDates): names in any case. A wrong day name is not held
        // against a Retry-After date (the server asked to wait; the cache is stricter).
        assertThat(RetryAfter.parse("sun, 06 nov 1994 08:49:37 gmt", NOW)).contains(Duration.ofSeconds(37));
        assertThat(RetryAfter.parse("Mon, 06 Nov 1994 08:49:37 GMT", NOW)).contains(Duration.ofSeconds(37));
        assertThat(RetryAfter.parse("Monday, 06-Nov-94 08:49:37 GMT", NOW)).contains(Duration.ofSeconds(37));
        assertThat(RetryAfter.parse("Mon Nov  6 08:49:37 1994", NOW)).contains(Duration.ofSeconds(37));
        assertThat(RetryAfter.parse("Xyz, 06 Nov 1994 08:49:37 GMT", NOW)).contains(Duration.ofSeconds(37));
        assertThat(RetryAfter.parse("Mon, 31 Feb 1994 08:49:37 GMT", NOW)).isEmpty();
    }

    @Test
    void treatsDateInThePastAsNoPause() {
        assertThat(RetryAfter.parse("Sun, 06 Nov 1994 08:00:00 GMT", NOW)).contains(Duration.ZERO);
    }

    @Test
    void ignoresWhatIsNeitherForm() {
        assertThat(RetryAfter.parse("soon", NOW)).isEmpty();
        assertThat(RetryAfter.parse("-5", NOW)).isEmpty();
        assertThat(RetryAfter.parse("1.5", NOW)).isEmpty();
        assertThat(RetryAfter.parse("Sun, 31 Feb 1994 08:49:37 GMT", NOW)).isEmpty();
        assertThat(RetryAfter.parse(null, NOW)).isEmpty();
    }

    @Test
    void clampsAbsurdDelays() {
        assertThat(RetryAfter.parse("99999999999999999999999", NOW))
                .hasValueSatisfying(d -> assertThat(d).isGreaterThan(Duration.ofDays(365 * 100)));
    }
}
