package io.sluice.testing;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.ServerSocket;
import mockwebserver3.MockResponse;
import mockwebserver3.MockWebServer;

/** Small helpers for fake upstreams. */
public final class Upstream {
    private Upstream() {}

    /** A MockWebServer started on loopback port 0. */
    public static MockWebServer start() {
        MockWebServer server = new MockWebServer();
        try {
            server.start(java.net.InetAddress.getLoopbackAddress(), 0);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        return server;
    }

    public static MockResponse ok(String contentType, String body) {
        return new MockResponse.Builder()
                .code(200)
                .addHeader("Content-Type", contentType)
                .body(body)
                .build();
    }

    /** A loopback port with nothing listening on it. */
    public static int closedPort() {
        try (ServerSocket socket = new ServerSocket(0, 1, java.net.InetAddress.getLoopbackAddress())) {
            return socket.getLocalPort();
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /**
     * A server that reads the start of each request and then aborts the connection with a TCP
     * reset (SO_LINGER 0), as a crashing upstream or a middlebox would.
     */
    public static ServerSocket resetting() {
        try {
            ServerSocket server = new ServerSocket(0, 50, java.net.InetAddress.getLoopbackAddress());
            Thread thread = new Thread(
                    () -> {
                        while (!server.isClosed()) {
                            try (java.net.Socket socket = server.accept()) {
                                socket.getInputStream().read(new byte[1024]);
                                socket.setSoLinger(true, 0);
                            } catch (IOException e) {
                                // closed, or the client went away first
                            }
                        }
                    },
                    "resetting-upstream");
            thread.setDaemon(true);
            thread.start();
            return server;
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /** {@code http://127.0.0.1:PORT} of a MockWebServer. */
    public static String origin(MockWebServer server) {
        return "http://127.0.0.1:" + server.getPort();
    }
}
