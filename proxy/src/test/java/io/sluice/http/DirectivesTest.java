package io.sluice.http;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.List;
import org.junit.jupiter.api.Test;

class DirectivesTest {
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
}
