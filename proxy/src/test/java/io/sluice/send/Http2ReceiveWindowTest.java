package io.sluice.send;

import static io.sluice.send.FrameOrigin.DATA;
import static io.sluice.send.FrameOrigin.END_STREAM;
import static io.sluice.send.FrameOrigin.HEADERS;
import static io.sluice.send.FrameOrigin.RST_STREAM;
import static io.sluice.send.FrameOrigin.WINDOW_UPDATE;
import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import com.fasterxml.jackson.databind.JsonNode;
import io.sluice.testing.SluiceServerExtension;
import io.sluice.testing.TestHttp;
import io.sluice.testing.TlsOrigin;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.net.InetAddress;
import java.net.Socket;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.stream.Collectors;
import java.util.stream.IntStream;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.api.io.TempDir;

/**
 * The connection's receive window with an origin that keeps HTTP/2 flow control (RFC 9113 §6.9): it
 * sends DATA only as far as the connection's and the stream's windows allow, and more only when Sluice
 * grants it. Undertow credits the connection's window only for bytes a reader takes out of a stream, so
 * downloads given up mid-body (by Sluice, or reset by the origin) shrank it for good, and a single client
 * that stopped reading held all of it: found under load against nginx, where a connection stopped
 * carrying anything once 8 of 16 clients closed mid-download.
 */
class Http2ReceiveWindowTest {
    /** What a connection may be sent before any WINDOW_UPDATE (RFC 9113 §6.9.2). */
    private static final int CONNECTION_START = 65_535;

    /** What a response the origin does not finish announces. */
    private static final int ANNOUNCED = 1 << 24;

    @RegisterExtension
    final SluiceServerExtension sluice = new SluiceServerExtension();

    @TempDir
    Path dir;

    private final TlsOrigin tls = new TlsOrigin();
    private final Downloads script = new Downloads();
    private FrameOrigin origin;

    /** What is logged at ERROR while a test runs (a task failing on an IO thread is logged so by XNIO). */
    private final List<java.util.logging.LogRecord> errors = new java.util.concurrent.CopyOnWriteArrayList<>();

    private final java.util.logging.Handler errorCapture = new java.util.logging.Handler() {
        @Override
        public void publish(java.util.logging.LogRecord record) {
            if (record.getLevel().intValue() >= java.util.logging.Level.SEVERE.intValue()) errors.add(record);
        }

        @Override
        public void flush() {}

        @Override
        public void close() {}
    };

    @org.junit.jupiter.api.BeforeEach
    void captureErrors() {
        java.util.logging.Logger.getLogger("").addHandler(errorCapture);
    }

    @AfterEach
    void stop() throws IOException {
        java.util.logging.Logger.getLogger("").removeHandler(errorCapture);
        if (origin != null) origin.close();
    }

    /**
     * Each response is over Sluice's bound for a batch item, so Sluice gives it up after reading some and
     * resets the stream; the origin, as one whose DATA crossed the reset, sends the rest of the stream's
     * window after it. Together they are more than the connection's window: none of it is read by anyone.
     */
    @Test
    void dataForStreamsSluiceGaveUpIsCreditedSoTheConnectionGoesOnCarryingDownloads() throws Exception {
        var running = start("max_item_response_bytes: 1KB");
        int items = Http2Transport.WINDOWS_PER_CONNECTION + 6;

        JsonNode responses = batchOf(running, items, "/cross/8192");

        assertThat(responses).hasSize(items);
        assertThat(responses)
                .as("%s", responses)
                .allSatisfy(
                        r -> assertThat(r.path("error").path("type").asText()).isEqualTo("too_large"));
        // Each reset is read by the origin after the result it ended is in.
        await().atMost(Duration.ofSeconds(10))
                .untilAsserted(() -> assertThat(script.crossedResets()).isEqualTo(items));
        assertWholeWindowAfterADownload(running);
    }

    /**
     * A client stops reading its download, so Sluice stops reading the stream, which holds what it was sent
     * up to its window; then the origin resets the stream, and Undertow drops what it held. Sluice acts on
     * the reset as it is read, though the body is not being read: the window is credited, and the client's
     * response ends there.
     */
    @Test
    void dataAStreamHeldUnreadWhenTheOriginResetItIsCredited() throws Exception {
        var running = start("");
        try (Socket stalled = stalledDownload(running)) {
            // Held (stream 1, the connection's first): its window stays used up, where a stream still read
            // gets a WINDOW_UPDATE each time half its window is read.
            await().during(Duration.ofMillis(500))
                    .atMost(Duration.ofSeconds(20))
                    .until(() -> script.window(1) == 0);

            script.reset(1);

            assertWholeWindowAfterADownload(running);
            // And its client is let go of at once, not when timeouts.total (60 s) would end the call.
            assertThat(readUntilClosed(stalled)).isLessThan(1L << 30);
        }
        // Acting on the reset took the exchange out of the list being walked: once an XNIO task failure.
        assertThat(errors).extracting(r -> r.getMessage() + " " + r.getThrown()).isEmpty();
    }

    /**
     * Reads {@code socket} until Sluice closes it (the end of the stream, or a reset if Sluice closed with
     * bytes unsent), each read bounded: the bytes read.
     */
    private static long readUntilClosed(Socket socket) throws IOException {
        socket.setSoTimeout(10_000);
        InputStream in = socket.getInputStream();
        byte[] buffer = new byte[64 * 1024];
        long read = 0;
        try {
            for (int n; (n = in.read(buffer)) >= 0; ) read += n;
        } catch (java.net.SocketException reset) {
            // Closed with bytes still unsent: closed all the same.
        }
        return read;
    }

    /**
     * Clients that stop reading their downloads: Sluice stops reading their streams, each of which keeps
     * what it was sent, up to the stream's window, in Undertow's read buffers. The connection's window is
     * many streams' windows, and Undertow reads on while that many buffers are held (it stopped reading the
     * whole connection at 16 by default), so another download on the same connection is carried to its end
     * meanwhile.
     */
    @Test
    void clientsThatStopReadingDoNotHoldUpAnotherDownloadOnTheSameConnection() throws Exception {
        var running = start("");
        int stalls = 20;
        List<Socket> stalled = new ArrayList<>();
        try {
            for (int i = 0; i < stalls; i++) stalled.add(stalledDownload(running));
            // Held: each stream's window stays used up (a stream still read gets a WINDOW_UPDATE each time half
            // its window is read).
            await().during(Duration.ofMillis(500))
                    .atMost(Duration.ofSeconds(30))
                    .until(() -> script.held() == stalls);

            long length = 32L << 20;
            assertThat(download(running, length)).isEqualTo(length);
        } finally {
            for (Socket socket : stalled) socket.close();
        }
        assertThat(origin.requests).extracting(FrameOrigin.Request::connection).containsOnly(0);
    }

    /**
     * Sluice lets each stream be sent a mebibyte before it reads any (its SETTINGS), and the connection
     * 32 streams' worth (a WINDOW_UPDATE on stream 0 before its first request): a stream is sent at most a
     * window per round trip, and RFC 9113's 65,535 bytes made an HTTP/2 download through 20 ms of round
     * trip 50 times slower than over HTTP/1.1.
     */
    @Test
    void announcesAMebibyteForEachStreamAndThirtyTwoForTheConnectionBeforeTheFirstRequest() throws Exception {
        var running = start("");

        assertThat(download(running, 1_000)).isEqualTo(1_000);

        List<FrameOrigin.Frame> frames = origin.received;
        FrameOrigin.Frame settings = frames.stream()
                .filter(f -> f.type() == FrameOrigin.SETTINGS && f.flags() == 0)
                .findFirst()
                .orElseThrow();
        assertThat(setting(settings, 0x4)).isEqualTo(1 << 20);
        int firstRequest = frames.indexOf(
                frames.stream().filter(f -> f.type() == HEADERS).findFirst().orElseThrow());
        assertThat(frames.subList(0, firstRequest))
                .filteredOn(f -> f.type() == WINDOW_UPDATE && f.stream() == 0)
                .extracting(f -> ByteBuffer.wrap(f.payload()).getInt())
                .containsExactly((32 << 20) - CONNECTION_START);
    }

    /**
     * {@code tls.http2_window} sets what each stream is sent before it reads (and its connection 32 times
     * that), for a distant origin's big downloads. Upstreams that differ in it do not share a connection,
     * each announcing its own.
     */
    @Test
    void aPolicysHttp2WindowIsWhatItsConnectionAnnouncesAndDownloadsAreCarriedWhole() throws Exception {
        origin = new FrameOrigin(tls, script);
        script.origin = origin;
        String config = origin.sluiceConfig(dir);
        String wide = config.substring(config.indexOf("  origin:"))
                .replace("  origin:", "  wide:")
                .replace("http2: true}", "http2: true, http2_window: 4MB}");
        var running = sluice.start(config + wide);

        long length = 3L * (4 << 20) + 12_345;
        assertThat(download(running, "wide", length)).isEqualTo(length);
        assertThat(download(running, "origin", 1_000)).isEqualTo(1_000);

        assertThat(origin.requests).extracting(FrameOrigin.Request::connection).containsExactly(0, 1);
        assertThat(setting(firstSettings(0), 0x4)).isEqualTo(4 << 20);
        assertThat(setting(firstSettings(1), 0x4)).isEqualTo(1 << 20);
        assertThat(origin.received)
                .filteredOn(f -> f.type() == WINDOW_UPDATE && f.stream() == 0 && f.connection() == 0)
                .extracting(f -> ByteBuffer.wrap(f.payload()).getInt())
                .first()
                .isEqualTo((128 << 20) - CONNECTION_START);
    }

    /**
     * Clients that stop reading and then go away: each of their streams held a whole window unread in
     * Undertow's read buffers, and letting go of the stream frees them (with 8 MB windows, ~7 MB a
     * stream; so 4 stalled downloads held 28 MB until then).
     */
    @Test
    void buffersAStreamHeldUnreadAreFreedWhenItsClientGoesAway() throws Exception {
        origin = new FrameOrigin(tls, script);
        script.origin = origin;
        var running = sluice.start(origin.sluiceConfig(dir).replace("http2: true}", "http2: true, http2_window: 8MB}"));
        int stalls = 4;
        List<Socket> stalled = new ArrayList<>();
        for (int i = 0; i < stalls; i++) stalled.add(stalledDownload(running));
        await().atMost(Duration.ofSeconds(30)).until(() -> script.held() == stalls);
        assertThat(buffersInUse(running)).isGreaterThan(stalls * (4 << 20) / 16_384);

        for (Socket socket : stalled) socket.close();
        await().atMost(Duration.ofSeconds(10))
                .untilAsserted(() -> assertThat(buffersInUse(running)).isLessThan(64));

        // Clients that read part of their download, then go away while it flows.
        List<Thread> readers = new ArrayList<>();
        for (int i = 0; i < stalls; i++) {
            Thread reader = new Thread(() -> {
                try (Socket client = stalledDownload(running)) {
                    client.setSoTimeout(10_000);
                    InputStream in = client.getInputStream();
                    byte[] buffer = new byte[16_384];
                    long read = 0;
                    while (read < (1 << 20)) {
                        int n = in.read(buffer);
                        if (n < 0) break;
                        read += n;
                    }
                } catch (IOException e) {
                    throw new java.io.UncheckedIOException(e);
                }
            });
            reader.start();
            readers.add(reader);
        }
        for (Thread reader : readers) reader.join(30_000);
        await().atMost(Duration.ofSeconds(10))
                .untilAsserted(() -> assertThat(buffersInUse(running)).isLessThan(64));
        assertThat(download(running, 1_000)).isEqualTo(1_000);
    }

    /**
     * A download whose end has arrived while its client had not read it all: Undertow keeps the frames to
     * be read (it frees a stream's frames at a reset only before the end), and once the client goes away
     * they are freed, not left in read buffers for as long as the connection lives.
     */
    @Test
    void aBodyWhoseEndArrivedUnreadIsFreedWhenItsClientGoesAway() throws Exception {
        origin = new FrameOrigin(tls, script);
        script.origin = origin;
        var running = sluice.start(origin.sluiceConfig(dir).replace("http2: true}", "http2: true, http2_window: 8MB}"));
        long length = 6L << 20;

        try (Socket client = new Socket()) {
            client.setReceiveBufferSize(4_096);
            client.connect(new java.net.InetSocketAddress(InetAddress.getLoopbackAddress(), running.dataPort()));
            client.getOutputStream()
                    .write("GET /origin/bytes/%d HTTP/1.1\r\nHost: sluice\r\n\r\n"
                            .formatted(length)
                            .getBytes(StandardCharsets.US_ASCII));
            // All of it sent, END_STREAM with it (the window takes it whole); what the sockets do not take
            // stays in Undertow's buffers.
            await().atMost(Duration.ofSeconds(10)).until(() -> script.sentInAll() == length);
            await().atMost(Duration.ofSeconds(10)).until(() -> buffersInUse(running) > 64);
        }

        await().atMost(Duration.ofSeconds(10))
                .untilAsserted(() -> assertThat(buffersInUse(running)).isLessThan(64));
        assertThat(download(running, 1_000)).isEqualTo(1_000);
    }

    private static double buffersInUse(SluiceServerExtension.Running running) {
        var held = java.util.regex.Pattern.compile("(?m)^sluice_buffers_in_use (\\S+)$")
                .matcher(TestHttp.get(running.admin("/metrics")).body());
        assertThat(held.find()).isTrue();
        return Double.parseDouble(held.group(1));
    }

    /** The SETTINGS frame Sluice opened connection {@code connection} with. */
    private FrameOrigin.Frame firstSettings(int connection) {
        return origin.received.stream()
                .filter(f -> f.connection() == connection && f.type() == FrameOrigin.SETTINGS && f.flags() == 0)
                .findFirst()
                .orElseThrow();
    }

    /** The value of setting {@code id} in a SETTINGS frame, or -1 (RFC 9113 §6.5.1: 16-bit id, 32-bit value). */
    private static long setting(FrameOrigin.Frame settings, int id) {
        ByteBuffer payload = ByteBuffer.wrap(settings.payload());
        while (payload.remaining() >= 6) {
            int at = payload.getShort() & 0xffff;
            long value = payload.getInt() & 0xffff_ffffL;
            if (at == id) return value;
        }
        return -1;
    }

    /**
     * A download of 1 GiB whose client reads nothing (its receive buffer 4 KiB). The origin sends it only as
     * far as the sockets' buffers take it in, and Sluice reads it no further than its stream's window.
     */
    private static Socket stalledDownload(SluiceServerExtension.Running running) throws IOException {
        Socket stalled = new Socket();
        stalled.setReceiveBufferSize(4_096);
        stalled.connect(new java.net.InetSocketAddress(InetAddress.getLoopbackAddress(), running.dataPort()));
        stalled.getOutputStream()
                .write("GET /origin/bytes/%d HTTP/1.1\r\nHost: sluice\r\n\r\n"
                        .formatted(1L << 30)
                        .getBytes(StandardCharsets.US_ASCII));
        return stalled;
    }

    /**
     * A download of four streams' windows is carried whole, and once it is, the origin holds all of the
     * connection's window but what Undertow has yet to credit (it does so once half a stream's window is
     * read).
     */
    private void assertWholeWindowAfterADownload(SluiceServerExtension.Running running) throws IOException {
        long length = 4L * Http2Transport.STREAM_WINDOW;
        assertThat(download(running, length)).isEqualTo(length);
        await().atMost(Duration.ofSeconds(10))
                .untilAsserted(() -> assertThat(script.connectionWindow())
                        .isGreaterThanOrEqualTo(Http2Transport.CONNECTION_WINDOW - Http2Transport.STREAM_WINDOW / 2));
        assertThat(origin.requests).extracting(FrameOrigin.Request::connection).containsOnly(0);
    }

    private SluiceServerExtension.Running start(String serverKeys) throws IOException {
        origin = new FrameOrigin(tls, script);
        script.origin = origin;
        String config = origin.sluiceConfig(dir);
        if (!serverKeys.isEmpty()) {
            config = config.replace("server: {io_threads: 1}", "server: {io_threads: 1, " + serverKeys + "}");
        }
        return sluice.start(config);
    }

    private JsonNode batchOf(SluiceServerExtension.Running running, int items, String path) {
        String requests = IntStream.range(0, items)
                .mapToObj(i -> "{\"url\": \"https://localhost:%d%s\"}".formatted(origin.port(), path))
                .collect(Collectors.joining(",", "{\"requests\": [", "]}"));
        return TestHttp.batch(running.data("/v1/batch"), requests).get("responses");
    }

    /**
     * Downloads {@code /bytes/length} through Sluice's route form on a raw socket (a bounded wait on each
     * read fails the test if the download stops), checking every byte: the number of body bytes read.
     */
    private static long download(SluiceServerExtension.Running running, long length) throws IOException {
        return download(running, "origin", length);
    }

    /** {@link #download(SluiceServerExtension.Running, long)} through upstream {@code upstream}. */
    private static long download(SluiceServerExtension.Running running, String upstream, long length)
            throws IOException {
        try (Socket client = new Socket(InetAddress.getLoopbackAddress(), running.dataPort())) {
            client.setSoTimeout(10_000);
            client.getOutputStream()
                    .write("GET /%s/bytes/%d HTTP/1.1\r\nHost: sluice\r\nConnection: close\r\n\r\n"
                            .formatted(upstream, length)
                            .getBytes(StandardCharsets.US_ASCII));
            InputStream in = client.getInputStream();
            String head = head(in);
            assertThat(head).startsWith("HTTP/1.1 200").containsIgnoringCase("content-length: " + length);
            byte[] buffer = new byte[64 * 1024];
            long at = 0;
            for (int n; (n = in.read(buffer)) >= 0; ) {
                for (int i = 0; i < n; i++) {
                    if (buffer[i] != Downloads.byteAt(at + i)) {
                        throw new AssertionError("body byte " + (at + i) + " is " + buffer[i]);
                    }
                }
                at += n;
            }
            return at;
        }
    }

    private static String head(InputStream in) throws IOException {
        ByteArrayOutputStream head = new ByteArrayOutputStream();
        while (!head.toString(StandardCharsets.ISO_8859_1).endsWith("\r\n\r\n")) {
            int b = in.read();
            if (b < 0) throw new AssertionError("closed in the head: " + head.toString(StandardCharsets.ISO_8859_1));
            head.write(b);
        }
        return head.toString(StandardCharsets.ISO_8859_1);
    }

    /**
     * The origin's script, which keeps flow control: it sends no more DATA than the connection's and the
     * stream's windows allow (65,535 bytes for the connection to begin with, and for a stream what Sluice's
     * SETTINGS announce) and sends more as {@code WINDOW_UPDATE}s come. {@code GET /bytes/N} is answered with N bytes, and
     * the test may have the origin reset a stream ({@link #reset}); {@code /cross/N} announces {@link
     * #ANNOUNCED}, sends N, and when Sluice resets the stream sends what is left of
     * the stream's window, as DATA that crossed the reset on the wire would be (§5.4.2).
     */
    static final class Downloads implements FrameOrigin.Script {
        private static final int INTERNAL_ERROR = 0x2;

        FrameOrigin origin;
        private FrameOrigin.Conversation conversation;
        private long connectionWindow = CONNECTION_START;
        /** What each stream may be sent to begin with: Sluice's {@code SETTINGS_INITIAL_WINDOW_SIZE}. */
        private long streamWindow;

        private final Map<Integer, Out> streams = new LinkedHashMap<>();
        private final Map<Integer, Long> sent = new LinkedHashMap<>();
        private int crossedResets;

        /** One response under way: what it may still be sent, and what happens at its end. */
        private static final class Out {
            final int stream;
            final long length;
            final long sendable;
            long sent;
            long window;
            final boolean crossReset;

            Out(int stream, long length, long sendable, boolean crossReset, long window) {
                this.stream = stream;
                this.window = window;
                this.length = length;
                this.sendable = sendable;
                this.crossReset = crossReset;
            }
        }

        /** The body's byte at {@code offset}: a pattern that a byte lost, repeated or reordered breaks. */
        static byte byteAt(long offset) {
            return (byte) (offset % 251);
        }

        synchronized long connectionWindow() {
            return connectionWindow;
        }

        synchronized long sent(int stream) {
            return sent.getOrDefault(stream, 0L);
        }

        /** DATA bytes sent on every stream together. */
        synchronized long sentInAll() {
            return sent.values().stream().mapToLong(Long::longValue).sum();
        }

        /** What {@code stream} may still be sent before Sluice grants more. */
        synchronized long window(int stream) {
            Out o = streams.get(stream);
            return o == null ? -1 : o.window;
        }

        /** Streams under way whose window is used up. */
        synchronized long held() {
            return streams.values().stream().filter(o -> o.window == 0).count();
        }

        /** Resets {@code stream}, as an origin that fails mid-body does ({@code INTERNAL_ERROR}). */
        synchronized void reset(int stream) throws IOException {
            streams.remove(stream);
            conversation.send(FrameOrigin.rstStream(stream, INTERNAL_ERROR));
        }

        synchronized int crossedResets() {
            return crossedResets;
        }

        @Override
        public synchronized void frame(FrameOrigin.Frame frame, FrameOrigin.Conversation conversation)
                throws IOException {
            this.conversation = conversation;
            List<byte[]> out = new ArrayList<>();
            switch (frame.type()) {
                case HEADERS -> {
                    String path = request(frame).fields().get(":path");
                    String[] parts = path.split("/");
                    long n = Long.parseLong(parts[2]);
                    Out o = switch (parts[1]) {
                        case "bytes" -> new Out(frame.stream(), n, n, false, streamWindow(frame.connection()));
                        case "cross" -> new Out(frame.stream(), ANNOUNCED, n, true, streamWindow(frame.connection()));
                        default -> throw new IOException("no such path: " + path);
                    };
                    streams.put(o.stream, o);
                    out.add(FrameOrigin.headers200(o.stream, o.length, false));
                    send(o, out);
                }
                case WINDOW_UPDATE -> {
                    int increment = ByteBuffer.wrap(frame.payload()).getInt() & 0x7fff_ffff;
                    if (frame.stream() == 0) {
                        connectionWindow += increment;
                    } else if (streams.containsKey(frame.stream())) {
                        streams.get(frame.stream()).window += increment;
                    }
                }
                case RST_STREAM -> {
                    Out o = streams.remove(frame.stream());
                    if (o != null && o.crossReset) {
                        crossedResets++;
                        while (o.window > 0 && connectionWindow > 0) {
                            long n = Math.min(FrameOrigin.MAX_FRAME, Math.min(o.window, connectionWindow));
                            out.add(data(o, n, false));
                        }
                    }
                }
                default -> {}
            }
            for (Iterator<Out> it = streams.values().iterator(); it.hasNext(); ) {
                Out o = it.next();
                send(o, out);
                if (o.sent == o.length) it.remove();
            }
            if (!out.isEmpty()) conversation.send(out.toArray(byte[][]::new));
        }

        /** As much of {@code o} as the windows allow, in frames of at most 16 KiB. */
        private void send(Out o, List<byte[]> out) {
            while (connectionWindow > 0 && o.window > 0 && o.sent < o.sendable) {
                long n = Math.min(
                        Math.min(FrameOrigin.MAX_FRAME, connectionWindow), Math.min(o.window, o.sendable - o.sent));
                out.add(data(o, n, o.sent + n == o.length));
            }
        }

        private byte[] data(Out o, long n, boolean last) {
            byte[] payload = new byte[(int) n];
            for (int i = 0; i < n; i++) payload[i] = byteAt(o.sent + i);
            o.sent += n;
            o.window -= n;
            connectionWindow -= n;
            sent.merge(o.stream, n, Long::sum);
            return FrameOrigin.frame(DATA, last ? END_STREAM : 0, o.stream, payload);
        }

        /** The initial stream window Sluice's SETTINGS announced (RFC 9113 §6.5.2: 65,535 if none). */
        private long streamWindow(int connection) {
            if (streamWindow > 0) return streamWindow;
            streamWindow = 65_535;
            for (FrameOrigin.Frame frame : origin.received) {
                if (frame.connection() == connection && frame.type() == FrameOrigin.SETTINGS && frame.flags() == 0) {
                    long announced = setting(frame, 0x4);
                    if (announced >= 0) streamWindow = announced;
                }
            }
            return streamWindow;
        }

        private FrameOrigin.Request request(FrameOrigin.Frame frame) {
            for (int i = origin.requests.size() - 1; i >= 0; i--) {
                FrameOrigin.Request r = origin.requests.get(i);
                if (r.connection() == frame.connection() && r.stream() == frame.stream()) return r;
            }
            throw new IllegalStateException("no request for " + frame);
        }
    }
}
