import java.io.IOException;
import java.net.InetSocketAddress;
import java.net.StandardSocketOptions;
import java.nio.ByteBuffer;
import java.nio.channels.SelectionKey;
import java.nio.channels.Selector;
import java.nio.channels.ServerSocketChannel;
import java.nio.channels.SocketChannel;
import java.util.Iterator;
import java.util.Queue;
import java.util.concurrent.ConcurrentLinkedQueue;

/**
 * The bench's floor for a JVM proxy: bytes relayed between each client connection and an upstream
 * connection of its own, on plain NIO selectors, with no HTTP in between — one read and one write
 * per direction, as few system calls as a proxy can make. What a real proxy spends above this is its
 * HTTP layer's; what this spends is the kernel's and the JDK selector's.
 *
 * <p>Run by bench.py in section (f): {@code java TcpRelay.java LISTEN_PORT UPSTREAM_PORT THREADS}.
 */
public final class TcpRelay {
    public static void main(String[] args) throws IOException {
        InetSocketAddress upstream = new InetSocketAddress("127.0.0.1", Integer.parseInt(args[1]));
        Loop[] loops = new Loop[Integer.parseInt(args[2])];
        for (int i = 0; i < loops.length; i++) {
            loops[i] = new Loop(upstream);
            loops[i].start();
        }
        try (ServerSocketChannel server = ServerSocketChannel.open()) {
            server.bind(new InetSocketAddress("127.0.0.1", Integer.parseInt(args[0])), 4096);
            for (int next = 0; ; next = (next + 1) % loops.length) {
                loops[next].adopt(server.accept());
            }
        }
    }

    /** One selector thread; each connection's key carries its partner, and a read is written straight to it. */
    private static final class Loop extends Thread {
        private final InetSocketAddress upstream;
        private final Selector selector = Selector.open();
        private final Queue<SocketChannel> accepted = new ConcurrentLinkedQueue<>();
        private final ByteBuffer buffer = ByteBuffer.allocateDirect(64 * 1024);

        Loop(InetSocketAddress upstream) throws IOException {
            super("relay");
            this.upstream = upstream;
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
                    SocketChannel client;
                    while ((client = accepted.poll()) != null) pair(client);
                    for (Iterator<SelectionKey> keys = selector.selectedKeys().iterator(); keys.hasNext(); ) {
                        SelectionKey key = keys.next();
                        keys.remove();
                        relay((SocketChannel) key.channel(), (SocketChannel) key.attachment());
                    }
                }
            } catch (IOException e) {
                throw new java.io.UncheckedIOException(e);
            }
        }

        private void pair(SocketChannel client) {
            try {
                SocketChannel server = SocketChannel.open(upstream);
                for (SocketChannel channel : new SocketChannel[] {client, server}) {
                    channel.setOption(StandardSocketOptions.TCP_NODELAY, true);
                    channel.configureBlocking(false);
                }
                client.register(selector, SelectionKey.OP_READ, server);
                server.register(selector, SelectionKey.OP_READ, client);
            } catch (IOException e) {
                close(client, null);
            }
        }

        private void relay(SocketChannel from, SocketChannel to) {
            try {
                buffer.clear();
                if (from.read(buffer) < 0) {
                    close(from, to);
                    return;
                }
                buffer.flip();
                // A small answer fits the socket buffer in one write; a full one blocks the loop
                // briefly, which a floor measurement with 1 KB bodies never meets.
                while (buffer.hasRemaining()) to.write(buffer);
            } catch (IOException e) {
                close(from, to);
            }
        }

        private static void close(SocketChannel a, SocketChannel b) {
            for (SocketChannel channel : new SocketChannel[] {a, b}) {
                try {
                    if (channel != null) channel.close();
                } catch (IOException ignored) {
                    // closing: nothing left to tell
                }
            }
        }
    }
}
