package io.sluice.server;

import static org.assertj.core.api.Assertions.assertThat;

import io.sluice.fetch.Interim;
import io.undertow.util.HeaderMap;
import io.undertow.util.HttpString;
import java.nio.charset.StandardCharsets;
import java.util.List;
import org.junit.jupiter.api.Test;

/** Field lines re-read from a head's bytes: kept as spelled where Undertow read them the same. */
class RawHeadTest {

    @Test
    void readsAnInterimHeadStrictlyAndDropsItsHopByHopFields() {
        Interim hints = RawHead.interim(
                103,
                bytes("HTTP/1.1 103 Early Hints\r\nLink:  </a>;  rel=preload \r\nConnection: x-hop\r\n"
                        + "X-Hop: 1\r\nlink: </b>\r\nX-Obs: caf\u00e9\r\n\r\n"));

        assertThat(hints.status()).isEqualTo(103);
        assertThat(hints.headers().allValues("Link")).containsExactly("</a>;  rel=preload", "</b>");
        assertThat(hints.headers().firstValue("X-Obs")).contains("caf\u00e9");
        assertThat(hints.headers().contains("X-Hop")).isFalse();
        assertThat(hints.headers().contains("Connection")).isFalse();
        // RFC 9110 §5.1, §5.5: a name is a token before a colon; no control characters in a value.
        assertThat(RawHead.interim(103, bytes("HTTP/1.1 103 Early Hints\r\nBad Name: x\r\n\r\n")))
                .isNull();
        assertThat(RawHead.interim(103, bytes("HTTP/1.1 103 Early Hints\r\nX : x\r\n\r\n")))
                .isNull();
        assertThat(RawHead.interim(103, bytes("HTTP/1.1 103 Early Hints\r\nX: a\u0001b\r\n\r\n")))
                .isNull();
        assertThat(RawHead.interim(103, bytes("HTTP/1.1 103 Early Hints\r\nX: a\r\n b\r\n\r\n")))
                .isNull();
    }

    @Test
    void rawFieldsKeepWhitespaceRunsAndNamesAsSpelledWhenUndertowAgrees() {
        byte[] head = ("HTTP/1.1 200 OK\r\nx-sp:  a  b   c \r\nSet-Cookie: a=1\r\nset-cookie: b=2\r\n\r\n")
                .getBytes(StandardCharsets.ISO_8859_1);
        HeaderMap parsed = new HeaderMap();
        parsed.add(new HttpString("X-Sp"), "a b c");
        parsed.add(new HttpString("Set-Cookie"), "a=1");
        parsed.add(new HttpString("Set-Cookie"), "b=2");

        List<RawHead.Field> fields = RawHead.fields(head, parsed);

        assertThat(fields)
                .containsExactly(
                        new RawHead.Field("x-sp", List.of("a  b   c")),
                        new RawHead.Field("Set-Cookie", List.of("a=1", "b=2")));
    }

    @Test
    void rawFieldsUseUndertowsStringsWhereTheBytesAreTheSameAndTheirOwnWhereNot() {
        byte[] head = ("HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nx-id:  7\r\n"
                        + "Set-Cookie: a=1\r\nSet-Cookie: b=2\r\n\r\n")
                .getBytes(StandardCharsets.ISO_8859_1);
        HeaderMap parsed = new HeaderMap();
        HttpString contentType = new HttpString("Content-Type");
        String json = new String("application/json"); // not the literal's instance
        parsed.add(contentType, json);
        parsed.add(new HttpString("X-Id"), "7");
        String b2 = new String("b=2");
        parsed.add(new HttpString("Set-Cookie"), "a=1");
        parsed.add(new HttpString("Set-Cookie"), b2);

        List<RawHead.Field> fields = RawHead.fields(head, parsed);

        assertThat(fields)
                .containsExactly(
                        new RawHead.Field("Content-Type", List.of("application/json")),
                        new RawHead.Field("x-id", List.of("7")),
                        new RawHead.Field("Set-Cookie", List.of("a=1", "b=2")));
        // Same bytes: the very Strings Undertow holds (no copy per message); different spelling: the head's.
        assertThat(fields.get(0).name()).isSameAs(contentType.toString());
        assertThat(fields.get(0).values().get(0)).isSameAs(json);
        assertThat(fields.get(1).name()).isEqualTo("x-id");
        assertThat(fields.get(2).values().get(1)).isSameAs(b2);
    }

    @Test
    void rawFieldsFoldObsFoldIntoOneSpace() {
        byte[] head = "HTTP/1.1 200 OK\r\nX-Fold: a\r\n   b\r\n\r\n".getBytes(StandardCharsets.ISO_8859_1);
        HeaderMap parsed = new HeaderMap();
        parsed.add(new HttpString("X-Fold"), "a b");

        assertThat(RawHead.fields(head, parsed)).containsExactly(new RawHead.Field("X-Fold", List.of("a b")));
    }

    @Test
    void rawFieldsAreNotUsedWhenUndertowReadTheHeadDifferently() {
        byte[] head = "HTTP/1.1 200 OK\r\nX-A: one\r\n\r\n".getBytes(StandardCharsets.ISO_8859_1);
        HeaderMap parsed = new HeaderMap();
        parsed.add(new HttpString("X-A"), "two");

        assertThat(RawHead.fields(head, parsed)).isNull();
    }

    @Test
    void sameCollapsedIgnoresOnlyWhitespaceRunsAndEnds() {
        assertThat(RawHead.sameCollapsed("a b c", " a  b\t\tc ")).isTrue();
        assertThat(RawHead.sameCollapsed("ab", "a b")).isFalse();
        assertThat(RawHead.sameCollapsed("a", "a b")).isFalse();
        assertThat(RawHead.sameCollapsed("", "   ")).isTrue();
    }

    private static byte[] bytes(String s) {
        return s.getBytes(StandardCharsets.ISO_8859_1);
    }
}
