package io.sluice.cache;

import static org.assertj.core.api.Assertions.assertThat;

import java.time.Instant;
import java.util.List;
import org.junit.jupiter.api.Test;

class HeaderParsingTest {
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
