package io.sluice.server;

import static org.assertj.core.api.Assertions.assertThat;

import io.sluice.testing.SluiceProcess;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.Test;

/**
 * Bodies stream through Sluice both ways: a 1 GiB download and a 256 MiB upload pass through a
 * Sluice process whose heap is capped at 64 MiB, which could hold neither.
 */
class LargeBodyTest {
    private static final long GIB = 1L << 30;

    @Test
    void oneGigabyteDownloadAndLargeUploadStreamThroughA64MegabyteHeap() throws Exception {
        AtomicLong uploaded = new AtomicLong();
        try (ServerSocket upstream = new ServerSocket(0, 50, InetAddress.getLoopbackAddress())) {
            Thread server = new Thread(() -> serve(upstream, uploaded), "bulk-upstream");
            server.setDaemon(true);
            server.start();
            try (SluiceProcess sluice = SluiceProcess.start(
                    """
                    defaults: {timeouts: {total: 5m, response: 1m}}
                    upstreams:
                      bulk: {base_url: "http://127.0.0.1:%d", allow_private: true}
                    """.formatted(upstream.getLocalPort()), List.of("-Xmx64m", "-XX:+UseSerialGC"))) {
                HttpClient client = HttpClient.newBuilder()
                        .version(HttpClient.Version.HTTP_1_1)
                        .build();
                URI base = URI.create("http://127.0.0.1:" + sluice.dataPort() + "/bulk/");

                HttpResponse<InputStream> download = client.send(
                        HttpRequest.newBuilder(base.resolve("download")).build(),
                        HttpResponse.BodyHandlers.ofInputStream());
                assertThat(download.statusCode()).isEqualTo(200);
                long received = 0;
                byte[] buffer = new byte[1 << 16];
                try (InputStream in = download.body()) {
                    for (int n; (n = in.read(buffer)) >= 0; ) received += n;
                }
                assertThat(received).isEqualTo(GIB);

                long uploadSize = 256L << 20;
                HttpResponse<String> upload = client.send(
                        HttpRequest.newBuilder(base.resolve("upload"))
                                .POST(HttpRequest.BodyPublishers.fromPublisher(
                                        HttpRequest.BodyPublishers.ofInputStream(() -> new ZeroStream(uploadSize)),
                                        uploadSize))
                                .build(),
                        HttpResponse.BodyHandlers.ofString());
                assertThat(upload.statusCode()).isEqualTo(200);
                assertThat(upload.body()).isEqualTo(Long.toString(uploadSize));
                assertThat(uploaded.get()).isEqualTo(uploadSize);
                assertThat(sluice.isAlive()).isTrue();
            }
        }
    }

    /** A minimal HTTP/1.1 upstream: GET streams 1 GiB of zeros, POST counts what it receives. */
    private static void serve(ServerSocket listener, AtomicLong uploaded) {
        while (!listener.isClosed()) {
            try (Socket socket = listener.accept()) {
                InputStream in = socket.getInputStream();
                String head = readHead(in);
                OutputStream out = socket.getOutputStream();
                if (head.startsWith("GET")) {
                    out.write(("HTTP/1.1 200 OK\r\nContent-Type: application/octet-stream\r\nContent-Length: " + GIB
                                    + "\r\nConnection: close\r\n\r\n")
                            .getBytes(StandardCharsets.US_ASCII));
                    byte[] chunk = new byte[1 << 16];
                    for (long sent = 0; sent < GIB; sent += chunk.length) out.write(chunk);
                } else {
                    long length = Long.parseLong(head.lines()
                            .filter(l -> l.toLowerCase().startsWith("content-length:"))
                            .findFirst()
                            .orElseThrow()
                            .substring(15)
                            .trim());
                    byte[] buffer = new byte[1 << 16];
                    long total = 0;
                    while (total < length) {
                        int n = in.read(buffer, 0, (int) Math.min(buffer.length, length - total));
                        if (n < 0) break;
                        total += n;
                    }
                    uploaded.set(total);
                    byte[] body = Long.toString(total).getBytes(StandardCharsets.US_ASCII);
                    out.write(("HTTP/1.1 200 OK\r\nContent-Length: " + body.length + "\r\nConnection: close\r\n\r\n")
                            .getBytes(StandardCharsets.US_ASCII));
                    out.write(body);
                }
                out.flush();
            } catch (IOException e) {
                // the listener closed, or a client went away
            }
        }
    }

    private static String readHead(InputStream in) throws IOException {
        StringBuilder head = new StringBuilder();
        int c;
        while ((c = in.read()) >= 0) {
            head.append((char) c);
            if (head.length() >= 4 && head.substring(head.length() - 4).equals("\r\n\r\n")) break;
        }
        return head.toString();
    }

    /** {@code size} zero bytes, generated, never held. */
    private static final class ZeroStream extends InputStream {
        private long left;

        ZeroStream(long size) {
            this.left = size;
        }

        @Override
        public int read() {
            if (left <= 0) return -1;
            left--;
            return 0;
        }

        @Override
        public int read(byte[] b, int off, int len) {
            if (left <= 0) return -1;
            int n = (int) Math.min(len, left);
            java.util.Arrays.fill(b, off, off + n, (byte) 0);
            left -= n;
            return n;
        }
    }
}
