package io.sluice.server;

import static org.assertj.core.api.Assertions.assertThat;

import io.sluice.fetch.Fields;
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

        Fields fields = RawHead.fields(head, parsed, name -> true);

        assertThat(spelled(fields)).containsExactly("x-sp=[a  b   c]", "Set-Cookie=[a=1, b=2]");
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

        Fields fields = RawHead.fields(head, parsed, name -> true);

        assertThat(spelled(fields))
                .containsExactly("Content-Type=[application/json]", "x-id=[7]", "Set-Cookie=[a=1, b=2]");
        // Same bytes: the very Strings Undertow holds (no copy per message); different spelling: the head's.
        assertThat(fields.name(0)).isSameAs(contentType.toString());
        assertThat(fields.values(0).get(0)).isSameAs(json);
        assertThat(fields.name(1)).isEqualTo("x-id");
        assertThat(fields.values(2).get(1)).isSameAs(b2);
    }

    /**
     * Line ends are found eight bytes at a time: with the status line padded by 0 to 16 bytes, every CRLF
     * falls at every offset within a word, and one across two; a bare LF inside a line does not end it
     * (Undertow would have refused the head; here the readings then differ and the raw one is not used).
     */
    @Test
    void rawFieldsFindEveryLineEndWhereverItFallsInAWord() {
        for (int pad = 0; pad <= 16; pad++) {
            byte[] head = ("HTTP/1.1 200 " + "O".repeat(pad) + "\r\nA: 1\r\nBb: 22\r\nCcc: 333\r\nDddd: 4444\r\n"
                            + "Eeeee: 55555\r\nF: \r\n\r\n")
                    .getBytes(StandardCharsets.ISO_8859_1);
            HeaderMap parsed = new HeaderMap();
            for (String field : List.of("A=1", "Bb=22", "Ccc=333", "Dddd=4444", "Eeeee=55555", "F=")) {
                String[] nameValue = field.split("=", -1);
                parsed.add(new HttpString(nameValue[0]), nameValue[1]);
            }

            assertThat(spelled(RawHead.fields(head, parsed, name -> true)))
                    .as("status line padded by %d", pad)
                    .containsExactly("A=[1]", "Bb=[22]", "Ccc=[333]", "Dddd=[4444]", "Eeeee=[55555]", "F=[]");
        }
        byte[] bareLf = "HTTP/1.1 200 OK\r\nX-A: one\ntwo\r\n\r\n".getBytes(StandardCharsets.ISO_8859_1);
        HeaderMap parsed = new HeaderMap();
        parsed.add(new HttpString("X-A"), "one");

        assertThat(RawHead.fields(bareLf, parsed, name -> true)).isNull();
    }

    @Test
    void rawFieldsFoldObsFoldIntoOneSpace() {
        byte[] head = "HTTP/1.1 200 OK\r\nX-Fold: a\r\n   b\r\n\r\n".getBytes(StandardCharsets.ISO_8859_1);
        HeaderMap parsed = new HeaderMap();
        parsed.add(new HttpString("X-Fold"), "a b");

        assertThat(spelled(RawHead.fields(head, parsed, name -> true))).containsExactly("X-Fold=[a b]");
    }

    @Test
    void rawFieldsAreNotUsedWhenUndertowReadTheHeadDifferently() {
        byte[] head = "HTTP/1.1 200 OK\r\nX-A: one\r\n\r\n".getBytes(StandardCharsets.ISO_8859_1);
        HeaderMap parsed = new HeaderMap();
        parsed.add(new HttpString("X-A"), "two");

        assertThat(RawHead.fields(head, parsed, name -> true)).isNull();
    }

    @Test
    void rawFieldsAreNotUsedWhenTheHeadHasAFieldUndertowDidNotReadOrOneValueMoreOrLess() {
        byte[] head = "HTTP/1.1 200 OK\r\nX-A: one\r\nX-A: two\r\n\r\n".getBytes(StandardCharsets.ISO_8859_1);
        HeaderMap oneValue = new HeaderMap();
        oneValue.add(new HttpString("X-A"), "one");
        HeaderMap threeValues = new HeaderMap();
        threeValues.addAll(new HttpString("X-A"), List.of("one", "two", "three"));
        HeaderMap otherName = new HeaderMap();
        otherName.addAll(new HttpString("X-B"), List.of("one", "two"));
        HeaderMap oneMoreField = new HeaderMap();
        oneMoreField.addAll(new HttpString("X-A"), List.of("one", "two"));
        oneMoreField.add(new HttpString("X-B"), "three");

        assertThat(RawHead.fields(head, oneValue, name -> true)).isNull();
        assertThat(RawHead.fields(head, threeValues, name -> true)).isNull();
        assertThat(RawHead.fields(head, otherName, name -> true)).isNull();
        assertThat(RawHead.fields(head, oneMoreField, name -> true)).isNull();
    }

    @Test
    void rawFieldsLeaveOutWhatTheCallerDropsAndGroupNamesWhateverTheirCase() {
        byte[] head = "HTTP/1.1 200 OK\r\nconnection: close\r\nX-A: 1\r\nVary: a\r\nx-a: 2\r\n\r\n"
                .getBytes(StandardCharsets.ISO_8859_1);
        HeaderMap parsed = new HeaderMap();
        parsed.add(new HttpString("Connection"), "close");
        parsed.addAll(new HttpString("X-A"), List.of("1", "2"));
        parsed.add(new HttpString("Vary"), "a");

        Fields kept = RawHead.fields(head, parsed, name -> !name.equalsIgnoreCase("connection"));

        assertThat(spelled(kept)).containsExactly("X-A=[1, 2]", "Vary=[a]");
    }

    @Test
    void sameCollapsedIgnoresOnlyWhitespaceRunsAndEnds() {
        assertThat(RawHead.sameCollapsed("a b c", " a  b\t\tc ")).isTrue();
        assertThat(RawHead.sameCollapsed("ab", "a b")).isFalse();
        assertThat(RawHead.sameCollapsed("a", "a b")).isFalse();
        assertThat(RawHead.sameCollapsed("", "   ")).isTrue();
    }

    /** Each field as {@code name=[values]}, in order, names as spelled. */
    private static List<String> spelled(Fields fields) {
        List<String> out = new java.util.ArrayList<>();
        fields.forEach((name, values) -> out.add(name + "=" + values));
        return out;
    }

    private static byte[] bytes(String s) {
        return s.getBytes(StandardCharsets.ISO_8859_1);
    }
}
