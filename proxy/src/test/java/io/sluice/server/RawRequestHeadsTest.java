package io.sluice.server;

import static org.assertj.core.api.Assertions.assertThat;

import io.sluice.fetch.Fields;
import io.sluice.fetch.Interim;
import io.sluice.testing.ScriptedSource;
import io.undertow.connector.PooledByteBuffer;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;
import org.xnio.conduits.StreamSourceConduit;

/** What the request head capture keeps, whatever way the bytes are cut into reads; it changes none. */
class RawRequestHeadsTest {
    private static final String FIRST = "GET /a HTTP/1.1\r\nHost: h\r\nX-Sp: a  b\r\n\r\n";
    private static final String SECOND = "POST /b HTTP/1.1\r\nHost: h\r\nContent-Length: 3\r\n\r\n";

    @ParameterizedTest(name = "reads of {0} bytes")
    @ValueSource(ints = {1, 2, 3, 7, 64, 4096})
    void keepsTheFirstHeadAndPassesEveryByteOn(int readSize) throws IOException {
        var capture =
                new RawRequestHeads.Capture(ScriptedSource.inReadsOf(FIRST + SECOND + "abc", readSize), 64 * 1024);

        assertThat(readAll(capture)).isEqualTo(FIRST + SECOND + "abc");
        // Undertow's parser stopped after the first head; the rest is what it holds unread.
        assertThat(text(capture.take(pooled(SECOND + "abc")))).isEqualTo(FIRST);
        assertThat(capture.take(pooled(SECOND + "abc"))).isNull();
    }

    @Test
    void armedAgainStartsWithTheBytesUndertowAlreadyHolds() throws IOException {
        // One read brings the first head and the start of the next; a later read brings the rest.
        var capture = new RawRequestHeads.Capture(
                ScriptedSource.reads(FIRST + SECOND.substring(0, 10), SECOND.substring(10) + "abc"), 64 * 1024);
        ByteBuffer buffer = ByteBuffer.allocate(4096);
        capture.read(buffer);
        assertThat(text(capture.take(pooled(SECOND.substring(0, 10))))).isEqualTo(FIRST);

        // The first exchange is over; Undertow holds the 10 bytes it read past the first head.
        capture.rearm(pooled(SECOND.substring(0, 10)));
        assertThat(capture.take(null)).isNull();
        capture.rearm(pooled(SECOND.substring(0, 10)));
        buffer.clear();
        capture.read(buffer);

        assertThat(text(capture.take(pooled("abc")))).isEqualTo(SECOND);
    }

    @Test
    void aHeadIsNotPairedWithAParseThatEndedElsewhere() throws IOException {
        var capture = new RawRequestHeads.Capture(ScriptedSource.reads(FIRST + SECOND), 64 * 1024);
        capture.read(ByteBuffer.allocate(4096));

        // Had Undertow parsed up to some other place, the kept head is not that request's.
        assertThat(capture.take(pooled(SECOND.substring(5)))).isNull();
    }

    @Test
    void aHeadPastTheLimitIsNotKept() throws IOException {
        String big = "GET / HTTP/1.1\r\nX-Big: " + "x".repeat(300) + "\r\n\r\n";
        var capture = new RawRequestHeads.Capture(ScriptedSource.inReadsOf(big, 50), 100);

        assertThat(readAll(capture)).isEqualTo(big);
        assertThat(capture.take(null)).isNull();
    }

    @Test
    void encodesInterimResponsesAsHttp11HeadsWithVia() {
        Fields link = Fields.of(Map.of("Link", List.of("</a>;  rel=preload", "</b>")));
        byte[] bytes = InterimResponses.encode(List.of(new Interim(103, link), new Interim(102, Fields.EMPTY)));

        assertThat(text(bytes))
                .isEqualTo("HTTP/1.1 103 Early Hints\r\nLink: </a>;  rel=preload\r\nLink: </b>\r\n"
                        + "Via: 1.1 sluice\r\n\r\nHTTP/1.1 102 Processing\r\nVia: 1.1 sluice\r\n\r\n");
    }

    private static String text(byte[] b) {
        return b == null ? null : new String(b, StandardCharsets.ISO_8859_1);
    }

    private static PooledByteBuffer pooled(String s) {
        ByteBuffer b = ByteBuffer.allocate(64);
        b.put(new byte[5]).put(s.getBytes(StandardCharsets.ISO_8859_1)).flip();
        b.position(5);
        return new PooledByteBuffer() {
            @Override
            public ByteBuffer getBuffer() {
                return b;
            }

            @Override
            public void close() {}

            @Override
            public boolean isOpen() {
                return true;
            }
        };
    }

    private static String readAll(StreamSourceConduit capture) throws IOException {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        ByteBuffer buffer = ByteBuffer.allocate(10);
        int n;
        while ((n = capture.read(buffer)) >= 0) {
            if (n == 0) continue;
            buffer.flip();
            while (buffer.hasRemaining()) out.write(buffer.get());
            buffer.clear();
        }
        return out.toString(StandardCharsets.ISO_8859_1);
    }
}
