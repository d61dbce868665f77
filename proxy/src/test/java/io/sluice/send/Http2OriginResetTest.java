package io.sluice.send;

import static io.sluice.send.FrameOrigin.DATA;
import static io.sluice.send.FrameOrigin.HEADERS;
import static io.sluice.send.FrameOrigin.NO_ERROR;
import static io.sluice.send.FrameOrigin.RST_STREAM;
import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import io.sluice.testing.SluiceServerExtension;
import io.sluice.testing.TestHttp;
import io.sluice.testing.TlsOrigin;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.api.io.TempDir;

/**
 * An origin that answers a POST before it has read the request body, then resets the stream with
 * {@code NO_ERROR}, as nginx does (RFC 9113 §8.1: it asks the client to stop sending the body, and the
 * client "MUST NOT discard responses as a result"). The request body is four times the stream's
 * flow-control window (65,535 bytes), and the origin answers once that window is used up, with the
 * answer and the reset in one write: three quarters of the body are never sent.
 */
class Http2OriginResetTest {
    /** Request body bytes Sluice may send before the origin grants more (RFC 9113 §6.9.2). */
    private static final int WINDOW = 65_535;

    private static final String BODY = "a".repeat(4 * WINDOW);

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
    void aResponseCompleteBeforeTheRequestBodyWasReadIsDeliveredWholeThoughTheOriginThenResetsTheStream()
            throws Exception {
        String answer = "answered before the body was read ".repeat(1_000); // 34,000 bytes: three DATA frames
        origin = new FrameOrigin(tls, answerAtTheWindowThenReset(answer));
        var running = start();

        JsonNode response = origin.postThrough(running, BODY);

        assertThat(response.path("status").asInt()).as(response.toString()).isEqualTo(200);
        assertThat(response.path("body").asText()).isEqualTo(answer);
        assertThat(origin.body(0, 1)).hasSize(WINDOW);
    }

    @Test
    void aStreamTheOriginResetIsNotResetBack() throws Exception {
        origin = new FrameOrigin(tls, answerAtTheWindowThenReset("answered"));
        var running = start();

        JsonNode response = origin.postThrough(running, BODY);
        // A second request on the connection: once it is answered, whatever Sluice sent on the first
        // stream before it has been read by the origin.
        JsonNode after = origin.getThrough(running);

        assertThat(response.path("body").asText()).as(response.toString()).isEqualTo("answered");
        assertThat(after.path("body").asText()).as(after.toString()).isEqualTo("after");
        assertThat(origin.requests).extracting(FrameOrigin.Request::connection).containsOnly(0);
        // The body was not written whole, which is what made Sluice reset the stream (CANCEL) as it let go
        // of it, the origin's reset in hand: "an endpoint MUST NOT send a RST_STREAM in response to a
        // RST_STREAM frame" (RFC 9113 §5.4.2).
        assertThat(origin.body(0, 1)).hasSize(WINDOW);
        assertThat(origin.receivedOn(0, 1)).noneMatch(frame -> frame.type() == RST_STREAM);
    }

    /**
     * An origin that answers every POST at its HEADERS and resets the stream with {@code NO_ERROR}, as
     * nginx does when it answers without reading the body (a {@code return}, a 401, a 413): legitimate
     * resets, one per request. Undertow's HTTP/2 channel counts the resets it receives (and sends) against
     * its rapid-reset guard (200 in 30 s by default), a defence for a server facing clients; on Sluice's
     * client side it went away from the origin ({@code GOAWAY ENHANCE_YOUR_CALM}) mid-load, failing every
     * request in flight on the connection with a 502.
     */
    @Test
    void manyStreamsTheOriginAnswersAndResetsDoNotMakeSluiceGoAway() throws Exception {
        origin = new FrameOrigin(tls, answerEachStreamAtItsHeadersThenReset());
        var running = start();
        int posts = 300;
        String requests = java.util.stream.IntStream.range(0, posts)
                .mapToObj(i -> "{\"method\": \"POST\", \"url\": \"https://localhost:%d/p\", \"body\": \"%s\"}"
                        .formatted(origin.port(), "b".repeat(100)))
                .collect(java.util.stream.Collectors.joining(",", "{\"requests\": [", "]}"));

        JsonNode responses = TestHttp.batch(running.data("/v1/batch"), requests).get("responses");

        assertThat(responses).hasSize(posts);
        assertThat(responses)
                .as("%s", responses)
                .allSatisfy(r -> assertThat(r.path("body").asText()).isEqualTo("answered"));
        assertThat(origin.received).noneMatch(frame -> frame.type() == FrameOrigin.GOAWAY);
        assertThat(origin.requests).extracting(FrameOrigin.Request::connection).containsOnly(0);
    }

    /**
     * Uploads the origin answers at their HEADERS and resets, granting no flow-control window at all: every
     * body after the first waits whole in Undertow's queue when its stream is let go of, and Undertow keeps
     * such a frame, with its buffer, until the connection closes (found under load: 6,191 buffers, 97
     * MiB, held after 6 s of 256 KiB POSTs to an nginx {@code return 200}). Past {@link
     * Http2Transport#STRANDED_LIMIT} of them the connection is replaced, which frees them.
     */
    @Test
    void uploadsStrandedByTheOriginsResetsGetTheirConnectionReplacedNotHeldForever() throws Exception {
        origin = new FrameOrigin(tls, answerEachStreamAtItsHeadersThenReset());
        var running = start();
        int uploads = Http2Transport.STRANDED_LIMIT + 6;

        for (int i = 0; i < uploads; i++) {
            JsonNode response = origin.postThrough(running, "u".repeat(WINDOW + 4_465));
            assertThat(response.path("body").asText()).as(response.toString()).isEqualTo("answered");
        }

        // Each body is larger than the connection's window: every upload leaves a frame behind, so the first
        // connection carries as many as it may strand, and the rest go on a second one.
        assertThat(origin.requests.stream().filter(r -> r.connection() == 0)).hasSize(Http2Transport.STRANDED_LIMIT);
        assertThat(origin.requests.stream().filter(r -> r.connection() == 1))
                .hasSize(uploads - Http2Transport.STRANDED_LIMIT);
        var held = java.util.regex.Pattern.compile("(?m)^sluice_buffers_in_use (\\S+)$")
                .matcher(TestHttp.get(running.admin("/metrics")).body());
        assertThat(held.find()).isTrue();
        assertThat(Double.parseDouble(held.group(1))).isLessThanOrEqualTo(Http2Transport.STRANDED_LIMIT);
    }

    /** The origin's script: every stream is answered "answered" at its HEADERS and reset with {@code NO_ERROR}. */
    private static FrameOrigin.Script answerEachStreamAtItsHeadersThenReset() {
        return (frame, conversation) -> {
            if (frame.type() == HEADERS) {
                byte[] body = "answered".getBytes(StandardCharsets.UTF_8);
                conversation.send(
                        FrameOrigin.headers200(frame.stream(), body.length, false),
                        FrameOrigin.data(frame.stream(), body),
                        FrameOrigin.rstStream(frame.stream(), NO_ERROR));
            }
        };
    }

    /**
     * The origin's script: stream 1 (the POST) is answered with {@code answer} once a window of its body
     * is in, the reset with {@code NO_ERROR} in the same write (one TLS record when the answer is short);
     * a later stream is answered "after" at its HEADERS.
     */
    private static FrameOrigin.Script answerAtTheWindowThenReset(String answer) {
        return (frame, conversation) -> {
            int read = conversation.body(1).length;
            if (frame.stream() == 1
                    && frame.type() == DATA
                    && read >= WINDOW
                    && read - frame.payload().length < WINDOW) {
                byte[] body = answer.getBytes(StandardCharsets.UTF_8);
                conversation.send(
                        FrameOrigin.headers200(1, body.length, false),
                        FrameOrigin.data(1, body),
                        FrameOrigin.rstStream(1, NO_ERROR));
            } else if (frame.stream() > 1 && frame.type() == HEADERS && frame.endStream()) {
                conversation.send(FrameOrigin.answer(frame.stream(), "after"));
            }
        };
    }

    private SluiceServerExtension.Running start() throws IOException {
        return sluice.start(origin.sluiceConfig(dir));
    }
}
