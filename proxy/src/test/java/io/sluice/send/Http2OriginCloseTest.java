package io.sluice.send;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import io.sluice.testing.SluiceServerExtension;
import io.sluice.testing.TestHttp;
import io.sluice.testing.TlsOrigin;
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
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import javax.net.ssl.SSLContext;
import javax.net.ssl.SSLEngine;
import javax.net.ssl.SSLEngineResult;
import javax.net.ssl.SSLParameters;
import okhttp3.tls.HandshakeCertificates;
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
    private ClosingOrigin origin;

    @AfterEach
    void stop() throws IOException {
        if (origin != null) origin.close();
    }

    @Test
    void anAnswerReadWithTheOriginsCloseIsDeliveredThoughAWriteFailsBeforeItIsParsed() throws Exception {
        origin = new ClosingOrigin(tls);
        var running = sluice.start("""
                server: {io_threads: 1}
                upstreams:
                  origin:
                    base_url: "https://localhost:%d"
                    allow_private: true
                    retry: {max_attempts: 1}
                    tls: {ca_file: "%s", http2: true}
                """.formatted(origin.port(), tls.writeCa(dir)));

        JsonNode response = TestHttp.batch(running.data("/v1/batch"), """
                        {"requests": [{"method": "POST", "url": "https://localhost:%d/p", "body": "x"}]}""".formatted(origin.port()))
                .get("responses")
                .get(0);

        assertThat(response.path("status").asInt()).as(response.toString()).isEqualTo(200);
        assertThat(response.get("body").asText()).isEqualTo("answered");
        // Answered once, on the one connection: the POST was neither lost nor sent again.
        assertThat(origin.requests).containsExactly("stream 1");
    }

    /**
     * A TLS 1.2 HTTP/2 origin on loopback port 0, frames by hand over the JDK's {@link SSLEngine}, so
     * that what it sends last is one socket write: it answers the first request's HEADERS before reading
     * its body, in one write of a GOAWAY naming that stream, a PING (which Undertow's client acknowledges
     * at once, as it parses it: the write after the close), the answer, the {@code RST_STREAM NO_ERROR}
     * nginx sends for a body it will not read (RFC 9113 §8.1), and {@code close_notify}; then it closes
     * its side and reads until Sluice closes (so its close is not a TCP reset).
     */
    private static final class ClosingOrigin implements AutoCloseable {
        private static final byte[] PREFACE = "PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n".getBytes(StandardCharsets.US_ASCII);
        final List<String> requests = new CopyOnWriteArrayList<>();
        private final ServerSocketChannel server;
        private final SSLContext context;
        private final Thread acceptor;

        ClosingOrigin(TlsOrigin tls) throws IOException {
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

        private void accept() {
            while (server.isOpen()) {
                try (SocketChannel socket = server.accept()) {
                    serve(new Tls(socket, context));
                } catch (IOException closedOrDone) {
                    // The test is over, or the connection is: the next one, if any.
                }
            }
        }

        private void serve(Tls tls) throws IOException {
            tls.handshake();
            byte[] preface = tls.readFully(PREFACE.length);
            if (!java.util.Arrays.equals(preface, PREFACE)) throw new IOException("not an HTTP/2 preface");
            tls.send(frame(0x4, 0, 0, new byte[0])); // SETTINGS
            while (true) {
                byte[] head = tls.readFully(9);
                int length = (head[0] & 0xff) << 16 | (head[1] & 0xff) << 8 | (head[2] & 0xff);
                int type = head[3] & 0xff;
                int flags = head[4] & 0xff;
                int stream = ByteBuffer.wrap(head, 5, 4).getInt() & 0x7fff_ffff;
                byte[] payload = tls.readFully(length);
                if (type == 0x4 && (flags & 0x1) == 0) {
                    tls.send(frame(0x4, 0x1, 0, new byte[0])); // SETTINGS ACK
                } else if (type == 0x6 && (flags & 0x1) == 0) {
                    tls.send(frame(0x6, 0x1, 0, payload)); // PING ACK
                } else if (type == 0x1) {
                    requests.add("stream " + stream);
                    ByteArrayOutputStream last = new ByteArrayOutputStream();
                    // GOAWAY naming this stream as the last, NO_ERROR: nginx at keepalive_requests.
                    last.writeBytes(frame(
                            0x7,
                            0,
                            0,
                            ByteBuffer.allocate(8).putInt(stream).putInt(0).array()));
                    // Parsed in the read after the one that took all these frames, which is the read that
                    // takes close_notify (Undertow's TLS conduit unwraps one record a read): Undertow's
                    // client answers a PING at once, so this is a write after the close, as a new request
                    // or a request body still being sent is with nginx.
                    last.writeBytes(frame(0x6, 0, 0, new byte[8]));
                    last.writeBytes(frame(0x1, 0x4, stream, new byte[] {(byte) 0x88})); // HEADERS :status 200
                    last.writeBytes(frame(0x0, 0x1, stream, "answered".getBytes(StandardCharsets.US_ASCII)));
                    last.writeBytes(frame(0x3, 0, stream, new byte[4])); // RST_STREAM NO_ERROR
                    tls.sendAndClose(last.toByteArray());
                    tls.drain();
                    return;
                }
            }
        }

        private static byte[] frame(int type, int flags, int stream, byte[] payload) {
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

        @Override
        public void close() throws IOException {
            server.close();
            acceptor.interrupt();
        }
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
            // TLS 1.2, as nginx before 1.23.4 offers by default: a close_notify closes both ways (RFC 5246 §7.2.1).
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
            ByteBuffer out = ByteBuffer.allocate(engine.getSession().getPacketBufferSize() * 4);
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
