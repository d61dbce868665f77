package io.sluice.send;

import static io.sluice.send.FrameOrigin.ACK;
import static io.sluice.send.FrameOrigin.GOAWAY;
import static io.sluice.send.FrameOrigin.HEADERS;
import static io.sluice.send.FrameOrigin.PING;
import static io.sluice.send.FrameOrigin.RST_STREAM;
import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import io.sluice.testing.SluiceServerExtension;
import io.sluice.testing.TlsOrigin;
import io.sluice.time.FakeTimeSource;
import java.io.IOException;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.stream.Collectors;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.api.io.TempDir;

/**
 * A request whose body waits for flow-control window (RFC 9113 §6.9.1). Undertow's HTTP/2 client would
 * hold the request's HEADERS back with its first body bytes while the connection's window is used up,
 * and every stream opened after it (to keep stream ids in order, §5.1.1): such a stream is idle to the
 * origin, and a {@code RST_STREAM} on an idle stream is a connection error (§5.1, §6.4), which would take
 * every other stream on the connection with it. Sluice sends the HEADERS ahead of the body instead.
 */
class Http2UnsentStreamTest {
    /** Request body bytes Sluice may send on a connection before the origin grants more (RFC 9113 §6.9.2). */
    private static final int WINDOW = 65_535;

    @RegisterExtension
    final SluiceServerExtension sluice = new SluiceServerExtension();

    @TempDir
    Path dir;

    private final TlsOrigin tls = new TlsOrigin();
    private final FakeTimeSource time = new FakeTimeSource();

    private FrameOrigin origin;

    @AfterEach
    void stop() throws IOException {
        time.advance(Duration.ofMinutes(5)); // whatever is still in flight times out
        if (origin != null) origin.close();
    }

    @Test
    void aRequestWaitingForWindowHasItsHeadersSentAndIsResetAtItsTimeoutWhileOthersGoOn() throws Exception {
        origin = new FrameOrigin(tls, strictOrigin(false));
        var running = start();
        var posts = useTheWindowUpThenPostAgain(running);
        // A GET (no body) on the same connection meanwhile: it is not held behind the POST waiting for window.
        JsonNode get = origin.getThrough(running);
        assertThat(get.path("body").asText()).as(get.toString()).isEqualTo("after");

        time.advance(Duration.ofSeconds(31)); // timeouts.response: 30 s
        for (var post : posts) {
            JsonNode timedOut = post.get(10, TimeUnit.SECONDS);
            assertThat(timedOut.at("/error/type").asText())
                    .as(timedOut.toString())
                    .isEqualTo("timeout");
        }

        await(() -> resetStreams().containsAll(Set.of(3, 5)));
        // Both POSTs' HEADERS reached the origin before anything else of theirs, so their resets are of open
        // streams; the origin saw no reset of a stream it never saw opened (it would have gone away).
        assertThat(origin.requests).extracting(FrameOrigin.Request::stream).contains(3, 5, 7);
        assertThat(origin.received)
                .as("frames: %s", origin.received)
                .noneMatch(frame -> frame.type() == GOAWAY)
                .noneMatch(
                        frame -> frame.type() == RST_STREAM && !openedStreams().contains(frame.stream()));
        assertThat(origin.receivedOn(0, 5).get(0).type()).isEqualTo(HEADERS);
        assertThat(origin.getThrough(running).path("body").asText()).isEqualTo("after");
    }

    /**
     * Undertow keeps a body frame that waits for window queued when its stream is reset, and sends it once
     * window comes. The origin reads it as a frame on a stream it knows is closed: a stream error
     * (RFC 9113 §5.1, "closed"), which costs no other stream. This pins what the origin then sees.
     */
    @Test
    void windowGrantedAfterTheResetsLeavesTheConnectionServing() throws Exception {
        origin = new FrameOrigin(tls, strictOrigin(true));
        var running = start();
        var posts = useTheWindowUpThenPostAgain(running);

        time.advance(Duration.ofSeconds(31));
        for (var post : posts) post.get(10, TimeUnit.SECONDS);
        // The origin grants window with a PING once it has read both resets; Sluice answers the PING after
        // it has read the window (frames are read in order), so what the window let go is in by then.
        await(() -> origin.received.stream().anyMatch(f -> f.type() == PING && (f.flags() & ACK) != 0));

        assertThat(origin.received)
                .as("frames: %s", origin.received)
                .noneMatch(frame -> frame.type() == GOAWAY)
                .noneMatch(
                        frame -> frame.type() == RST_STREAM && !openedStreams().contains(frame.stream()));
        // Seen: the second POST's last body frame (DATA with END_STREAM) after its reset; not its request again.
        assertThat(origin.receivedOn(0, 5))
                .filteredOn(frame -> frame.type() == HEADERS)
                .hasSize(1);
        JsonNode after = origin.getThrough(running);
        assertThat(after.path("body").asText()).as(after.toString()).isEqualTo("after");
        assertThat(origin.requests).allMatch(request -> request.connection() == 0);
    }

    /**
     * Stream 1, a GET, is answered (so the origin's SETTINGS are in and the connection carries more than
     * one stream); stream 3, a POST of twice the window, uses the connection's window up; stream 5, a
     * second POST, then has no window for its body. Neither is answered: their results, pending.
     */
    private java.util.List<CompletableFuture<JsonNode>> useTheWindowUpThenPostAgain(
            SluiceServerExtension.Running running) {
        assertThat(origin.getThrough(running).path("body").asText()).isEqualTo("after");
        var first = CompletableFuture.supplyAsync(() -> origin.postThrough(running, "a".repeat(2 * WINDOW)));
        await(() -> origin.body(0, 3).length == WINDOW);
        var second = CompletableFuture.supplyAsync(() -> origin.postThrough(running, "waits"));
        await(() -> openedStreams().contains(5));
        return java.util.List.of(first, second);
    }

    private Set<Integer> openedStreams() {
        return origin.requests.stream().map(FrameOrigin.Request::stream).collect(Collectors.toSet());
    }

    private Set<Integer> resetStreams() {
        return origin.received.stream()
                .filter(frame -> frame.type() == RST_STREAM)
                .map(FrameOrigin.Frame::stream)
                .collect(Collectors.toSet());
    }

    /**
     * Never grants a connection window (but once, if asked, after both POSTs are reset); answers every GET
     * at its HEADERS; and,
     * as RFC 9113 §5.1 has it, treats a frame other than HEADERS or PRIORITY on a stream it never saw
     * opened as a connection error: GOAWAY with {@code PROTOCOL_ERROR}, then the close.
     */
    private FrameOrigin.Script strictOrigin(boolean grantAfterTheResets) {
        return (frame, conversation) -> {
            if (grantAfterTheResets
                    && frame.type() == RST_STREAM
                    && resetStreams().containsAll(Set.of(3, 5))) {
                conversation.send(FrameOrigin.windowUpdate(0, 4 * WINDOW), FrameOrigin.ping());
                return;
            }
            boolean opened = origin.requests.stream()
                    .anyMatch(r -> r.connection() == frame.connection() && r.stream() == frame.stream());
            if (frame.stream() != 0 && !opened) {
                int lastStream = origin.requests.stream()
                        .mapToInt(FrameOrigin.Request::stream)
                        .max()
                        .orElse(0);
                conversation.sendAndClose(FrameOrigin.goAway(lastStream, 0x1));
            } else if (frame.type() == HEADERS && "GET".equals(method(frame))) {
                conversation.send(FrameOrigin.answer(frame.stream(), "after"));
            }
        };
    }

    private String method(FrameOrigin.Frame frame) {
        return origin.requests.stream()
                .filter(r -> r.connection() == frame.connection() && r.stream() == frame.stream())
                .map(FrameOrigin.Request::method)
                .findFirst()
                .orElse(null);
    }

    private static void await(java.util.concurrent.Callable<Boolean> condition) {
        org.awaitility.Awaitility.await().atMost(10, TimeUnit.SECONDS).until(condition);
    }

    private SluiceServerExtension.Running start() throws IOException {
        return sluice.start(origin.sluiceConfig(dir), java.util.Map.of(), time);
    }
}
