package io.sluice.testing;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

/**
 * A logging upstream on raw sockets (loopback, port 0) that records every byte each connection
 * sends, exactly as it arrived. It answers {@code 200 ok} and closes once a request looks complete
 * (a head without a body, a {@code Content-Length} body, or a chunked body up to its last chunk),
 * and otherwise reads until the peer closes, so a test sees what an aborted request left behind.
 */
public final class RawUpstream implements AutoCloseable {
    private final ServerSocket server;
    private final List<Connection> connections = new ArrayList<>();
    private final Thread acceptor;

    public RawUpstream() throws IOException {
        server = new ServerSocket(0, 50, InetAddress.getLoopbackAddress());
        acceptor = Thread.ofVirtual().start(this::accept);
    }

    /** e.g. {@code http://127.0.0.1:40123} */
    public String origin() {
        return "http://127.0.0.1:" + server.getLocalPort();
    }

    /** How many connections Sluice opened so far. */
    public synchronized int connections() {
        return connections.size();
    }

    /** Everything received on every connection so far, in order, as ISO-8859-1 text. */
    public synchronized String received() {
        StringBuilder all = new StringBuilder();
        for (Connection c : connections) all.append(c.text());
        return all.toString();
    }

    /** The first connection, once it has been accepted (waits at most {@code seconds}). */
    public Connection first(long seconds) throws InterruptedException {
        long end = System.nanoTime() + TimeUnit.SECONDS.toNanos(seconds);
        synchronized (this) {
            while (connections.isEmpty()) {
                long left = TimeUnit.NANOSECONDS.toMillis(end - System.nanoTime());
                if (left <= 0) throw new AssertionError("no connection reached the upstream in " + seconds + " s");
                wait(left);
            }
            return connections.get(0);
        }
    }

    private void accept() {
        while (!server.isClosed()) {
            try {
                Socket socket = server.accept();
                Connection c = new Connection(socket);
                synchronized (this) {
                    connections.add(c);
                    notifyAll();
                }
                Thread.ofVirtual().start(c::serve);
            } catch (IOException closed) {
                return;
            }
        }
    }

    @Override
    public void close() throws IOException {
        server.close();
        synchronized (this) {
            for (Connection c : connections) c.socket.close();
        }
    }

    /** One connection from Sluice. */
    public static final class Connection {
        private final Socket socket;
        private final ByteArrayOutputStream bytes = new ByteArrayOutputStream();
        private boolean closed;

        Connection(Socket socket) {
            this.socket = socket;
        }

        public synchronized String text() {
            return bytes.toString(StandardCharsets.ISO_8859_1);
        }

        /** Waits (at most {@code seconds}) until the received text contains {@code part}. */
        public synchronized String awaitContains(String part, long seconds) throws InterruptedException {
            long end = System.nanoTime() + TimeUnit.SECONDS.toNanos(seconds);
            while (!text().contains(part)) {
                long left = TimeUnit.NANOSECONDS.toMillis(end - System.nanoTime());
                if (left <= 0 || closed)
                    throw new AssertionError("upstream never received " + part + ", got: " + text());
                wait(left);
            }
            return text();
        }

        /** Waits (at most {@code seconds}) until Sluice closed this connection; returns all it sent. */
        public synchronized String awaitClosed(long seconds) throws InterruptedException {
            long end = System.nanoTime() + TimeUnit.SECONDS.toNanos(seconds);
            while (!closed) {
                long left = TimeUnit.NANOSECONDS.toMillis(end - System.nanoTime());
                if (left <= 0) throw new AssertionError("Sluice kept the upstream connection open, got: " + text());
                wait(left);
            }
            return text();
        }

        private void serve() {
            try (socket) {
                InputStream in = socket.getInputStream();
                byte[] buf = new byte[8192];
                int n;
                boolean answered = false;
                while ((n = in.read(buf)) > 0) {
                    synchronized (this) {
                        bytes.write(buf, 0, n);
                        notifyAll();
                    }
                    if (!answered && complete(text())) {
                        answered = true;
                        OutputStream out = socket.getOutputStream();
                        out.write("HTTP/1.1 200 OK\r\nContent-Length: 2\r\nConnection: close\r\n\r\nok"
                                .getBytes(StandardCharsets.ISO_8859_1));
                        out.flush();
                        socket.shutdownOutput();
                    }
                }
            } catch (IOException reset) {
                // recorded what arrived
            } finally {
                synchronized (this) {
                    closed = true;
                    notifyAll();
                }
            }
        }

        private static boolean complete(String text) {
            int head = text.indexOf("\r\n\r\n");
            if (head < 0) return false;
            String lower = text.substring(0, head).toLowerCase(java.util.Locale.ROOT);
            String body = text.substring(head + 4);
            if (lower.contains("\r\ntransfer-encoding: chunked")) {
                return body.startsWith("0\r\n\r\n") || body.contains("\r\n0\r\n\r\n");
            }
            int at = lower.indexOf("\r\ncontent-length:");
            if (at < 0) return true;
            int end = lower.indexOf("\r\n", at + 2);
            long length = Long.parseLong(
                    lower.substring(at + 17, end < 0 ? lower.length() : end).trim());
            return body.length() >= length;
        }
    }
}
