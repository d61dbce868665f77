package io.sluice.send;

import static org.assertj.core.api.Assertions.assertThat;

import io.sluice.testing.SluiceServerExtension;
import io.sluice.testing.TestHttp;
import io.sluice.testing.Upstream;
import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import mockwebserver3.MockWebServer;
import mockwebserver3.RecordedRequest;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * The cleartext transport through a whole Sluice: keep-alive reuse, the stale pooled connection,
 * and the HTTP/1.1 response without framing that Undertow's client cannot read.
 */
class Http1TransportTest {
    @RegisterExtension
    final SluiceServerExtension sluice = new SluiceServerExtension();

    private final MockWebServer upstream = Upstream.start();
    private final List<AutoCloseable> servers = new ArrayList<>();

    @AfterEach
    void stop() throws Exception {
        upstream.close();
        for (AutoCloseable server : servers) server.close();
    }

    private SluiceServerExtension.Running startWith(String origin, String retry) {
        return sluice.start("""
                upstreams:
                  local:
                    base_url: %s
                    allow_private: true
                    retry: %s
                """.formatted(origin, retry));
    }

    @Test
    void sequentialRequestsShareOneKeptAliveUpstreamConnection() throws Exception {
        var running = startWith(Upstream.origin(upstream), "{max_attempts: 1}");
        for (int i = 0; i < 5; i++) upstream.enqueue(Upstream.ok("text/plain", "n" + i));

        for (int i = 0; i < 5; i++) {
            HttpResponse<String> response = TestHttp.get(running.data("/local/item?i=" + i));
            assertThat(response.statusCode()).isEqualTo(200);
            assertThat(response.body()).isEqualTo("n" + i);
        }

        List<Integer> connections = new ArrayList<>();
        List<Integer> exchanges = new ArrayList<>();
        for (int i = 0; i < 5; i++) {
            RecordedRequest seen = upstream.takeRequest(5, TimeUnit.SECONDS);
            connections.add(seen.getConnectionIndex());
            exchanges.add(seen.getExchangeIndex());
        }
        assertThat(connections).containsOnly(connections.get(0));
        assertThat(exchanges).containsExactly(0, 1, 2, 3, 4);
    }

    @Test
    void idempotentRequestIsSentAgainWhenItsPooledConnectionTurnsOutClosed() throws Exception {
        // The first connection answers one request, then drops the next one unanswered, as a server
        // does when its keep-alive timeout races a new request. Later connections answer normally.
        var server = new ScriptedServer(1);
        var running = startWith(server.origin(), "{max_attempts: 1}");

        HttpResponse<String> first = TestHttp.get(running.data("/local/a"));
        HttpResponse<String> second = TestHttp.get(running.data("/local/b"));

        assertThat(first.statusCode()).isEqualTo(200);
        assertThat(first.body()).isEqualTo("/a");
        assertThat(second.body()).isEqualTo("/b");
        assertThat(second.statusCode()).isEqualTo(200);
        assertThat(second.body()).isEqualTo("/b");
        assertThat(server.connections.get()).isEqualTo(2);
        assertThat(server.answered).containsExactly("GET /a", "GET /b");
    }

    @Test
    void postIsNotSentAgainOnAStaleConnectionWithoutAnIdempotencyKey() throws Exception {
        var server = new ScriptedServer(1);
        var running = startWith(server.origin(), "{max_attempts: 1}");
        assertThat(TestHttp.get(running.data("/local/a")).statusCode()).isEqualTo(200);

        HttpResponse<String> post = TestHttp.send(HttpRequest.newBuilder(running.data("/local/orders"))
                .POST(HttpRequest.BodyPublishers.ofString("{}"))
                .build());

        assertThat(post.statusCode()).isEqualTo(502);
        assertThat(post.body()).contains("upstream_reset");
        assertThat(server.connections.get()).isEqualTo(1);
        assertThat(server.answered).containsExactly("GET /a");
    }

    @Test
    void closeDelimitedBodyIsServedThroughTheJdkClientForThatRequestOnly() throws Exception {
        // RFC 9112 §6.3: no Content-Length, not chunked, so the body runs until the connection closes.
        var server = new CloseDelimitedServer("the whole body");
        var running = startWith(server.origin(), "{max_attempts: 2, base_delay: 1ms}");

        HttpResponse<String> first = TestHttp.get(running.data("/local/legacy"));
        HttpResponse<String> second = TestHttp.get(running.data("/local/legacy"));

        assertThat(first.statusCode()).isEqualTo(200);
        assertThat(first.body()).isEqualTo("the whole body");
        assertThat(second.body()).isEqualTo("the whole body");
        // Each request was refused on the cleartext transport and sent once more over java.net.http:
        // nothing about the origin is remembered, so the second request tried Undertow's client again.
        assertThat(server.requests.get()).isEqualTo(4);
    }

    /** Answers {@code answeredOnFirst} requests on its first connection, then closes it on the next. */
    private final class ScriptedServer implements AutoCloseable {
        final AtomicInteger connections = new AtomicInteger();
        final List<String> answered = new CopyOnWriteArrayList<>();
        private final ServerSocket socket;

        ScriptedServer(int answeredOnFirst) throws IOException {
            socket = new ServerSocket(0, 50, InetAddress.getLoopbackAddress());
            servers.add(this);
            Thread.ofVirtual().start(() -> {
                while (!socket.isClosed()) {
                    try {
                        Socket client = socket.accept();
                        int index = connections.getAndIncrement();
                        Thread.ofVirtual().start(() -> serve(client, index == 0 ? answeredOnFirst : Integer.MAX_VALUE));
                    } catch (IOException closed) {
                        return;
                    }
                }
            });
        }

        String origin() {
            return "http://127.0.0.1:" + socket.getLocalPort();
        }

        private void serve(Socket client, int answer) {
            try (client) {
                var in =
                        new BufferedReader(new InputStreamReader(client.getInputStream(), StandardCharsets.ISO_8859_1));
                OutputStream out = client.getOutputStream();
                for (int n = 0; ; n++) {
                    String requestLine = in.readLine();
                    if (requestLine == null) return;
                    long length = 0;
                    for (String line = in.readLine(); line != null && !line.isEmpty(); line = in.readLine()) {
                        if (line.toLowerCase().startsWith("content-length:"))
                            length = Long.parseLong(line.substring(15).trim());
                    }
                    for (long i = 0; i < length; i++) in.read();
                    if (n >= answer) return; // drop the connection with the request unanswered
                    String[] parts = requestLine.split(" ");
                    answered.add(parts[0] + " " + parts[1]);
                    byte[] body = parts[1].getBytes(StandardCharsets.US_ASCII);
                    out.write(("HTTP/1.1 200 OK\r\nContent-Length: " + body.length + "\r\n\r\n")
                            .getBytes(StandardCharsets.US_ASCII));
                    out.write(body);
                    out.flush();
                }
            } catch (IOException e) {
                // the test's assertions say what mattered
            }
        }

        @Override
        public void close() throws IOException {
            socket.close();
        }
    }

    /** Answers every request with an HTTP/1.1 body that ends only when the connection closes. */
    private final class CloseDelimitedServer implements AutoCloseable {
        final AtomicInteger requests = new AtomicInteger();
        private final ServerSocket socket;

        CloseDelimitedServer(String body) throws IOException {
            socket = new ServerSocket(0, 50, InetAddress.getLoopbackAddress());
            servers.add(this);
            Thread.ofVirtual().start(() -> {
                while (!socket.isClosed()) {
                    try (Socket client = socket.accept()) {
                        var in = new BufferedReader(
                                new InputStreamReader(client.getInputStream(), StandardCharsets.ISO_8859_1));
                        for (String line = in.readLine(); line != null && !line.isEmpty(); line = in.readLine()) {}
                        requests.incrementAndGet();
                        OutputStream out = client.getOutputStream();
                        out.write(("HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nConnection: close\r\n\r\n" + body)
                                .getBytes(StandardCharsets.US_ASCII));
                        out.flush();
                    } catch (IOException e) {
                        if (socket.isClosed()) return;
                    }
                }
            });
        }

        String origin() {
            return "http://127.0.0.1:" + socket.getLocalPort();
        }

        @Override
        public void close() throws IOException {
            socket.close();
        }
    }
}
