package io.sluice.cache;

import static org.assertj.core.api.Assertions.assertThat;

import java.time.Instant;
import java.util.List;
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
    void usesTheFirstMemberOfAListBasedAge() {
        // RFC 9111 §5.1: a list-based Age uses its first member; an invalid one is ignored.
        assertThat(Entry.deltaSeconds("7200, 0")).isEqualTo(7200);
        assertThat(Entry.deltaSeconds("0, 7200")).isZero();
        assertThat(Entry.deltaSeconds(" 60 ")).isEqualTo(60);
        assertThat(Entry.deltaSeconds("soon, 60")).isZero();
        assertThat(Entry.deltaSeconds("-5")).isZero();
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
