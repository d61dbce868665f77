package io.sluice.cache;

import static org.assertj.core.api.Assertions.assertThat;

import java.time.Instant;
import java.time.ZoneOffset;
import java.time.format.DateTimeFormatter;
import java.util.List;
import java.util.Locale;
import java.util.Random;
import org.junit.jupiter.api.Test;

class HeaderParsingTest {
    /**
     * Found by CacheHeadersFuzzTest: a span between HTTP dates of more than 292 years (an Expires of
     * 9999, a Date of year 1) overflowed a long of nanoseconds and failed the response.
     */
    @Test
    void storesAResponseThatExpiresInYear9999AsFreshForMaxTtl() {
        var policy = new io.sluice.config.CachePolicy(true, java.time.Duration.ofDays(1), java.util.Optional.empty());
        var exchange = new Entry.Exchange(
                io.sluice.fetch.Fields.EMPTY, "", 0, 0, Instant.parse("2026-01-01T00:00:00Z"), policy);
        var neverExpires =
                io.sluice.fetch.Fields.of(java.util.Map.of("Expires", List.of("Fri, 31 Dec 9999 23:59:59 GMT")));
        var datedYearOne = io.sluice.fetch.Fields.of(java.util.Map.of(
                "Cache-Control", List.of("max-age=60"), "Date", List.of("Mon, 01 Jan 0001 00:00:00 GMT")));

        assertThat(Entry.storable(200, neverExpires, exchange, 1))
                .hasValueSatisfying(e ->
                        assertThat(e.lifetimeNanos).isEqualTo(policy.maxTtl().toNanos()));
        // Its apparent age is past any lifetime: not stored, and no exception.
        assertThat(Entry.storable(200, datedYearOne, exchange, 1)).isEmpty();
    }

    @Test
    void acceptsAllThreeHttpDateFormats() {
        Instant expected = Instant.parse("1994-11-06T08:49:37Z");

        assertThat(HttpDates.parse("Sun, 06 Nov 1994 08:49:37 GMT")).contains(expected);
        assertThat(HttpDates.parse("Sunday, 06-Nov-94 08:49:37 GMT")).contains(expected);
        assertThat(HttpDates.parse("Sun Nov  6 08:49:37 1994")).contains(expected);
        assertThat(HttpDates.parse("0")).isEmpty();
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

            assertThat(HttpDates.parse(text)).as(text).contains(instant);
            assertThat(HttpDates.parseWithFormatters(text)).as(text).contains(instant);
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
            assertThat(HttpDates.parse(text)).as(text).isEqualTo(HttpDates.parseWithFormatters(text.trim()));
        }
        assertThat(HttpDates.parse("Tue, 29 Feb 2000 08:49:37 GMT")).contains(Instant.parse("2000-02-29T08:49:37Z"));
        assertThat(HttpDates.parse("Mon, 06 Nov 1994 08:49:37 GMT")).isEmpty();
    }

    @Test
    void readsCacheControlDirectivesCaseInsensitivelyWithQuotedValues() {
        Directives cc = Directives.parse(List.of("Max-Age=60, no-cache=\"Set-Cookie, X-Foo\"", "private, max-age=5"));

        assertThat(cc.seconds("max-age", -1, 0)).isEqualTo(60);
        assertThat(cc.has("no-cache")).isTrue();
        assertThat(cc.has("private")).isTrue();
        assertThat(cc.has("x-foo")).isFalse();
    }

    @Test
    void treatsAnInvalidMaxAgeAsStaleAndClampsHugeOnes() {
        assertThat(Directives.parse(List.of("max-age=soon")).seconds("max-age", -1, 0))
                .isZero();
        assertThat(Directives.parse(List.of("max-age=99999999999999")).seconds("max-age", -1, 0))
                .isEqualTo(Directives.MAX_DELTA_SECONDS);
        assertThat(Directives.parse(List.of("max-stale")).hasNoValue("max-stale"))
                .isTrue();
    }

    @Test
    void readsHttpDatesIgnoringTheCaseOfNamesAndGmt() {
        Instant expected = Instant.parse("2050-08-18T08:49:37Z");

        // RFC 9110 §5.6.7: recipients are lenient; the three forms, each in odd case.
        assertThat(HttpDates.parse("thu, 18 aug 2050 08:49:37 gmt")).contains(expected);
        assertThat(HttpDates.parse("THU, 18 AUG 2050 08:49:37 GMT")).contains(expected);
        assertThat(HttpDates.parse("thursday, 18-aug-50 08:49:37 gmt")).contains(expected);
        assertThat(HttpDates.parse("thu aug 18 08:49:37 2050")).contains(expected);
        // Leniency is about case only: a wrong weekday or a doubled space is still no date.
        assertThat(HttpDates.parse("fri, 18 aug 2050 08:49:37 gmt")).isEmpty();
        assertThat(HttpDates.parse("Thu, 18  Aug  2050 08:49:37 GMT")).isEmpty();
    }

    @Test
    void usesTheFirstMemberOfAListBasedAge() {
        // RFC 9111 §5.1: a list-based Age uses its first member; an invalid one is ignored.
        assertThat(Entry.deltaSeconds("7200, 0")).isEqualTo(7200);
        assertThat(Entry.deltaSeconds("0, 7200")).isZero();
        assertThat(Entry.deltaSeconds(" 60 ")).isEqualTo(60);
        assertThat(Entry.deltaSeconds("soon, 60")).isZero();
        assertThat(Entry.deltaSeconds("-5")).isZero();
    }

    @Test
    void ignoresADirectiveWithWhitespaceAroundItsEquals() {
        // RFC 9111 §5.2: token [ "=" ( token / quoted-string ) ], no whitespace about the "=".
        assertThat(Directives.parse(List.of("max-age =3600")).has("max-age")).isFalse();
        assertThat(Directives.parse(List.of("max-age= 3600")).has("max-age")).isFalse();
        assertThat(Directives.parse(List.of("max-age =3600, max-age=5")).seconds("max-age", -1, 0))
                .isEqualTo(5);
        // Whitespace around the commas of the list is fine (RFC 9110 §5.6.1).
        Directives listed = Directives.parse(List.of(" public ,  max-age=60 , s-maxage=\"1, 2\""));
        assertThat(listed.seconds("max-age", -1, 0)).isEqualTo(60);
        assertThat(listed.has("public")).isTrue();
    }

    @Test
    void normalisesUrlsForKeys() {
        assertThat(Keys.url(java.net.URI.create("HTTP://Example.COM:80?q=1#top")))
                .isEqualTo("http://example.com/?q=1");
        assertThat(Keys.url(java.net.URI.create("https://example.com:8443/a%20b")))
                .isEqualTo("https://example.com:8443/a%20b");
    }

    @Test
    void digestsCredentialsWithoutKeepingThem() {
        var alice = FakeOrigin.headers(-1, "Authorization", "Bearer alice");
        var bob = FakeOrigin.headers(-1, "Authorization", "Bearer bob");

        assertThat(Keys.credential(alice)).isNotEqualTo(Keys.credential(bob)).doesNotContain("alice");
        assertThat(Keys.credential(FakeOrigin.headers(-1))).isEmpty();
    }
}
