package io.sluice.send;

import com.fasterxml.jackson.databind.JsonNode;
import io.sluice.testing.SluiceServerExtension;
import io.sluice.testing.TestHttp;
import io.sluice.testing.TlsOrigin;
import io.undertow.protocols.http2.HpackDecoder;
import io.undertow.protocols.http2.HpackException;
import java.io.ByteArrayOutputStream;
import java.io.EOFException;
import java.io.IOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.nio.ByteBuffer;
import java.nio.channels.ServerSocketChannel;
import java.nio.channels.SocketChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.AtomicInteger;
import javax.net.ssl.SSLContext;
import javax.net.ssl.SSLEngine;
import javax.net.ssl.SSLEngineResult;
import javax.net.ssl.SSLParameters;
import okhttp3.tls.HandshakeCertificates;

/**
 * An HTTP/2 origin written frame by frame, for what a ready-made server will not do on cue (answer before
 * reading a body, reset a stream it answered, refuse exactly one stream, close in the same write as an
 * answer): TLS 1.2 with ALPN {@code h2} on loopback port 0 over the JDK's {@link SSLEngine}, each
 * connection on a virtual thread of its own. It sends an empty SETTINGS first, acknowledges SETTINGS and
 * PINGs itself, records every frame Sluice sends ({@link #received}) and hands every other frame to the
 * test's {@link Script}, which answers with the frame builders here. Nothing is sent that the script does
 * not send, so flow control is the script's: without a {@code WINDOW_UPDATE} Sluice sends at most 65,535
 * bytes of request body (RFC 9113 §6.9.2).
 *
 * <p>TLS 1.2, as nginx before 1.23.4 offers by default: a {@code close_notify} closes both directions
 * there (RFC 5246 §7.2.1), which {@link Http2OriginCloseTest} depends on.
 */
final class FrameOrigin implements AutoCloseable {
    static final int DATA = 0x0;
    static final int HEADERS = 0x1;
    static final int RST_STREAM = 0x3;
    static final int SETTINGS = 0x4;
    static final int PING = 0x6;
    static final int GOAWAY = 0x7;
    static final int WINDOW_UPDATE = 0x8;

    static final int END_STREAM = 0x1;
    static final int ACK = 0x1;
    static final int END_HEADERS = 0x4;

    static final int NO_ERROR = 0x0;
    static final int REFUSED_STREAM = 0x7;

    /** The largest frame payload a peer must accept unasked (RFC 9113 §4.2: SETTINGS_MAX_FRAME_SIZE). */
    static final int MAX_FRAME = 16_384;

    private static final byte[] PREFACE = "PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n".getBytes(StandardCharsets.US_ASCII);

    /** What the origin does with each frame Sluice sends but SETTINGS and PING; on the connection's thread. */
    interface Script {
        void frame(Frame frame, Conversation conversation) throws IOException;
    }

    /** A frame Sluice sent, on the origin's {@code connection}-th connection (from 0). */
    record Frame(int connection, int type, int flags, int stream, byte[] payload) {
        boolean endStream() {
            return (type == DATA || type == HEADERS) && (flags & END_STREAM) != 0;
        }

        /** A {@code RST_STREAM}'s or {@code GOAWAY}'s error code. */
        int errorCode() {
            ByteBuffer bytes = ByteBuffer.wrap(payload);
            return type == GOAWAY ? bytes.getInt(4) : bytes.getInt(0);
        }

        @Override
        public String toString() {
            String name = switch (type) {
                case DATA -> "DATA(" + payload.length + ")";
                case HEADERS -> "HEADERS";
                case RST_STREAM -> "RST_STREAM(" + errorCode() + ")";
                case SETTINGS -> "SETTINGS";
                case PING -> "PING";
                case GOAWAY -> "GOAWAY(" + errorCode() + ")";
                case WINDOW_UPDATE -> "WINDOW_UPDATE";
                default -> "type " + type;
            };
            return name + (endStream() ? "+END_STREAM" : "") + " on stream " + stream + " of connection " + connection;
        }
    }

    /** A request's header fields (pseudo-fields included) as the origin decoded them. */
    record Request(int connection, int stream, Map<String, String> fields) {
        String method() {
            return fields.get(":method");
        }
    }

    /** Every frame Sluice sent, in the order each connection read them. */
    final List<Frame> received = new CopyOnWriteArrayList<>();
    /** Every request's header block, in the order they arrived. */
    final List<Request> requests = new CopyOnWriteArrayList<>();

    private final TlsOrigin tls;
    private final Script script;
    private final ServerSocketChannel server;
    private final SSLContext context;
    private final AtomicInteger connections = new AtomicInteger();
    private final Thread acceptor;

    FrameOrigin(TlsOrigin tls, Script script) throws IOException {
        this.tls = tls;
        this.script = script;
        context = new HandshakeCertificates.Builder()
                .heldCertificate(tls.leaf, tls.ca.certificate())
                .build()
                .sslContext();
        server = ServerSocketChannel.open().bind(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0));
        acceptor = Thread.ofVirtual().start(this::accept);
    }

    int port() {
        return ((InetSocketAddress) server.socket().getLocalSocketAddress()).getPort();
    }

    /**
     * Sluice's config for one upstream, {@code origin}, on this origin over HTTP/2, trusting its CA
     * (written into {@code dir}): one IO thread, so that every stream shares one connection, and one
     * attempt, so that what the origin records is what Sluice sent once.
     */
    String sluiceConfig(Path dir) throws IOException {
        return """
                server: {io_threads: 1}
                upstreams:
                  origin:
                    base_url: "https://localhost:%d"
                    allow_private: true
                    retry: {max_attempts: 1}
                    tls: {ca_file: "%s", http2: true}
                """.formatted(port(), tls.writeCa(dir));
    }

    /** A POST of {@code body} (plain text, no JSON escapes) to {@code /p} through Sluice's batch API: its result. */
    JsonNode postThrough(SluiceServerExtension.Running running, String body) {
        return TestHttp.batch(running.data("/v1/batch"), """
                        {"requests": [{"method": "POST", "url": "https://localhost:%d/p", "body": "%s"}]}""".formatted(port(), body))
                .get("responses")
                .get(0);
    }

    /** A GET of {@code /g} through Sluice's batch API: its result. */
    JsonNode getThrough(SluiceServerExtension.Running running) {
        return TestHttp.batch(running.data("/v1/batch"), """
                        {"requests": [{"url": "https://localhost:%d/g"}]}""".formatted(port()))
                .get("responses")
                .get(0);
    }

    /** The frames Sluice sent on {@code stream} of {@code connection}, in order. */
    List<Frame> receivedOn(int connection, int stream) {
        return received.stream()
                .filter(f -> f.connection() == connection && f.stream() == stream)
                .toList();
    }

    /** The request body bytes read so far on {@code stream} of {@code connection}. */
    byte[] body(int connection, int stream) {
        ByteArrayOutputStream body = new ByteArrayOutputStream();
        for (Frame frame : receivedOn(connection, stream)) {
            if (frame.type() == DATA) body.writeBytes(frame.payload());
        }
        return body.toByteArray();
    }

    private void accept() {
        while (server.isOpen()) {
            SocketChannel socket;
            try {
                socket = server.accept();
            } catch (IOException closed) {
                return;
            }
            int index = connections.getAndIncrement();
            Thread.ofVirtual().start(() -> {
                try (socket) {
                    new Conversation(index, new Tls(socket, context)).serve();
                } catch (IOException overOrClosed) {
                    // The test is over, or Sluice closed the connection.
                }
            });
        }
    }

    /** One connection: its TLS, its header decoder and what the script may send on it. */
    final class Conversation {
        private final int connection;
        private final Tls tls;
        private final HpackDecoder decoder = new HpackDecoder();
        private boolean closed;

        private Conversation(int connection, Tls tls) {
            this.connection = connection;
            this.tls = tls;
        }

        /** Sends {@code frames} in one socket write (TLS records of up to 16 KiB each). */
        void send(byte[]... frames) throws IOException {
            tls.send(concat(frames));
        }

        /**
         * Sends {@code frames}, then {@code close_notify} in the same socket write, then closes this side;
         * reads what Sluice still sends (unrecorded) until it closes, so that the close is not a TCP reset.
         */
        void sendAndClose(byte[]... frames) throws IOException {
            tls.sendAndClose(concat(frames));
            closed = true;
        }

        /** The request body bytes read so far on {@code stream} of this connection. */
        byte[] body(int stream) {
            return FrameOrigin.this.body(connection, stream);
        }

        private void serve() throws IOException {
            tls.handshake();
            byte[] preface = tls.readFully(PREFACE.length);
            if (!java.util.Arrays.equals(preface, PREFACE)) throw new IOException("not an HTTP/2 preface");
            send(frame(SETTINGS, 0, 0, new byte[0]));
            while (!closed) {
                byte[] head = tls.readFully(9);
                int length = (head[0] & 0xff) << 16 | (head[1] & 0xff) << 8 | (head[2] & 0xff);
                int type = head[3] & 0xff;
                int flags = head[4] & 0xff;
                int stream = ByteBuffer.wrap(head, 5, 4).getInt() & 0x7fff_ffff;
                Frame frame = new Frame(connection, type, flags, stream, tls.readFully(length));
                received.add(frame);
                if (type == SETTINGS && (flags & ACK) == 0) {
                    send(frame(SETTINGS, ACK, 0, new byte[0]));
                } else if (type == PING && (flags & ACK) == 0) {
                    send(frame(PING, ACK, 0, frame.payload()));
                } else {
                    if (type == HEADERS) requests.add(new Request(connection, stream, decode(frame)));
                    script.frame(frame, this);
                }
            }
            tls.drain();
        }

        /** The fields of a HEADERS frame that carries its whole block (Sluice's requests' blocks are small). */
        private Map<String, String> decode(Frame frame) throws IOException {
            if ((frame.flags() & END_HEADERS) == 0) throw new IOException("a header block in CONTINUATION frames");
            Map<String, String> fields = new LinkedHashMap<>();
            decoder.setHeaderEmitter((name, value, neverIndex) -> fields.put(name.toString(), value));
            try {
                decoder.decode(ByteBuffer.wrap(frame.payload()), false);
            } catch (HpackException e) {
                throw new IOException(e);
            }
            return fields;
        }
    }

    // ---- frames ----

    /** A frame of {@code type} (RFC 9113 §4.1). */
    static byte[] frame(int type, int flags, int stream, byte[] payload) {
        return ByteBuffer.allocate(9 + payload.length)
                .put((byte) (payload.length >>> 16))
                .put((byte) (payload.length >>> 8))
                .put((byte) payload.length)
                .put((byte) type)
                .put((byte) flags)
                .putInt(stream)
                .put(payload)
                .array();
    }

    /**
     * A response's HEADERS frame, {@code :status 200} and {@code content-length} (HPACK: the static table's
     * {@code :status 200}, then a literal not indexed; RFC 7541 §6.1, §6.2.2).
     */
    static byte[] headers200(int stream, long contentLength, boolean endStream) {
        byte[] length = Long.toString(contentLength).getBytes(StandardCharsets.US_ASCII);
        ByteArrayOutputStream block = new ByteArrayOutputStream();
        block.write(0x88);
        block.write(0x0f); // literal without indexing, name: static index 28 (content-length) = 15 + 13
        block.write(13);
        block.write(length.length);
        block.writeBytes(length);
        return frame(HEADERS, END_HEADERS | (endStream ? END_STREAM : 0), stream, block.toByteArray());
    }

    /** {@code body} as DATA frames of at most {@link #MAX_FRAME} bytes, the last one ending the stream. */
    static byte[] data(int stream, byte[] body) {
        ByteArrayOutputStream frames = new ByteArrayOutputStream();
        int at = 0;
        do {
            int n = Math.min(MAX_FRAME, body.length - at);
            boolean last = at + n == body.length;
            frames.writeBytes(
                    frame(DATA, last ? END_STREAM : 0, stream, java.util.Arrays.copyOfRange(body, at, at + n)));
            at += n;
        } while (at < body.length);
        return frames.toByteArray();
    }

    /** A whole answer on {@code stream}: HEADERS, then {@code body} ending the stream. */
    static byte[] answer(int stream, String body) {
        byte[] bytes = body.getBytes(StandardCharsets.UTF_8);
        return concat(headers200(stream, bytes.length, false), data(stream, bytes));
    }

    static byte[] rstStream(int stream, int errorCode) {
        return frame(
                RST_STREAM, 0, stream, ByteBuffer.allocate(4).putInt(errorCode).array());
    }

    /** Lets Sluice send {@code increment} more bytes on {@code stream} (0: the connection; RFC 9113 §6.9). */
    static byte[] windowUpdate(int stream, int increment) {
        return frame(
                WINDOW_UPDATE,
                0,
                stream,
                ByteBuffer.allocate(4).putInt(increment).array());
    }

    static byte[] goAway(int lastStream, int errorCode) {
        return frame(
                GOAWAY,
                0,
                0,
                ByteBuffer.allocate(8).putInt(lastStream).putInt(errorCode).array());
    }

    static byte[] ping() {
        return frame(PING, 0, 0, new byte[8]);
    }

    private static byte[] concat(byte[]... parts) {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        for (byte[] part : parts) out.writeBytes(part);
        return out.toByteArray();
    }

    @Override
    public void close() throws IOException {
        server.close();
        acceptor.interrupt();
    }

    /** One server-side TLS 1.2 connection over a blocking channel, every byte sent in the writes asked for. */
    private static final class Tls {
        private final SocketChannel socket;
        private final SSLEngine engine;
        private final ByteBuffer netIn;
        private final ByteBuffer appIn;

        Tls(SocketChannel socket, SSLContext context) {
            this.socket = socket;
            this.engine = context.createSSLEngine();
            engine.setUseClientMode(false);
            SSLParameters parameters = engine.getSSLParameters();
            parameters.setProtocols(new String[] {"TLSv1.2"});
            parameters.setApplicationProtocols(new String[] {"h2"});
            engine.setSSLParameters(parameters);
            netIn = ByteBuffer.allocate(engine.getSession().getPacketBufferSize() * 2);
            appIn = ByteBuffer.allocate(engine.getSession().getApplicationBufferSize() * 2);
            appIn.flip();
        }

        void handshake() throws IOException {
            engine.beginHandshake();
            while (true) {
                switch (engine.getHandshakeStatus()) {
                    case NEED_WRAP -> socketWrite(wrap(ByteBuffer.allocate(0)));
                    case NEED_UNWRAP, NEED_UNWRAP_AGAIN -> unwrap();
                    case NEED_TASK -> {
                        Runnable task;
                        while ((task = engine.getDelegatedTask()) != null) task.run();
                    }
                    default -> {
                        return;
                    }
                }
            }
        }

        byte[] readFully(int n) throws IOException {
            byte[] out = new byte[n];
            int have = 0;
            while (have < n) {
                if (!appIn.hasRemaining()) unwrap();
                int take = Math.min(n - have, appIn.remaining());
                appIn.get(out, have, take);
                have += take;
            }
            return out;
        }

        void send(byte[] plaintext) throws IOException {
            socketWrite(wrap(ByteBuffer.wrap(plaintext)));
        }

        /** {@code plaintext} and then {@code close_notify} in one socket write, then the TCP close of this side. */
        void sendAndClose(byte[] plaintext) throws IOException {
            ByteBuffer records = wrap(ByteBuffer.wrap(plaintext));
            engine.closeOutbound();
            ByteBuffer close = wrap(ByteBuffer.allocate(0));
            socketWrite(ByteBuffer.allocate(records.remaining() + close.remaining())
                    .put(records)
                    .put(close)
                    .flip());
            socket.shutdownOutput();
        }

        /** Reads and drops what Sluice still sends, until it closes. */
        void drain() throws IOException {
            ByteBuffer sink = ByteBuffer.allocate(16384);
            while (socket.read(sink.clear()) >= 0) {
                // dropped
            }
        }

        private ByteBuffer wrap(ByteBuffer plaintext) throws IOException {
            // Room for every record the plaintext makes (16 KiB of plaintext a record, plus its overhead).
            int records = plaintext.remaining() / 16384 + 2;
            ByteBuffer out = ByteBuffer.allocate(engine.getSession().getPacketBufferSize() * records);
            do {
                SSLEngineResult result = engine.wrap(plaintext, out);
                if (result.getStatus() != SSLEngineResult.Status.OK
                        && result.getStatus() != SSLEngineResult.Status.CLOSED) {
                    throw new IOException("wrap: " + result);
                }
                if (result.getStatus() == SSLEngineResult.Status.CLOSED) break;
            } while (plaintext.hasRemaining());
            return out.flip();
        }

        private void unwrap() throws IOException {
            appIn.compact();
            try {
                while (true) {
                    netIn.flip();
                    SSLEngineResult result = engine.unwrap(netIn, appIn);
                    netIn.compact();
                    switch (result.getStatus()) {
                        case OK -> {
                            return;
                        }
                        case BUFFER_UNDERFLOW -> {
                            if (socket.read(netIn) < 0) throw new EOFException("Sluice closed the connection");
                        }
                        default -> throw new IOException("unwrap: " + result);
                    }
                }
            } finally {
                appIn.flip();
            }
        }

        private void socketWrite(ByteBuffer bytes) throws IOException {
            while (bytes.hasRemaining()) socket.write(bytes);
        }
    }
}
