package io.sluice.testing;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.net.InetAddress;
import java.net.Socket;
import java.net.SocketTimeoutException;
import java.nio.charset.StandardCharsets;

/** Raw-socket requests to Sluice: bytes as written, the answer as received until the close. */
public final class RawClient {
    private RawClient() {}

    /** Sends {@code request} to {@code port} on loopback and reads until Sluice closes the connection. */
    public static String exchange(int port, String request) throws IOException {
        try (Socket client = connect(port)) {
            client.getOutputStream().write(request.getBytes(StandardCharsets.ISO_8859_1));
            client.getOutputStream().flush();
            return readToClose(client);
        }
    }

    public static Socket connect(int port) throws IOException {
        Socket client = new Socket(InetAddress.getLoopbackAddress(), port);
        // A bound on each read, not a wait for behaviour: a connection left open fails the test.
        client.setSoTimeout(5_000);
        return client;
    }

    public static String readToClose(Socket client) throws IOException {
        ByteArrayOutputStream all = new ByteArrayOutputStream();
        InputStream in = client.getInputStream();
        byte[] buf = new byte[8192];
        try {
            for (int n; (n = in.read(buf)) >= 0; ) all.write(buf, 0, n);
        } catch (SocketTimeoutException e) {
            throw new AssertionError("connection still open after: " + all.toString(StandardCharsets.ISO_8859_1));
        }
        return all.toString(StandardCharsets.ISO_8859_1);
    }
}
