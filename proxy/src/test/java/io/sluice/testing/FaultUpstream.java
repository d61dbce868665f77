package io.sluice.testing;

import java.io.BufferedOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import javax.net.ssl.SSLSocket;
import javax.net.ssl.SSLSocketFactory;
import okhttp3.tls.HandshakeCertificates;
import okhttp3.tls.HeldCertificate;

/**
 * An upstream that goes wrong on purpose, in the spirit of Toxiproxy's toxics: real sockets on
 * loopback port 0, cleartext or TLS. Each request picks its {@link Fault} by path ({@code
 * /reset-before-headers}, see {@link Fault#path()}); the TLS set-up itself can be made to fail
 * with {@link #stallingHandshake()} or a certificate the client does not accept.
 *
 * <p>Faults are driven from here, never by the test's clock: a connection that never answers is
 * held until the peer or the fixture closes it, a latency spike is held until {@link #release()},
 * and {@link #arrived()} tells the test when a request is in. Only the slow drip keeps time, since
 * its trickle is the fault.
 */
public final class FaultUpstream implements AutoCloseable {
    /** What one request gets. */
    public enum Fault {
        /** Reads the request, then resets the connection (RST) without a byte of answer. */
        RESET_BEFORE_HEADERS,
        /** Sends a head promising 1000 bytes and 10 of them, then resets the connection. */
        RESET_AFTER_HEADERS,
        /** Accepts and reads the request, never answers. */
        NO_ANSWER,
        /** Sends a head promising 1000 bytes, then one byte every 50 ms. */
        SLOW_DRIP,
        /** {@code Content-Length: 1000}, 10 bytes, then a clean close. */
        SHORT_BODY,
        /** A chunked body cut in the middle of a chunk, then a clean close. */
        CHUNKED_CUT,
        /** {@code HTTP/1.1 2x0 OK}. */
        INVALID_STATUS_LINE,
        /** 100 header fields of 1000 bytes: 100 KB of head, over the 64 KB default. */
        OVERSIZED_HEADERS,
        /** {@code 503} with {@code Retry-After: 86400}. */
        RETRY_AFTER_FAR,
        /** {@code 200 ok}, held back until {@link #release()}. */
        LATENCY_SPIKE,
        /**
         * Not a fault: the control. 100,000 bytes written at once, so behind TLS they travel in
         * full-size (16 KiB of plaintext) records.
         */
        LARGE_BODY;

        /** The request path that selects this fault, e.g. {@code /reset-before-headers}. */
        public String path() {
            return "/" + name().toLowerCase(java.util.Locale.ROOT).replace('_', '-');
        }

        static Fault of(String path) {
            for (Fault f : values()) if (path.equals(f.path()) || path.startsWith(f.path() + "?")) return f;
            return null;
        }
    }

    private final ServerSocket server;
    private final SSLSocketFactory tls;
    private final boolean stall;
    private final List<Socket> sockets = new CopyOnWriteArrayList<>();
    private final CountDownLatch release = new CountDownLatch(1);
    private final java.util.concurrent.Semaphore arrived = new java.util.concurrent.Semaphore(0);

    private FaultUpstream(SSLSocketFactory tls, boolean stall) throws IOException {
        this.tls = tls;
        this.stall = stall;
        server = new ServerSocket(0, 200, InetAddress.getLoopbackAddress());
        Thread.ofVirtual().name("fault-upstream-accept").start(this::accept);
    }

    /** Cleartext HTTP/1.1 at {@code http://127.0.0.1:port}. */
    public static FaultUpstream cleartext() throws IOException {
        return new FaultUpstream(null, false);
    }

    /** HTTP/1.1 over TLS with {@code leaf} (signed by {@code ca}), at {@code https://localhost:port}. */
    public static FaultUpstream tls(HeldCertificate leaf, HeldCertificate ca) throws IOException {
        return new FaultUpstream(
                new HandshakeCertificates.Builder()
                        .heldCertificate(leaf, ca.certificate())
                        .build()
                        .sslSocketFactory(),
                false);
    }

    /** Accepts TCP connections and reads the ClientHello, but never sends a ServerHello. */
    public static FaultUpstream stallingHandshake() throws IOException {
        return new FaultUpstream(null, true);
    }

    /** {@code http://127.0.0.1:port}, or {@code https://localhost:port} for the TLS kinds. */
    public String origin() {
        return (tls != null || stall ? "https://localhost:" : "http://127.0.0.1:") + server.getLocalPort();
    }

    public int port() {
        return server.getLocalPort();
    }

    /** Waits, at most {@code seconds}, until a request's head has arrived; each arrival is taken once. */
    public boolean awaitArrival(long seconds) throws InterruptedException {
        return arrived.tryAcquire(seconds, TimeUnit.SECONDS);
    }

    /** Answers every held {@link Fault#LATENCY_SPIKE} request, and every later one at once. */
    public void release() {
        release.countDown();
    }

    private void accept() {
        while (!server.isClosed()) {
            try {
                Socket socket = server.accept();
                sockets.add(socket);
                Thread.ofVirtual().name("fault-upstream").start(() -> serve(socket));
            } catch (IOException closing) {
                return;
            }
        }
    }

    private void serve(Socket raw) {
        try (raw) {
            if (stall) {
                // Takes in the ClientHello and whatever follows, answers nothing, until the peer gives up.
                raw.getInputStream().transferTo(OutputStream.nullOutputStream());
                return;
            }
            Socket socket = raw;
            if (tls != null) {
                SSLSocket secure = (SSLSocket) tls.createSocket(raw, null, raw.getPort(), false);
                secure.setUseClientMode(false);
                socket = secure;
            }
            InputStream in = socket.getInputStream();
            OutputStream out = new BufferedOutputStream(socket.getOutputStream(), 64 * 1024);
            String target;
            while ((target = readHead(in)) != null) {
                arrived.release();
                Fault fault = Fault.of(target);
                if (fault == null) {
                    out.write(ascii("HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\n\r\n"));
                    out.flush();
                    continue;
                }
                if (!answer(fault, raw, in, out)) return;
            }
        } catch (IOException | InterruptedException gone) {
            // the peer closed or reset, or the fixture is closing: nothing to record
        }
    }

    /**
     * The bytes {@code fault} writes as they are, before it closes, resets or (a slow drip) starts
     * its trickle: what a client reading through a byte pipe must get untouched. Empty for the two
     * that send nothing.
     */
    public static String sends(Fault fault) {
        return switch (fault) {
            case RESET_BEFORE_HEADERS, NO_ANSWER -> "";
            case RESET_AFTER_HEADERS, SHORT_BODY -> "HTTP/1.1 200 OK\r\nContent-Length: 1000\r\n\r\n0123456789";
            case SLOW_DRIP -> "HTTP/1.1 200 OK\r\nContent-Length: 1000\r\n\r\n";
            case CHUNKED_CUT -> "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n" + "5\r\nhello\r\n10\r\nabcde";
            case INVALID_STATUS_LINE -> "HTTP/1.1 2x0 OK\r\nContent-Length: 0\r\n\r\n";
            case OVERSIZED_HEADERS -> {
                StringBuilder head = new StringBuilder("HTTP/1.1 200 OK\r\n");
                String value = "v".repeat(1000);
                for (int i = 0; i < 100; i++)
                    head.append("X-Filler-")
                            .append(i)
                            .append(": ")
                            .append(value)
                            .append("\r\n");
                yield head.append("Content-Length: 2\r\n\r\nok").toString();
            }
            case RETRY_AFTER_FAR ->
                "HTTP/1.1 503 Service Unavailable\r\nRetry-After: 86400\r\n"
                        + "Content-Length: 4\r\nConnection: close\r\n\r\nbusy";
            case LARGE_BODY ->
                "HTTP/1.1 200 OK\r\nContent-Length: 100000\r\nConnection: close\r\n\r\n" + "b".repeat(100_000);
            case LATENCY_SPIKE -> "HTTP/1.1 200 OK\r\nContent-Length: 2\r\nConnection: close\r\n\r\nok";
        };
    }

    /** Writes {@code fault}'s answer; false when the connection is done with. */
    private boolean answer(Fault fault, Socket raw, InputStream in, OutputStream out)
            throws IOException, InterruptedException {
        switch (fault) {
            case RESET_BEFORE_HEADERS -> reset(raw);
            case RESET_AFTER_HEADERS -> {
                out.write(ascii(sends(fault)));
                out.flush();
                reset(raw);
            }
            case NO_ANSWER -> in.transferTo(OutputStream.nullOutputStream());
            case SLOW_DRIP -> {
                out.write(ascii(sends(fault)));
                out.flush();
                for (int i = 0; i < 1000 && !release.await(50, TimeUnit.MILLISECONDS); i++) {
                    out.write('d');
                    out.flush();
                }
            }
            case LATENCY_SPIKE -> {
                // Bounded, so a failed test cannot leave a thread here.
                release.await(60, TimeUnit.SECONDS);
                out.write(ascii(sends(fault)));
            }
            default -> out.write(ascii(sends(fault)));
        }
        out.flush();
        // The connection ends after every fault: a clean close (FIN, or TLS close_notify) unless reset.
        return false;
    }

    /** RFC 793 abort: SO_LINGER 0 makes the close send RST instead of FIN. */
    private static void reset(Socket raw) throws IOException {
        raw.setSoLinger(true, 0);
        raw.close();
    }

    /** Reads a request head and returns its target; null at end of stream. Bodies are not expected. */
    private static String readHead(InputStream in) throws IOException {
        StringBuilder line = new StringBuilder();
        String requestLine = null;
        int state = 0;
        int b;
        while ((b = in.read()) != -1) {
            if (requestLine == null) {
                if (b == '\n') requestLine = line.toString().trim();
                else line.append((char) b);
            }
            state = switch (state) {
                case 0, 2 -> b == '\r' ? state + 1 : 0;
                case 1, 3 -> b == '\n' ? state + 1 : (b == '\r' ? 1 : 0);
                default -> 0;
            };
            if (state == 4) {
                String[] parts = requestLine.split(" ");
                return parts.length > 1 ? parts[1] : "/";
            }
        }
        return null;
    }

    private static byte[] ascii(String s) {
        return s.getBytes(StandardCharsets.ISO_8859_1);
    }

    @Override
    public void close() throws IOException {
        release();
        server.close();
        for (Socket s : sockets) s.close();
    }
}
