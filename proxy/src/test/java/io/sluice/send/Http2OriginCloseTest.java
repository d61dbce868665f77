package io.sluice.send;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import io.sluice.testing.SluiceServerExtension;
import io.sluice.testing.TlsOrigin;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.api.io.TempDir;

/**
 * An HTTP/2 origin that answers and closes in one go, as nginx does at {@code keepalive_requests}: its
 * GOAWAY, last answer, TLS {@code close_notify} and TCP close reach Sluice together. Undertow's TLS
 * conduit unwraps the {@code close_notify} while the answer still waits in its HTTP/2 parser's buffer,
 * and over TLS 1.2 the JDK's TLS engine then refuses every write; the first write after that (here the
 * acknowledgement of a PING the origin sent) made Undertow close the connection and fail the stream
 * with a {@code ClosedChannelException}, its answer unparsed, until {@link Http2WriteGuard} dropped
 * such writes instead.
 */
class Http2OriginCloseTest {
    @RegisterExtension
    final SluiceServerExtension sluice = new SluiceServerExtension();

    @TempDir
    Path dir;

    private final TlsOrigin tls = new TlsOrigin();
    private FrameOrigin origin;

    @AfterEach
    void stop() throws IOException {
        if (origin != null) origin.close();
    }

    @Test
    void anAnswerReadWithTheOriginsCloseIsDeliveredThoughAWriteFailsBeforeItIsParsed() throws Exception {
        origin = new FrameOrigin(tls, Http2OriginCloseTest::answerAndClose);
        var running = sluice.start(origin.sluiceConfig(dir));

        JsonNode response = origin.postThrough(running, "x");

        assertThat(response.path("status").asInt()).as(response.toString()).isEqualTo(200);
        assertThat(response.get("body").asText()).isEqualTo("answered");
        // Answered once, on the one connection: the POST was neither lost nor sent again.
        assertThat(origin.requests).extracting(FrameOrigin.Request::stream).containsExactly(1);
    }

    /**
     * The origin's script: it answers the first request's HEADERS before reading its body, in one write of
     * a GOAWAY naming that stream, a PING (which Undertow's client acknowledges at once, as it parses it:
     * the write after the close), the answer, the {@code RST_STREAM NO_ERROR} nginx sends for a body it
     * will not read (RFC 9113 §8.1), and {@code close_notify}; then it closes its side and reads until
     * Sluice closes (so its close is not a TCP reset).
     */
    private static void answerAndClose(FrameOrigin.Frame frame, FrameOrigin.Conversation conversation)
            throws IOException {
        if (frame.type() != FrameOrigin.HEADERS) return;
        int stream = frame.stream();
        conversation.sendAndClose(
                // GOAWAY naming this stream as the last, NO_ERROR: nginx at keepalive_requests.
                FrameOrigin.goAway(stream, FrameOrigin.NO_ERROR),
                // Parsed in the read after the one that took all these frames, which is the read that takes
                // close_notify (Undertow's TLS conduit unwraps one record a read): Undertow's client answers
                // a PING at once, so this is a write after the close, as a new request or a request body
                // still being sent is with nginx.
                FrameOrigin.ping(),
                FrameOrigin.frame(FrameOrigin.HEADERS, FrameOrigin.END_HEADERS, stream, new byte[] {(byte) 0x88}),
                FrameOrigin.frame(
                        FrameOrigin.DATA,
                        FrameOrigin.END_STREAM,
                        stream,
                        "answered".getBytes(StandardCharsets.US_ASCII)),
                FrameOrigin.rstStream(stream, FrameOrigin.NO_ERROR));
    }
}
