package io.sluice.send;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.sluice.testing.ScriptedSource;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/** What Undertow's parser is given, and what is kept, whatever way the bytes are cut into reads. */
class HeadCaptureTest {

    private static final String INTERIM =
            "HTTP/1.1 102 Processing\r\n\r\nHTTP/1.1 103 Early Hints\r\nLink: </a>\r\n\r\n";
    private static final String FINAL = "HTTP/1.1 200 OK\r\nX-Sp: a  b   c\r\nContent-Length: 5\r\n\r\n";

    @ParameterizedTest(name = "reads of {0} bytes")
    @ValueSource(ints = {1, 2, 3, 7, 64, 4096})
    void takesOutInterimsAndKeepsTheFinalHeadWhateverTheReadSizes(int readSize) throws IOException {
        HeadCapture capture = new HeadCapture(ScriptedSource.inReadsOf(INTERIM + FINAL + "hello", readSize));
        capture.expectResponse(64 * 1024, false);

        String seen = readAll(capture);

        assertThat(seen).isEqualTo(FINAL + "hello");
        assertThat(capture.interims()).containsExactly(102, 103);
        assertThat(new String(capture.finalHead(), StandardCharsets.ISO_8859_1)).isEqualTo(FINAL);
    }

    @ParameterizedTest(name = "reads of {0} bytes")
    @ValueSource(ints = {1, 5, 4096})
    void keepsTheInterimHeadsToForwardButNotAHundredContinue(int readSize) throws IOException {
        String interims = "HTTP/1.1 100 Continue\r\n\r\n" + INTERIM;
        HeadCapture capture = new HeadCapture(ScriptedSource.inReadsOf(interims + FINAL + "hello", readSize));
        capture.expectResponse(64 * 1024, false);

        readAll(capture);

        assertThat(capture.interims()).containsExactly(100, 102, 103);
        assertThat(capture.interimHeads())
                .extracting(h -> new String(h, StandardCharsets.ISO_8859_1))
                .containsExactly("HTTP/1.1 102 Processing\r\n\r\n", "HTTP/1.1 103 Early Hints\r\nLink: </a>\r\n\r\n");
    }

    @Test
    void keepsABoundedNumberOfInterimHeads() throws IOException {
        String many = "HTTP/1.1 103 Early Hints\r\nLink: </a>\r\n\r\n".repeat(HeadCapture.MAX_INTERIM_HEADS + 5);
        String big = "HTTP/1.1 103 Early Hints\r\nLink: " + "x".repeat(HeadCapture.MAX_INTERIM_BYTES) + "\r\n\r\n";
        HeadCapture capture = new HeadCapture(ScriptedSource.inReadsOf(big + many + FINAL, 4096));
        capture.expectResponse(1024 * 1024, false);

        readAll(capture);

        assertThat(capture.interims()).hasSize(HeadCapture.MAX_INTERIM_HEADS + 6);
        assertThat(capture.interimHeads()).hasSize(HeadCapture.MAX_INTERIM_HEADS);
        assertThat(capture.interimHeads().get(0).length).isLessThan(100);
    }

    @Test
    void aHeadWithABareLineEndIsLeftToUndertowAndNotKept() throws IOException {
        String bare = "HTTP/1.1 102 Processing\n\r\nHTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n";
        HeadCapture capture = new HeadCapture(ScriptedSource.inReadsOf(bare, 5));
        capture.expectResponse(64 * 1024, false);

        assertThat(readAll(capture)).isEqualTo(bare);
        assertThat(capture.interims()).isEmpty();
        assertThat(capture.finalHead()).isNull();
    }

    @Test
    void aHeadPastTheLimitIsPassedOnUnkept() throws IOException {
        String big = "HTTP/1.1 200 OK\r\nX-Big: " + "x".repeat(300) + "\r\n\r\nbody";
        HeadCapture capture = new HeadCapture(ScriptedSource.inReadsOf(big, 50));
        capture.expectResponse(100, false);

        assertThat(readAll(capture)).isEqualTo(big);
        assertThat(capture.finalHead()).isNull();
    }

    @ParameterizedTest(name = "reads of {0} bytes")
    @ValueSource(ints = {1, 3, 64, 4096})
    void passesAValidChunkedBodyAndStopsAtTheFirstBadByteOfAnother(int readSize) throws IOException {
        String head = "HTTP/1.1 200 OK\r\nTransfer-Encoding:  Chunked \r\n\r\n";
        HeadCapture good = new HeadCapture(ScriptedSource.inReadsOf(head + "3\r\nabc\r\n0\r\n\r\n", readSize));
        good.expectResponse(64 * 1024, false);
        assertThat(readAll(good)).isEqualTo(head + "3\r\nabc\r\n0\r\n\r\n");

        HeadCapture bad = new HeadCapture(ScriptedSource.inReadsOf(head + "3\r\nbogus\r\n0\r\n\r\n", readSize));
        bad.expectResponse(64 * 1024, false);
        ByteArrayOutputStream seen = new ByteArrayOutputStream();
        assertThatThrownBy(() -> readInto(bad, seen))
                .isInstanceOf(IOException.class)
                .hasMessageContaining("malformed chunked body");
        assertThat(seen.toString(StandardCharsets.ISO_8859_1)).isEqualTo(head + "3\r\nbog");
    }

    @Test
    void aChunkedBodyIsOnlyLookedForWhereOneCanBe() {
        assertThat(HeadCapture.chunkedBody(bytes("HTTP/1.1 200 OK\r\ntransfer-encoding: chunked\r\n\r\n")))
                .isTrue();
        assertThat(HeadCapture.chunkedBody(bytes("HTTP/1.1 200 OK\r\nTransfer-Encoding: gzip\r\n\r\n")))
                .isFalse();
        assertThat(HeadCapture.chunkedBody(bytes("HTTP/1.1 200 OK\r\nX-Transfer-Encoding: chunked\r\n\r\n")))
                .isFalse();
        assertThat(HeadCapture.chunkedBody(bytes("HTTP/1.1 304 Not Modified\r\nTransfer-Encoding: chunked\r\n\r\n")))
                .isFalse();
    }

    private static byte[] bytes(String s) {
        return s.getBytes(StandardCharsets.ISO_8859_1);
    }

    private static String readAll(HeadCapture capture) throws IOException {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        readInto(capture, out);
        return out.toString(StandardCharsets.ISO_8859_1);
    }

    private static void readInto(HeadCapture capture, ByteArrayOutputStream out) throws IOException {
        ByteBuffer buffer = ByteBuffer.allocate(10);
        int n;
        while ((n = capture.read(buffer)) >= 0) {
            if (n == 0) continue;
            buffer.flip();
            while (buffer.hasRemaining()) out.write(buffer.get());
            buffer.clear();
        }
    }
}
