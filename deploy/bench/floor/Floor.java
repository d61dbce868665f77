import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.InetSocketAddress;
import java.net.StandardSocketOptions;
import java.nio.ByteBuffer;
import java.nio.channels.SelectionKey;
import java.nio.channels.Selector;
import java.nio.channels.ServerSocketChannel;
import java.nio.channels.SocketChannel;
import java.nio.charset.StandardCharsets;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import java.util.Locale;
import java.util.Queue;
import java.util.Set;
import java.util.concurrent.ConcurrentLinkedQueue;

/**
 * The bench's two floors for a proxy on the JVM, section (f): plain NIO selectors, one thread each,
 * every connection's reads registered once for its lifetime.
 *
 * <ul>
 *   <li>{@code relay}: bytes relayed between each client connection and an upstream connection of its
 *       own, with no HTTP in between — one read and one write per direction, as few system calls as a
 *       proxy can make. What it spends is the kernel's and the JDK selector's.
 *   <li>{@code http}: what nginx's {@code proxy_pass} does per request — parse the request head into
 *       fields, drop hop-by-hop fields, send a new head on a pooled keep-alive upstream connection,
 *       parse the answer's head, send a new head and the body back. It is a measurement, not a proxy:
 *       bodyless requests only, {@code Content-Length} answers only, no timeouts, no limits. What it
 *       shows is how little of a JVM proxy's cost an HTTP/1.1 codec written for this shape needs.
 * </ul>
 *
 * <p>Run by bench.py: {@code java Floor.java relay|http LISTEN_PORT UPSTREAM_PORT THREADS}.
 */
public final class Floor {
    private static final byte[] HEAD_END = {'\r', '\n', '\r', '\n'};
    // RFC 9110 §7.6.1, plus the fields this proxy writes itself.
    private static final Set<String> NOT_FORWARDED = Set.of(
            "connection",
            "keep-alive",
            "proxy-connection",
            "te",
            "trailer",
            "transfer-encoding",
            "upgrade",
            "host",
            "content-length");

    public static void main(String[] args) throws IOException {
        boolean http = switch (args[0]) {
            case "http" -> true;
            case "relay" -> false;
            default -> throw new IllegalArgumentException("mode is relay or http, not " + args[0]);
        };
        InetSocketAddress upstream = new InetSocketAddress("127.0.0.1", Integer.parseInt(args[2]));
        Loop[] loops = new Loop[Integer.parseInt(args[3])];
        for (int i = 0; i < loops.length; i++) {
            loops[i] = new Loop(upstream, http);
            loops[i].start();
        }
        try (ServerSocketChannel server = ServerSocketChannel.open()) {
            server.bind(new InetSocketAddress("127.0.0.1", Integer.parseInt(args[1])), 4096);
            for (int next = 0; ; next = (next + 1) % loops.length) {
                loops[next].adopt(server.accept());
            }
        }
    }

    /** What a selection key carries: the connection's own handler. */
    interface Readable {
        void readable();
    }

    /** One selector thread; in http mode, with its own pool of idle upstream connections. */
    private static final class Loop extends Thread {
        private final InetSocketAddress upstream;
        private final String upstreamHost;
        private final boolean http;
        private final Selector selector = Selector.open();
        private final Queue<SocketChannel> accepted = new ConcurrentLinkedQueue<>();
        private final ArrayDeque<Upstream> idle = new ArrayDeque<>();
        private final ByteBuffer relayBuffer = ByteBuffer.allocateDirect(64 * 1024);

        Loop(InetSocketAddress upstream, boolean http) throws IOException {
            super("floor");
            this.upstream = upstream;
            this.upstreamHost = upstream.getHostString() + ":" + upstream.getPort();
            this.http = http;
            setDaemon(true);
        }

        void adopt(SocketChannel client) {
            accepted.add(client);
            selector.wakeup();
        }

        @Override
        public void run() {
            try {
                while (true) {
                    selector.select();
                    SocketChannel channel;
                    while ((channel = accepted.poll()) != null) accept(channel);
                    for (Iterator<SelectionKey> keys = selector.selectedKeys().iterator(); keys.hasNext(); ) {
                        SelectionKey key = keys.next();
                        keys.remove();
                        ((Readable) key.attachment()).readable();
                    }
                }
            } catch (IOException e) {
                throw new UncheckedIOException(e);
            }
        }

        private void accept(SocketChannel channel) throws IOException {
            SocketChannel client = nonBlocking(channel);
            if (http) {
                Client handler = new Client(this, client);
                handler.key = client.register(selector, SelectionKey.OP_READ, handler);
                return;
            }
            try {
                SocketChannel server = nonBlocking(SocketChannel.open(upstream));
                client.register(selector, SelectionKey.OP_READ, new Relay(this, client, server));
                server.register(selector, SelectionKey.OP_READ, new Relay(this, server, client));
            } catch (IOException e) {
                client.close();
            }
        }

        Upstream checkout() throws IOException {
            Upstream connection = idle.pollLast();
            if (connection != null) return connection;
            SocketChannel channel = nonBlocking(SocketChannel.open(upstream));
            connection = new Upstream(this, channel);
            connection.key = channel.register(selector, SelectionKey.OP_READ, connection);
            return connection;
        }

        void release(Upstream connection) {
            connection.client = null;
            idle.addLast(connection);
        }

        private static SocketChannel nonBlocking(SocketChannel channel) throws IOException {
            channel.setOption(StandardSocketOptions.TCP_NODELAY, true);
            channel.configureBlocking(false);
            return channel;
        }
    }

    /** relay mode: one direction of a connection pair; a read is written straight to the other side. */
    private record Relay(Loop loop, SocketChannel from, SocketChannel to) implements Readable {
        @Override
        public void readable() {
            ByteBuffer buffer = loop.relayBuffer;
            try {
                buffer.clear();
                if (from.read(buffer) < 0) {
                    closeBoth();
                    return;
                }
                buffer.flip();
                // A small answer fits the socket buffer in one write; a full one blocks the loop
                // briefly, which a floor measurement with 1 KB bodies never meets.
                while (buffer.hasRemaining()) to.write(buffer);
            } catch (IOException e) {
                closeBoth();
            }
        }

        private void closeBoth() {
            close(from);
            close(to);
        }
    }

    /** http mode: a message head, parsed. */
    record Head(String startLine, List<String> names, List<String> values) {
        String get(String name) {
            for (int i = 0; i < names.size(); i++) {
                if (names.get(i).equalsIgnoreCase(name)) return values.get(i);
            }
            return null;
        }

        /** The head to send on: the given start line and host, this head's end-to-end fields. */
        ByteBuffer rewrite(String firstLine, String host, long contentLength) {
            StringBuilder out = new StringBuilder(256).append(firstLine).append("\r\n");
            if (host != null) out.append("Host: ").append(host).append("\r\n");
            for (int i = 0; i < names.size(); i++) {
                if (NOT_FORWARDED.contains(names.get(i).toLowerCase(Locale.ROOT))) continue;
                out.append(names.get(i)).append(": ").append(values.get(i)).append("\r\n");
            }
            if (contentLength >= 0) out.append("Content-Length: ").append(contentLength).append("\r\n");
            return ByteBuffer.wrap(out.append("\r\n").toString().getBytes(StandardCharsets.ISO_8859_1));
        }

        /** Parses {@code buffer[0, end)}, the head without its blank line. */
        static Head parse(byte[] buffer, int end) {
            String text = new String(buffer, 0, end, StandardCharsets.ISO_8859_1);
            int lineEnd = text.indexOf("\r\n");
            String startLine = lineEnd < 0 ? text : text.substring(0, lineEnd);
            List<String> names = new ArrayList<>(12);
            List<String> values = new ArrayList<>(12);
            int at = lineEnd < 0 ? text.length() : lineEnd + 2;
            while (at < text.length()) {
                int next = text.indexOf("\r\n", at);
                if (next < 0) next = text.length();
                int colon = text.indexOf(':', at);
                if (colon > at && colon < next) {
                    names.add(text.substring(at, colon));
                    values.add(text.substring(colon + 1, next).strip());
                }
                at = next + 2;
            }
            return new Head(startLine, names, values);
        }
    }

    /** A client connection: reads a head, forwards it, waits for the answer, reads the next. */
    private static final class Client implements Readable {
        final Loop loop;
        final SocketChannel channel;
        final ByteBuffer in = ByteBuffer.allocate(16 * 1024);
        SelectionKey key;
        boolean busy;

        Client(Loop loop, SocketChannel channel) {
            this.loop = loop;
            this.channel = channel;
        }

        @Override
        public void readable() {
            try {
                if (!in.hasRemaining()) {
                    key.interestOps(0); // a full buffer while busy: wait for the answer to go out
                    return;
                }
                if (channel.read(in) < 0) {
                    close();
                    return;
                }
                if (!busy) next();
            } catch (IOException e) {
                close();
            }
        }

        /** Starts the next request in {@code in}, if a whole head is there. */
        void next() throws IOException {
            int end = indexOf(in.array(), in.position(), HEAD_END);
            if (end < 0) {
                if (!in.hasRemaining()) answer(431, "request head too large");
                return;
            }
            Head head = Head.parse(in.array(), end);
            int consumed = end + HEAD_END.length;
            in.flip().position(consumed);
            in.compact();
            String length = head.get("content-length");
            if (head.get("transfer-encoding") != null || (length != null && !length.equals("0"))) {
                answer(501, "this floor measurement forwards bodyless requests only");
                return;
            }
            String[] parts = head.startLine().split(" ", 3);
            Upstream upstream = loop.checkout();
            busy = true;
            upstream.client = this;
            upstream.send(head.rewrite(parts[0] + " " + parts[1] + " HTTP/1.1", loop.upstreamHost, -1));
        }

        void write(ByteBuffer... buffers) throws IOException {
            long left = 0;
            for (ByteBuffer buffer : buffers) left += buffer.remaining();
            while (left > 0) left -= channel.write(buffers);
        }

        /** The answer is out: take the next request, already read or still to come. */
        void done() throws IOException {
            busy = false;
            if (key.interestOps() == 0) key.interestOps(SelectionKey.OP_READ);
            if (in.position() > 0) next();
        }

        void answer(int status, String message) throws IOException {
            byte[] body = (message + "\n").getBytes(StandardCharsets.UTF_8);
            write(ByteBuffer.wrap(("HTTP/1.1 " + status + " \r\nContent-Length: " + body.length + "\r\nConnection: close\r\n\r\n")
                            .getBytes(StandardCharsets.ISO_8859_1)),
                    ByteBuffer.wrap(body));
            close();
        }

        void close() {
            Floor.close(channel);
        }
    }

    /** A keep-alive upstream connection, registered for reads for as long as it is open. */
    private static final class Upstream implements Readable {
        final Loop loop;
        final SocketChannel channel;
        final ByteBuffer in = ByteBuffer.allocateDirect(16 * 1024);
        final byte[] head = new byte[16 * 1024];
        SelectionKey key;
        Client client;
        int headBytes;
        long bodyLeft = -1;

        Upstream(Loop loop, SocketChannel channel) {
            this.loop = loop;
            this.channel = channel;
        }

        void send(ByteBuffer request) throws IOException {
            headBytes = 0;
            bodyLeft = -1;
            while (request.hasRemaining()) channel.write(request);
        }

        @Override
        public void readable() {
            try {
                in.clear();
                int n = channel.read(in);
                if (client == null || n < 0) {
                    // Idle and readable: the upstream closed it (or broke framing). Forget it.
                    fail();
                    return;
                }
                in.flip();
                if (bodyLeft < 0) {
                    int take = Math.min(in.remaining(), head.length - headBytes);
                    in.get(head, headBytes, take);
                    int from = Math.max(0, headBytes - 3);
                    headBytes += take;
                    int end = indexOf(head, headBytes, HEAD_END, from);
                    if (end < 0) {
                        if (headBytes == head.length) fail();
                        return;
                    }
                    Head answer = Head.parse(head, end);
                    String length = answer.get("content-length");
                    if (length == null) {
                        fail();
                        return;
                    }
                    bodyLeft = Long.parseLong(length.trim());
                    ByteBuffer body = ByteBuffer.wrap(head, end + HEAD_END.length, headBytes - end - HEAD_END.length);
                    // Whatever did not fit the head buffer is still in `in`: body too.
                    bodyLeft -= body.remaining() + in.remaining();
                    client.write(answer.rewrite(answer.startLine(), null, Long.parseLong(length.trim())), body, in);
                } else {
                    bodyLeft -= in.remaining();
                    client.write(in);
                }
                if (bodyLeft <= 0) {
                    Client done = client;
                    loop.release(this);
                    done.done();
                }
            } catch (IOException | RuntimeException e) {
                fail();
            }
        }

        private void fail() {
            loop.idle.remove(this);
            if (client != null) client.close();
            close(channel);
        }
    }

    static void close(SocketChannel channel) {
        try {
            channel.close();
        } catch (IOException ignored) {
            // closing: nothing left to tell
        }
    }

    static int indexOf(byte[] buffer, int end, byte[] needle) {
        return indexOf(buffer, end, needle, 0);
    }

    /** The index of needle in {@code buffer[from, end)}, or -1. */
    static int indexOf(byte[] buffer, int end, byte[] needle, int from) {
        outer:
        for (int i = from; i <= end - needle.length; i++) {
            for (int j = 0; j < needle.length; j++) {
                if (buffer[i + j] != needle[j]) continue outer;
            }
            return i;
        }
        return -1;
    }
}
