package io.sluice.send;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.sluice.testing.SluiceServerExtension;
import io.sluice.testing.TestHttp;
import io.sluice.testing.TlsOrigin;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import mockwebserver3.Dispatcher;
import mockwebserver3.MockResponse;
import mockwebserver3.MockWebServer;
import mockwebserver3.RecordedRequest;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.api.io.TempDir;

/**
 * A burst of requests to a TLS upstream with no idle connection opens a few connections, not one
 * per request: the rest wait for a connection to come free or for an opening to end. Through a
 * whole Sluice, with a real TLS origin behind a gate that holds every new connection's handshake.
 */
class UpstreamOpeningsTest {
    private static final String TOKEN = "openings-test-token";

    @RegisterExtension
    final SluiceServerExtension sluice = new SluiceServerExtension();

    @TempDir
    Path dir;

    private final TlsOrigin origin = new TlsOrigin();
    private final MockWebServer upstream = new MockWebServer();
    private final List<AutoCloseable> closing = new ArrayList<>();

    @AfterEach
    void stop() throws Exception {
        for (AutoCloseable c : closing) c.close();
        upstream.close();
    }

    @Test
    void aBurstToATlsUpstreamOpensAtMostTheBoundOfConnectionsAtOnceAndEveryRequestIsAnswered() throws Exception {
        upstream.setDispatcher(new Dispatcher() {
            @Override
            public MockResponse dispatch(RecordedRequest request) {
                return new MockResponse.Builder()
                        .code(200)
                        .body("ok " + request.getUrl().query())
                        .build();
            }
        });
        origin.start(upstream);
        Gate gate = new Gate(upstream.getPort());
        closing.add(gate);
        Path ca = origin.writeCa(dir);
        // One IO thread: one pool, so the bound is the whole story.
        var running = sluice.start("""
                admin: {token: "%s"}
                server: {io_threads: 1}
                tls: {ca_dir: "%s", ca_file: "%s"}
                upstreams:
                  origin:
                    base_url: https://localhost:%d
                    allow_private: true
                    max_concurrency: 100
                    retry: {max_attempts: 1}
                    timeouts: {connect: 30s}
                """.formatted(TOKEN, dir.resolve("ca"), ca, gate.port()));

        int burst = 3 * Http1Transport.MAX_OPENING_PER_DESTINATION;
        List<CompletableFuture<HttpResponse<String>>> calls = sendAtOnce(running, burst);
        // Every request is past admission (in flight), and the gate holds the handshakes of those
        // opening a connection: no more than the bound were opened.
        await().atMost(Duration.ofSeconds(20))
                .until(() ->
                        inFlight(running) == burst && gate.accepted() == Http1Transport.MAX_OPENING_PER_DESTINATION);
        assertThat(gate.accepted()).isEqualTo(Http1Transport.MAX_OPENING_PER_DESTINATION);

        gate.open();
        assertEachAnswered(calls);
        assertThat(gate.accepted()).isBetween(Http1Transport.MAX_OPENING_PER_DESTINATION, burst);
    }

    @Test
    void requestsHeldByASlowTlsUpstreamEachGetAConnectionOfTheirOwnOpenedAFewAtATime() throws Exception {
        // Nothing is answered until every request has arrived: had the waiting requests waited for a
        // connection to come free, only the first few would ever arrive.
        CountDownLatch answer = new CountDownLatch(1);
        AtomicInteger arrived = new AtomicInteger();
        upstream.setDispatcher(new Dispatcher() {
            @Override
            public MockResponse dispatch(RecordedRequest request) throws InterruptedException {
                arrived.incrementAndGet();
                answer.await(60, TimeUnit.SECONDS);
                return new MockResponse.Builder()
                        .code(200)
                        .body("ok " + request.getUrl().query())
                        .build();
            }
        });
        origin.start(upstream);
        Path ca = origin.writeCa(dir);
        var running = sluice.start("""
                server: {io_threads: 1}
                tls: {ca_dir: "%s", ca_file: "%s"}
                upstreams:
                  origin:
                    base_url: https://localhost:%d
                    allow_private: true
                    retry: {max_attempts: 1}
                """.formatted(dir.resolve("ca"), ca, upstream.getPort()));

        int burst = 3 * Http1Transport.MAX_OPENING_PER_DESTINATION;
        List<CompletableFuture<HttpResponse<String>>> calls = sendAtOnce(running, burst);
        await().atMost(Duration.ofSeconds(20)).until(() -> arrived.get() == burst);
        answer.countDown();
        assertEachAnswered(calls);
    }

    /** {@code count} GETs to the upstream at once, each with its own query {@code n=i}. */
    private static List<CompletableFuture<HttpResponse<String>>> sendAtOnce(
            SluiceServerExtension.Running running, int count) {
        HttpClient client = HttpClient.newHttpClient();
        List<CompletableFuture<HttpResponse<String>>> calls = new ArrayList<>();
        for (int i = 0; i < count; i++) {
            calls.add(client.sendAsync(
                    HttpRequest.newBuilder(running.data("/origin/item?n=" + i)).build(),
                    HttpResponse.BodyHandlers.ofString()));
        }
        return calls;
    }

    /** Each call got its own answer from the upstream. */
    private static void assertEachAnswered(List<CompletableFuture<HttpResponse<String>>> calls) throws Exception {
        for (int i = 0; i < calls.size(); i++) {
            HttpResponse<String> response = calls.get(i).get(30, TimeUnit.SECONDS);
            assertThat(response.statusCode()).as(response.body()).isEqualTo(200);
            assertThat(response.body()).isEqualTo("ok n=" + i);
        }
    }

    private static int inFlight(SluiceServerExtension.Running running) {
        HttpResponse<String> answer = TestHttp.send(HttpRequest.newBuilder(running.admin("/api/upstreams/origin"))
                .header("Authorization", "Bearer " + TOKEN)
                .build());
        try {
            return TestHttp.JSON.readTree(answer.body()).at("/live/in_flight").asInt();
        } catch (IOException e) {
            throw new IllegalStateException(answer.body(), e);
        }
    }

    /**
     * A TCP relay to the origin that accepts connections at once but passes no byte of them until
     * {@link #open}: a TLS handshake through it waits, as one to a slow origin does.
     */
    private static final class Gate implements AutoCloseable {
        private final ServerSocket server = new ServerSocket(0, 50, InetAddress.getLoopbackAddress());
        private final AtomicInteger accepted = new AtomicInteger();
        private final CountDownLatch open = new CountDownLatch(1);
        private final List<Socket> sockets = new CopyOnWriteArrayList<>();

        Gate(int originPort) throws IOException {
            Thread.ofPlatform().daemon().start(() -> {
                while (!server.isClosed()) {
                    try {
                        Socket client = server.accept();
                        accepted.incrementAndGet();
                        sockets.add(client);
                        Thread.ofPlatform().daemon().start(() -> relay(client, originPort));
                    } catch (IOException closed) {
                        return;
                    }
                }
            });
        }

        private void relay(Socket client, int originPort) {
            try {
                // Bounded, so a failed test cannot leave a thread waiting forever.
                if (!open.await(60, TimeUnit.SECONDS)) return;
                Socket toOrigin = new Socket(InetAddress.getLoopbackAddress(), originPort);
                sockets.add(toOrigin);
                Thread.ofPlatform().daemon().start(() -> pipe(toOrigin, client));
                pipe(client, toOrigin);
            } catch (IOException | InterruptedException e) {
                // The test is over or a side closed: nothing to relay any more.
            }
        }

        private static void pipe(Socket from, Socket to) {
            try (InputStream in = from.getInputStream();
                    OutputStream out = to.getOutputStream()) {
                in.transferTo(out);
            } catch (IOException closed) {
                // One side closed.
            }
        }

        int port() {
            return server.getLocalPort();
        }

        int accepted() {
            return accepted.get();
        }

        void open() {
            open.countDown();
        }

        @Override
        public void close() throws IOException {
            open.countDown();
            server.close();
            for (Socket s : sockets) s.close();
        }
    }
}
