package io.sluice.testing;

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
import java.util.concurrent.atomic.AtomicInteger;

/**
 * An upstream on raw sockets (loopback, port 0) that answers every request with exactly the bytes
 * its {@link Script} writes: a broken status line, a header block of any size, or headers that
 * never end. A script that returns leaves the connection open until the peer closes it or the
 * fixture closes, so "never answers" and "stops half-way" need no timer.
 */
public final class FaultyUpstream implements AutoCloseable {
    /** Writes the response for one request; {@code out} is buffered, flushed after the script. */
    @FunctionalInterface
    public interface Script {
        void answer(OutputStream out) throws IOException;
    }

    private final ServerSocket server;
    private final Script script;
    private final List<Socket> sockets = new CopyOnWriteArrayList<>();
    private final AtomicInteger requests = new AtomicInteger();
    private final CountDownLatch closed = new CountDownLatch(1);

    public FaultyUpstream(Script script) throws IOException {
        this.script = script;
        server = new ServerSocket(0, 200, InetAddress.getLoopbackAddress());
        Thread.ofVirtual().start(this::accept);
    }

    /** e.g. {@code http://127.0.0.1:40123} */
    public String origin() {
        return "http://127.0.0.1:" + server.getLocalPort();
    }

    public int port() {
        return server.getLocalPort();
    }

    /** Requests whose head arrived so far. */
    public int requests() {
        return requests.get();
    }

    /** A status line and {@code count} distinct headers of {@code valueBytes} each, then a body. */
    public static Script manyHeaders(int count, int valueBytes) {
        return out -> {
            out.write("HTTP/1.1 200 OK\r\n".getBytes(StandardCharsets.ISO_8859_1));
            byte[] value = "v".repeat(valueBytes).getBytes(StandardCharsets.ISO_8859_1);
            for (int i = 0; i < count; i++) {
                out.write(("X-Filler-" + i + ": ").getBytes(StandardCharsets.ISO_8859_1));
                out.write(value);
                out.write('\r');
                out.write('\n');
            }
            out.write("Content-Length: 2\r\n\r\nok".getBytes(StandardCharsets.ISO_8859_1));
        };
    }

    /** A status line and a few headers, then nothing more: the header block never ends. */
    public static Script headersThatNeverEnd() {
        return out -> out.write("HTTP/1.1 200 OK\r\nX-Started: 1\r\nX-More: ".getBytes(StandardCharsets.ISO_8859_1));
    }

    /** Exactly {@code bytes}, then close. */
    public static Script raw(String bytes) {
        return out -> out.write(bytes.getBytes(StandardCharsets.ISO_8859_1));
    }

    private void accept() {
        while (!server.isClosed()) {
            try {
                Socket socket = server.accept();
                sockets.add(socket);
                Thread.ofVirtual().start(() -> serve(socket));
            } catch (IOException closing) {
                return;
            }
        }
    }

    private void serve(Socket socket) {
        try (socket) {
            InputStream in = socket.getInputStream();
            OutputStream out = new java.io.BufferedOutputStream(socket.getOutputStream(), 64 * 1024);
            while (readHead(in)) {
                requests.incrementAndGet();
                script.answer(out);
                out.flush();
                // Whatever comes next (the peer's close, or another request) decides.
            }
        } catch (IOException gone) {
            // the peer closed or reset: nothing to record
        }
    }

    /** Reads up to the end of a request head; false at end of stream. Bodies are not expected. */
    private static boolean readHead(InputStream in) throws IOException {
        int state = 0;
        int b;
        while ((b = in.read()) != -1) {
            state = switch (state) {
                case 0, 2 -> b == '\r' ? state + 1 : 0;
                case 1, 3 -> b == '\n' ? state + 1 : (b == '\r' ? 1 : 0);
                default -> 0;
            };
            if (state == 4) return true;
        }
        return false;
    }

    @Override
    public void close() throws IOException {
        server.close();
        for (Socket s : sockets) s.close();
        closed.countDown();
    }
}
