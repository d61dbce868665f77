package io.sluice.testing;

import java.io.IOException;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.locks.LockSupport;
import java.util.function.Supplier;

/** Loopback ports for programs a test starts as processes of their own (redis-server, nginx). */
public final class LocalPorts {
    private LocalPorts() {}

    /** A port free on 127.0.0.1 now, for a program that cannot be told to take port 0. */
    public static int free() throws IOException {
        try (ServerSocket socket = new ServerSocket(0)) {
            return socket.getLocalPort();
        }
    }

    /**
     * Waits (bounded, 10 s) until {@code process} accepts connections on {@code port}: a separate process
     * starting up. Fails with {@code why} (its log, say) if it exits or does not listen in time.
     */
    public static void awaitListening(Process process, int port, Supplier<String> why) throws IOException {
        long giveUpAt = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
        while (true) {
            try (Socket socket = new Socket()) {
                socket.connect(new InetSocketAddress("127.0.0.1", port), 200);
                return;
            } catch (IOException notYet) {
                if (!process.isAlive() || System.nanoTime() > giveUpAt) {
                    throw new IOException(why.get() + " (port " + port + ")", notYet);
                }
                LockSupport.parkNanos(TimeUnit.MILLISECONDS.toNanos(10));
            }
        }
    }
}
