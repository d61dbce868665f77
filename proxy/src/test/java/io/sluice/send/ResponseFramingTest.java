package io.sluice.send;

import static org.assertj.core.api.Assertions.assertThat;

import io.undertow.util.HeaderMap;
import io.undertow.util.Headers;
import io.undertow.util.Protocols;
import org.junit.jupiter.api.Test;

/** The checks every upstream response head passes before it is relayed (RFC 9112 §6.3). */
class ResponseFramingTest {

    @Test
    void contentLengthElementsCompareWithoutWhitespaceOrLeadingZeros() {
        assertThat(Http1Exchange.canonicalDigits("1200")).isEqualTo("1200");
        assertThat(Http1Exchange.canonicalDigits(" 007 ")).isEqualTo("7");
        assertThat(Http1Exchange.canonicalDigits("0")).isEqualTo("0");
        assertThat(Http1Exchange.canonicalDigits("000")).isEqualTo("0");
        assertThat(Http1Exchange.canonicalDigits("\t42")).isEqualTo("42");
    }

    @Test
    void contentLengthElementsThatAreNotDigitsAreRefused() {
        assertThat(Http1Exchange.canonicalDigits("")).isNull();
        assertThat(Http1Exchange.canonicalDigits("  ")).isNull();
        assertThat(Http1Exchange.canonicalDigits("+5")).isNull();
        assertThat(Http1Exchange.canonicalDigits("5 5")).isNull();
        assertThat(Http1Exchange.canonicalDigits("0x10")).isNull();
        assertThat(Http1Exchange.canonicalDigits("١٢")).isNull(); // Arabic-Indic digits are not DIGIT
    }

    @Test
    void equalLengthsInAListAreOneLengthAndDifferentOnesAreRefused() {
        assertThat(Http1Exchange.framingError(200, Protocols.HTTP_1_1, lengths("12, 012")))
                .isNull();
        assertThat(Http1Exchange.framingError(200, Protocols.HTTP_1_1, lengths("12")))
                .isNull();
        assertThat(Http1Exchange.framingError(200, Protocols.HTTP_1_1, lengths("12, 13")))
                .isNotNull()
                .hasMessageContaining("conflicting Content-Length");
        assertThat(Http1Exchange.framingError(200, Protocols.HTTP_1_1, lengths("12,")))
                .isNotNull()
                .hasMessageContaining("invalid Content-Length");
    }

    private static HeaderMap lengths(String value) {
        HeaderMap map = new HeaderMap();
        map.add(Headers.CONTENT_LENGTH, value);
        return map;
    }
}
