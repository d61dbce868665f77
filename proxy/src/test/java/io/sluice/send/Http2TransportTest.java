package io.sluice.send;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import io.sluice.testing.SluiceServerExtension;
import io.sluice.testing.TestHttp;
import io.sluice.testing.TlsOrigin;
import io.sluice.testing.Upstream;
import io.undertow.Undertow;
import io.undertow.UndertowOptions;
import io.undertow.server.HttpServerExchange;
import io.undertow.util.SameThreadExecutor;
import java.io.IOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.http.HttpResponse;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import java.util.stream.Collectors;
import java.util.stream.IntStream;
import mockwebserver3.MockWebServer;
import mockwebserver3.RecordedRequest;
import mockwebserver3.SocketEffect;
import okhttp3.Protocol;
import okhttp3.tls.HandshakeCertificates;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code tls.http2} upstreams over Undertow's HTTP/2 client, against real TLS origins on port 0: one
 * multiplexed connection per IO thread, streams held to the origin's {@code MAX_CONCURRENT_STREAMS},
 * repeatable requests sent again when their connection is lost, and HTTP/1.1 when ALPN says so.
 */
class Http2TransportTest {
    @RegisterExtension
    final SluiceServerExtension sluice = new SluiceServerExtension();

    @TempDir
    Path dir;

    private final TlsOrigin tls = new TlsOrigin();
    private final List<AutoCloseable> servers = new ArrayList<>();

    @AfterEach
    void stop() throws Exception {
        for (AutoCloseable server : servers) server.close();
    }

    @Test
    void concurrentRequestsShareOneConnectionPerIoThread() throws Exception {
        // Answered only once all eight are at the origin at once: they are in flight together.
        HeldOrigin origin = new HeldOrigin(8, 0);
        var running = sluice.start(config(origin.port(), 2));

        JsonNode responses = batch(running, origin.port(), 8);

        for (JsonNode response : responses)
            assertThat(response.get("status").asInt()).as(response.toString()).isEqualTo(200);
        assertThat(origin.protocols).containsOnly("HTTP/2.0");
        // Two IO threads: at most one connection each, however many requests.
        assertThat(origin.connections).hasSizeBetween(1, 2);
    }

    @Test
    void requestsPastTheOriginsStreamLimitWaitForAStreamAndAllSucceed() throws Exception {
        // The origin allows 2 streams and answers in pairs, once two are held: a third stream sent early
        // would be seen at the origin (Undertow does not refuse it) and counted.
        HeldOrigin origin = new HeldOrigin(2, 2);
        var running = sluice.start(config(origin.port(), 1));

        JsonNode responses = batch(running, origin.port(), 10);

        for (JsonNode response : responses)
            assertThat(response.get("status").asInt()).as(response.toString()).isEqualTo(200);
        assertThat(origin.served).isEqualTo(10);
        assertThat(origin.mostAtOnce).isEqualTo(2);
        assertThat(origin.connections).hasSize(1);
    }

    @Test
    void bodilessResponsesDoNotUseUpTheConnectionsStreams() throws Exception {
        // 204s end their stream with the response's HEADERS frame; ten of them, two at a time, to an
        // origin that allows two streams, all on the one connection.
        HeldOrigin origin = new HeldOrigin(2, 2, 204);
        var running = sluice.start(config(origin.port(), 1));

        JsonNode responses = batch(running, origin.port(), 10);

        for (JsonNode response : responses)
            assertThat(response.get("status").asInt()).as(response.toString()).isEqualTo(204);
        assertThat(origin.connections).hasSize(1);
    }

    @Test
    void aRepeatableRequestWhoseConnectionClosesIsSentAgainOnANewOne() throws Exception {
        MockWebServer upstream = closingUnderTheSecondRequest("again");
        var running = sluice.start(config(upstream.getPort(), 1));
        assertThat(batch(running, upstream.getPort(), 1).get(0).get("body").asText())
                .isEqualTo("first");

        JsonNode response = batch(running, upstream.getPort(), 1).get(0);

        assertThat(response.path("status").asInt()).as(response.toString()).isEqualTo(200);
        assertThat(response.get("body").asText()).isEqualTo("again");
        // Within the one attempt the policy allows: the transport sent it again, not the retry stage.
        assertThat(response.get("attempts").asInt()).isEqualTo(1);
        int first = upstream.takeRequest(5, TimeUnit.SECONDS).getConnectionIndex();
        // The lost stream on the first connection and the request sent again on the next, in either order:
        // MockWebServer records the lost one after it has closed the socket.
        List<Integer> lostAndAgain = List.of(
                upstream.takeRequest(5, TimeUnit.SECONDS).getConnectionIndex(),
                upstream.takeRequest(5, TimeUnit.SECONDS).getConnectionIndex());
        assertThat(lostAndAgain).containsExactlyInAnyOrder(first, first + 1);
        assertThat(upstream.getRequestCount()).isEqualTo(3);
    }

    @Test
    void aPostWhoseConnectionClosesUnderItIsNotSentAgain() throws Exception {
        MockWebServer upstream = closingUnderTheSecondRequest("never");
        var running = sluice.start(config(upstream.getPort(), 1));
        assertThat(batch(running, upstream.getPort(), 1).get(0).get("body").asText())
                .isEqualTo("first");

        JsonNode response = post(running, upstream.getPort());

        // It may have been processed: RFC 9110 §9.2.2 leaves repeating it to whoever knows it is safe.
        assertThat(response.at("/error/type").asText()).as(response.toString()).isEqualTo("upstream_reset");
        // (The lost one is recorded after its socket is closed, so it may come after the answer: waited for.)
        upstream.takeRequest(5, TimeUnit.SECONDS);
        upstream.takeRequest(5, TimeUnit.SECONDS);
        assertThat(upstream.getRequestCount()).isEqualTo(2);
    }

    /**
     * nginx refuses streams so once a connection has carried its keepalive_requests (RFC 9113 §8.7: the
     * stream was not processed, so sending it again is safe whatever the method). The origin refuses
     * exactly one stream: MockWebServer, this test's origin before, resets a stream for a queued response
     * before it takes that response off its queue, and starts each stream on a thread of its own, so the
     * POST, sent again at once, sometimes found the same refusal still first in line and was refused
     * twice (upstream_reset: 5 runs in 10, 4 in 30). A body over the stream's flow-control window is
     * still being written when the refusal arrives.
     */
    @org.junit.jupiter.params.ParameterizedTest(name = "body of {0} bytes")
    @org.junit.jupiter.params.provider.ValueSource(ints = {1, 4 * 65_535})
    void aPostTheOriginRefusesWithRefusedStreamIsSentAgainOnTheSameConnection(int bodyBytes) throws Exception {
        FrameOrigin origin = frameOrigin((frame, conversation) -> {
            if (frame.type() == FrameOrigin.HEADERS && frame.stream() == 1) {
                conversation.send(FrameOrigin.rstStream(1, FrameOrigin.REFUSED_STREAM));
            } else if (frame.type() == FrameOrigin.HEADERS) {
                conversation.send(FrameOrigin.windowUpdate(frame.stream(), 1 << 20)); // room for the whole body
            } else if (frame.type() == FrameOrigin.DATA) {
                // Every DATA frame counts against the connection's window, a refused stream's too (RFC 9113
                // §6.9): given back as read, as servers do.
                if (frame.payload().length > 0) conversation.send(FrameOrigin.windowUpdate(0, frame.payload().length));
                if (frame.endStream() && frame.stream() > 1)
                    conversation.send(FrameOrigin.answer(frame.stream(), "accepted"));
            }
        });
        var running = sluice.start(config(origin.port(), 1));
        String body = "x".repeat(bodyBytes);

        JsonNode response = post(running, origin.port(), body);

        assertThat(response.path("body").asText())
                .as(response + " " + origin.received)
                .isEqualTo("accepted");
        assertThat(response.get("attempts").asInt()).isEqualTo(1);
        assertThat(origin.requests).extracting(FrameOrigin.Request::stream).containsExactly(1, 3);
        assertThat(origin.requests).extracting(FrameOrigin.Request::method).containsOnly("POST");
        // A refused stream says nothing against its connection: the second try goes on it.
        assertThat(origin.requests).extracting(FrameOrigin.Request::connection).containsOnly(0);
        assertThat(new String(origin.body(0, 3), java.nio.charset.StandardCharsets.UTF_8))
                .isEqualTo(body);
    }

    @Test
    void aPostTheOriginResetsWithAnyOtherCodeIsNotSentAgain() throws Exception {
        MockWebServer upstream = mockOrigin(Protocol.HTTP_2, Protocol.HTTP_1_1);
        upstream.enqueue(new mockwebserver3.MockResponse.Builder()
                .body("reset")
                .onRequestStart(new SocketEffect.CloseStream(0x2)) // INTERNAL_ERROR: it may have been processed
                .build());
        upstream.enqueue(Upstream.ok("text/plain", "never"));
        var running = sluice.start(config(upstream.getPort(), 1));

        JsonNode response = post(running, upstream.getPort());

        assertThat(response.at("/error/type").asText()).as(response.toString()).isEqualTo("upstream_reset");
        // (MockWebServer records a stream it resets only after the reset, so it may come after the answer.)
        upstream.takeRequest(5, TimeUnit.SECONDS);
        assertThat(upstream.getRequestCount()).isEqualTo(1);
    }

    @Test
    void aRequestWhoseNewConnectionClosesBeforeAnythingIsSentWaitsForTheNext() throws Exception {
        // MockWebServer closes a new HTTP/2 connection before reading its first request.
        MockWebServer upstream = mockOrigin(Protocol.HTTP_2, Protocol.HTTP_1_1);
        upstream.enqueue(new mockwebserver3.MockResponse.Builder()
                .body("lost")
                .onRequestStart(new SocketEffect.CloseSocket())
                .build());
        upstream.enqueue(Upstream.ok("text/plain", "again"));
        var running = sluice.start(config(upstream.getPort(), 1));

        JsonNode response = batch(running, upstream.getPort(), 1).get(0);

        assertThat(response.get("body").asText()).as(response.toString()).isEqualTo("again");
        assertThat(response.get("attempts").asInt()).isEqualTo(1);
    }

    @Test
    void aStreamTheOriginKeepsWhenItGoesAwayWaitsForItsAnswerUntilTheResponseTimeout() throws Exception {
        // GOAWAY names the stream as one the origin may still answer (RFC 9113 §6.8), so it is not sent
        // again; this origin then never answers it, and its response timeout ends it. New requests go
        // on a new connection. (Real origins answer such streams: Http2GoAwayNginxTest.)
        MockWebServer upstream = mockOrigin(Protocol.HTTP_2, Protocol.HTTP_1_1);
        upstream.enqueue(Upstream.ok("text/plain", "first"));
        upstream.enqueue(new mockwebserver3.MockResponse.Builder()
                .body("never")
                .onRequestStart(SocketEffect.ShutdownConnection.INSTANCE)
                .build());
        upstream.enqueue(Upstream.ok("text/plain", "third"));
        var time = new io.sluice.time.FakeTimeSource();
        var running = sluice.start(config(upstream.getPort(), 1), java.util.Map.of(), time);
        assertThat(batch(running, upstream.getPort(), 1).get(0).get("body").asText())
                .isEqualTo("first");
        int first = upstream.takeRequest(5, TimeUnit.SECONDS).getConnectionIndex();

        var kept = java.util.concurrent.CompletableFuture.supplyAsync(() -> batch(running, upstream.getPort(), 1));
        RecordedRequest goneAway = upstream.takeRequest(5, TimeUnit.SECONDS);
        assertThat(kept).isNotDone();
        time.advance(java.time.Duration.ofSeconds(31)); // timeouts.response: 30 s
        JsonNode timedOut = kept.get(10, TimeUnit.SECONDS).get(0);
        JsonNode after = batch(running, upstream.getPort(), 1).get(0);

        assertThat(timedOut.at("/error/type").asText()).as(timedOut.toString()).isEqualTo("timeout");
        assertThat(goneAway.getConnectionIndex()).isEqualTo(first);
        assertThat(after.get("body").asText()).as(after.toString()).isEqualTo("third");
        assertThat(upstream.takeRequest(5, TimeUnit.SECONDS).getConnectionIndex())
                .isNotEqualTo(first);
    }

    @Test
    void anOriginThatAnswersAlpnWithHttp11IsServedOverHttp11OnTheSameConnection() throws Exception {
        MockWebServer upstream = mockOrigin(Protocol.HTTP_1_1);
        upstream.enqueue(Upstream.ok("text/plain", "one"));
        upstream.enqueue(Upstream.ok("text/plain", "two"));
        var running = sluice.start(config(upstream.getPort(), 1));

        JsonNode first = batch(running, upstream.getPort(), 1).get(0);
        JsonNode second = batch(running, upstream.getPort(), 1).get(0);

        assertThat(first.get("body").asText()).isEqualTo("one");
        assertThat(second.get("body").asText()).isEqualTo("two");
        RecordedRequest a = upstream.takeRequest(5, TimeUnit.SECONDS);
        RecordedRequest b = upstream.takeRequest(5, TimeUnit.SECONDS);
        assertThat(a.getVersion()).isEqualToIgnoringCase("HTTP/1.1");
        // The connection ALPN was asked on went to the HTTP/1.1 pool: one handshake for both.
        assertThat(b.getConnectionIndex()).isEqualTo(a.getConnectionIndex());
    }

    @Test
    void sequentialRequestsReuseTheConnection() throws Exception {
        MockWebServer upstream = mockOrigin(Protocol.HTTP_2, Protocol.HTTP_1_1);
        for (int i = 0; i < 3; i++) upstream.enqueue(Upstream.ok("text/plain", "n" + i));
        var running = sluice.start(config(upstream.getPort(), 1));

        for (int i = 0; i < 3; i++) {
            assertThat(batch(running, upstream.getPort(), 1).get(0).get("body").asText())
                    .isEqualTo("n" + i);
        }

        Set<Integer> connections = new java.util.HashSet<>();
        for (int i = 0; i < 3; i++) {
            RecordedRequest request = upstream.takeRequest(5, TimeUnit.SECONDS);
            assertThat(request.getVersion()).isEqualToIgnoringCase("HTTP/2");
            connections.add(request.getConnectionIndex());
        }
        assertThat(connections).hasSize(1);
    }

    @Test
    void aConnectionIdleForTheIdleTimeoutIsClosedAndANewOneOpened() throws Exception {
        MockWebServer upstream = mockOrigin(Protocol.HTTP_2, Protocol.HTTP_1_1);
        for (int i = 0; i < 3; i++) upstream.enqueue(Upstream.ok("text/plain", "n" + i));
        var time = new io.sluice.time.FakeTimeSource();
        var running = sluice.start(config(upstream.getPort(), 1), java.util.Map.of(), time);

        List<RecordedRequest> sent = threeRequestsIdleBetween(running, upstream, time, 29, 30);

        // Idle 29 s: kept (the idle time counts from the last stream's end); idle 30 s: closed.
        assertThat(sent.get(1).getConnectionIndex()).isEqualTo(sent.get(0).getConnectionIndex());
        assertThat(sent.get(2).getConnectionIndex()).isNotEqualTo(sent.get(0).getConnectionIndex());
    }

    /**
     * Three requests of one batch each, the clock advanced {@code firstIdle} then {@code secondIdle}
     * seconds between them; checks the third was answered and returns the three as the origin got them.
     */
    private List<RecordedRequest> threeRequestsIdleBetween(
            SluiceServerExtension.Running running,
            MockWebServer upstream,
            io.sluice.time.FakeTimeSource time,
            int firstIdle,
            int secondIdle)
            throws Exception {
        batch(running, upstream.getPort(), 1);
        time.advance(java.time.Duration.ofSeconds(firstIdle));
        batch(running, upstream.getPort(), 1);
        time.advance(java.time.Duration.ofSeconds(secondIdle));
        JsonNode third = batch(running, upstream.getPort(), 1).get(0);

        assertThat(third.get("body").asText()).isEqualTo("n2");
        return List.of(
                upstream.takeRequest(5, TimeUnit.SECONDS),
                upstream.takeRequest(5, TimeUnit.SECONDS),
                upstream.takeRequest(5, TimeUnit.SECONDS));
    }

    /** {@code server.upstream_idle_timeout} governs both clients' pools: HTTP/2 and HTTP/1.1. */
    @org.junit.jupiter.params.ParameterizedTest
    @org.junit.jupiter.params.provider.ValueSource(booleans = {true, false})
    void theConfiguredUpstreamIdleTimeoutKeepsAConnectionThatLong(boolean http2) throws Exception {
        MockWebServer upstream = http2 ? mockOrigin(Protocol.HTTP_2, Protocol.HTTP_1_1) : mockOrigin(Protocol.HTTP_1_1);
        for (int i = 0; i < 3; i++) upstream.enqueue(Upstream.ok("text/plain", "n" + i));
        var time = new io.sluice.time.FakeTimeSource();
        String config = config(upstream.getPort(), 1)
                .replace("server: {io_threads: 1}", "server: {io_threads: 1, upstream_idle_timeout: 2m}")
                .replace("http2: true", "http2: " + http2);
        var running = sluice.start(config, java.util.Map.of(), time);

        List<RecordedRequest> sent = threeRequestsIdleBetween(running, upstream, time, 119, 120);
        RecordedRequest first = sent.get(0);
        RecordedRequest second = sent.get(1);
        RecordedRequest last = sent.get(2);
        assertThat(first.getVersion()).isEqualToIgnoringCase(http2 ? "HTTP/2" : "HTTP/1.1");
        // Idle 119 s (past the 30 s default): kept; idle 120 s: closed, a new connection opened.
        assertThat(second.getConnectionIndex()).isEqualTo(first.getConnectionIndex());
        assertThat(last.getConnectionIndex()).isNotEqualTo(first.getConnectionIndex());
    }

    @Test
    void aRequestBodyIsStreamedOnItsStream() throws Exception {
        MockWebServer upstream = mockOrigin(Protocol.HTTP_2, Protocol.HTTP_1_1);
        upstream.enqueue(Upstream.ok("text/plain", "stored"));
        var running = sluice.start(config(upstream.getPort(), 1));

        HttpResponse<String> response =
                TestHttp.send(java.net.http.HttpRequest.newBuilder(running.data("/secure/items"))
                        .header("Content-Type", "application/json")
                        .POST(java.net.http.HttpRequest.BodyPublishers.ofString("{\"name\": \"x\"}"))
                        .build());

        assertThat(response.statusCode()).isEqualTo(200);
        RecordedRequest recorded = upstream.takeRequest(5, TimeUnit.SECONDS);
        assertThat(recorded.getVersion()).isEqualToIgnoringCase("HTTP/2");
        assertThat(recorded.getMethod()).isEqualTo("POST");
        assertThat(recorded.getBody().utf8()).isEqualTo("{\"name\": \"x\"}");
        assertThat(response.headers().firstValue("Server-Timing"))
                .hasValueSatisfying(t -> assertThat(t).contains("upstream"));
    }

    // ---- helpers ----

    private String config(int port, int ioThreads) throws IOException {
        return """
                server: {io_threads: %d}
                upstreams:
                  secure:
                    base_url: "https://localhost:%d"
                    allow_private: true
                    retry: {max_attempts: 1}
                    tls: {ca_file: "%s", http2: true}
                """.formatted(ioThreads, port, tls.writeCa(dir));
    }

    /** One POST with body {@code x} to the origin, as a batch item; its result. */
    private static JsonNode post(SluiceServerExtension.Running running, int port) {
        return post(running, port, "x");
    }

    /** One POST with {@code body} (JSON string characters only) to the origin, as a batch item; its result. */
    private static JsonNode post(SluiceServerExtension.Running running, int port, String body) {
        return TestHttp.batch(running.data("/v1/batch"), """
                        {"requests": [{"method": "POST", "url": "https://localhost:%d/p", "body": "%s"}]}""".formatted(port, body))
                .get("responses")
                .get(0);
    }

    /** {@code n} GETs to the origin in one batch, all at once; the responses in order. */
    private static JsonNode batch(SluiceServerExtension.Running running, int port, int n) {
        String items = IntStream.range(0, n)
                .mapToObj(i -> "{\"url\": \"https://localhost:%d/%d\"}".formatted(port, i))
                .collect(Collectors.joining(", "));
        JsonNode answer = TestHttp.batch(
                running.data("/v1/batch"),
                "{\"requests\": [" + items + "], \"concurrency\": " + n + ", \"timeout_ms\": 20000}");
        return answer.get("responses");
    }

    /**
     * An h2 origin that answers "first", then closes the connection while the second request's stream
     * is open on it, then answers {@code third}.
     */
    private MockWebServer closingUnderTheSecondRequest(String third) throws IOException {
        MockWebServer upstream = mockOrigin(Protocol.HTTP_2, Protocol.HTTP_1_1);
        upstream.setDispatcher(new ClosingUnderTheSecondRequest(third));
        return upstream;
    }

    /**
     * The script of {@link #closingUnderTheSecondRequest}. MockWebServer's own queue would not do: it closes
     * the socket under a stream first and takes the closing response off the queue only after, so a request
     * sent again at once could still find that response first; its new connection was then closed as it was
     * accepted, and that second loss failed it (upstream_reset, 4 runs in 60 with two busy loops on 2 cores).
     * Here the close is handed out once, to the stream after the first answer, however late the closed
     * stream is recorded.
     */
    private static final class ClosingUnderTheSecondRequest extends mockwebserver3.Dispatcher {
        private final String third;
        private int dispatched;
        private boolean closed;

        ClosingUnderTheSecondRequest(String third) {
            this.third = third;
        }

        /** Asked as each connection is accepted and as each stream starts: the close goes to the first stream after "first". */
        @Override
        public synchronized mockwebserver3.MockResponse peek() {
            if (dispatched == 1 && !closed) {
                closed = true;
                return new mockwebserver3.MockResponse.Builder()
                        .onRequestStart(new SocketEffect.CloseSocket())
                        .build();
            }
            return super.peek();
        }

        /** Every request after the first is answered {@code third}; the closed stream's answer is never sent. */
        @Override
        public synchronized mockwebserver3.MockResponse dispatch(RecordedRequest request) {
            return Upstream.ok("text/plain", dispatched++ == 0 ? "first" : third);
        }
    }

    /** An origin written frame by frame ({@link FrameOrigin}), closed after the test. */
    private FrameOrigin frameOrigin(FrameOrigin.Script script) throws IOException {
        FrameOrigin origin = new FrameOrigin(tls, script);
        servers.add(origin);
        return origin;
    }

    private MockWebServer mockOrigin(Protocol... protocols) throws IOException {
        MockWebServer server = new MockWebServer();
        servers.add(server);
        server.useHttps(new HandshakeCertificates.Builder()
                .heldCertificate(tls.leaf, tls.ca.certificate())
                .build()
                .sslSocketFactory());
        server.setProtocols(List.of(protocols));
        server.start(InetAddress.getLoopbackAddress(), 0);
        return server;
    }

    /**
     * An HTTP/2 TLS origin on Undertow that holds requests until {@code together} are at the origin,
     * then answers those; it counts connections (by the client's port), protocols, and the most
     * requests it held at once. {@code maxStreams} is its {@code SETTINGS_MAX_CONCURRENT_STREAMS}
     * (0: none), which Undertow's server announces but does not enforce.
     */
    private final class HeldOrigin {
        final Set<Integer> connections = ConcurrentHashMap.newKeySet();
        final Set<String> protocols = ConcurrentHashMap.newKeySet();
        private final List<HttpServerExchange> held = new ArrayList<>();
        private final int together;
        private final int status;
        private final Undertow server;
        int served;
        int mostAtOnce;

        HeldOrigin(int together, int maxStreams) {
            this(together, maxStreams, 200);
        }

        HeldOrigin(int together, int maxStreams, int status) {
            this.together = together;
            this.status = status;
            Undertow.Builder builder = Undertow.builder()
                    .setIoThreads(1)
                    .setWorkerThreads(2)
                    .setServerOption(UndertowOptions.ENABLE_HTTP2, true)
                    .addHttpsListener(
                            0,
                            "127.0.0.1",
                            new HandshakeCertificates.Builder()
                                    .heldCertificate(tls.leaf, tls.ca.certificate())
                                    .build()
                                    .sslContext())
                    .setHandler(this::handle);
            if (maxStreams > 0)
                builder.setServerOption(UndertowOptions.HTTP2_SETTINGS_MAX_CONCURRENT_STREAMS, maxStreams);
            server = builder.build();
            server.start();
            servers.add(server::stop);
        }

        int port() {
            return ((InetSocketAddress) server.getListenerInfo().get(0).getAddress()).getPort();
        }

        private void handle(HttpServerExchange exchange) {
            connections.add(exchange.getSourceAddress().getPort());
            protocols.add(exchange.getProtocol().toString());
            exchange.dispatch(SameThreadExecutor.INSTANCE, () -> {
                List<HttpServerExchange> answer = List.of();
                synchronized (held) {
                    held.add(exchange);
                    mostAtOnce = Math.max(mostAtOnce, held.size());
                    if (held.size() >= together) {
                        answer = List.copyOf(held);
                        held.clear();
                        served += answer.size();
                    }
                }
                for (HttpServerExchange ready : answer) {
                    ready.getIoThread().execute(() -> {
                        ready.setStatusCode(status);
                        if (status == 204) {
                            ready.endExchange();
                        } else {
                            ready.getResponseSender().send("ok " + ready.getRequestPath());
                        }
                    });
                }
            });
        }
    }
}
