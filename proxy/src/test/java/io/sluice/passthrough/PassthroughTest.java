package io.sluice.passthrough;

import static org.assertj.core.api.Assertions.assertThat;

import io.sluice.testing.SluiceServerExtension;
import io.sluice.testing.TestHttp;
import io.sluice.testing.Upstream;
import io.sluice.time.TimeSource;
import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.net.URI;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import mockwebserver3.Dispatcher;
import mockwebserver3.MockResponse;
import mockwebserver3.MockWebServer;
import mockwebserver3.RecordedRequest;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

class PassthroughTest {
    @RegisterExtension
    final SluiceServerExtension sluice = new SluiceServerExtension();

    private final MockWebServer upstream = Upstream.start();

    @AfterEach
    void stopUpstream() {
        upstream.close();
    }

    private SluiceServerExtension.Running startWith(String extra) {
        return sluice.start("""
                upstreams:
                  local:
                    base_url: %s/base
                    allow_private: true
                %s
                """.formatted(Upstream.origin(upstream), extra));
    }

    @Test
    void routeFormForwardsPathAndQueryAndAnnotatesTheResponse() throws Exception {
        var running = startWith("");
        upstream.enqueue(Upstream.ok("application/json", "{\"id\":1}"));

        HttpResponse<String> response = TestHttp.get(running.data("/local/users/1?fields=name%2Cid"));

        assertThat(response.statusCode()).isEqualTo(200);
        assertThat(response.body()).isEqualTo("{\"id\":1}");
        assertThat(response.headers().firstValue("via")).hasValue("1.1 sluice");
        assertThat(response.headers().firstValue("cache-status"))
                .hasValueSatisfying(v -> assertThat(v).startsWith("sluice; fwd=miss"));
        assertThat(response.headers().firstValue("server-timing"))
                .hasValueSatisfying(
                        t -> assertThat(t).contains("queue;dur=", "cooldown;dur=", "upstream;dur=", "cache;dur="));
        RecordedRequest seen = upstream.takeRequest(5, TimeUnit.SECONDS);
        assertThat(seen.getTarget()).isEqualTo("/base/users/1?fields=name%2Cid");
        assertThat(seen.getHeaders().get("Via")).isEqualTo("1.1 sluice");
    }

    @Test
    void upstreamErrorStatusIsPassedThroughAsAResult() {
        var running = startWith("");
        upstream.enqueue(new MockResponse.Builder().code(404).body("nope").build());

        HttpResponse<String> response = TestHttp.get(running.data("/local/missing"));

        assertThat(response.statusCode()).isEqualTo(404);
        assertThat(response.body()).isEqualTo("nope");
        assertThat(response.headers().firstValue("proxy-status")).isEmpty();
    }

    @Test
    void stripsHopByHopHeadersBothWays() throws Exception {
        var running = startWith("");
        upstream.enqueue(new MockResponse.Builder()
                .code(200)
                .addHeader("Connection", "X-Upstream-Hop")
                .addHeader("X-Upstream-Hop", "private")
                .addHeader("X-End-To-End", "kept")
                .body("ok")
                .build());

        // java.net.http will not send Connection or Keep-Alive, so speak HTTP/1.1 on a raw socket.
        List<String> responseLines = new ArrayList<>();
        try (Socket socket = new Socket("127.0.0.1", running.dataPort())) {
            OutputStream out = socket.getOutputStream();
            out.write(
                    ("GET /local/hop HTTP/1.1\r\nHost: x\r\nConnection: close, X-Client-Hop\r\nX-Client-Hop: secret\r\n"
                                    + "Keep-Alive: timeout=5\r\nTE: trailers\r\nProxy-Authorization: Basic eA==\r\n"
                                    + "X-Kept: yes\r\n\r\n")
                            .getBytes(StandardCharsets.US_ASCII));
            out.flush();
            var reader = new BufferedReader(new InputStreamReader(socket.getInputStream(), StandardCharsets.US_ASCII));
            String line;
            while ((line = reader.readLine()) != null && !line.isEmpty()) responseLines.add(line.toLowerCase());
        }

        RecordedRequest seen = upstream.takeRequest(5, TimeUnit.SECONDS);
        assertThat(seen.getHeaders().get("X-Client-Hop")).isNull();
        assertThat(seen.getHeaders().get("Keep-Alive")).isNull();
        assertThat(seen.getHeaders().get("TE")).isNull();
        assertThat(seen.getHeaders().get("Proxy-Authorization")).isNull();
        assertThat(seen.getHeaders().get("X-Kept")).isEqualTo("yes");
        assertThat(responseLines).anyMatch(l -> l.startsWith("x-end-to-end: kept"));
        assertThat(responseLines).noneMatch(l -> l.startsWith("x-upstream-hop"));
    }

    @Test
    void sluicePriorityIsReadButNeverSentUpstream() throws Exception {
        var running = startWith("    priority: {weights: {interactive: 8, batch: 2, background: 1}}");
        upstream.enqueue(Upstream.ok("text/plain", "ok"));

        HttpResponse<String> response = TestHttp.send(HttpRequest.newBuilder(running.data("/local/p"))
                .header("Sluice-Priority", "background")
                .header("X-Kept", "yes")
                .build());

        assertThat(response.statusCode()).isEqualTo(200);
        RecordedRequest seen = upstream.takeRequest(5, TimeUnit.SECONDS);
        assertThat(seen.getHeaders().get("Sluice-Priority")).isNull();
        assertThat(seen.getHeaders().get("X-Kept")).isEqualTo("yes");
    }

    @Test
    void unknownPriorityClassIsABadRequestThatNamesTheHeader() {
        var running = startWith("");

        HttpResponse<String> response = TestHttp.send(HttpRequest.newBuilder(running.data("/local/p"))
                .header("Sluice-Priority", "urgent")
                .build());

        assertThat(response.statusCode()).isEqualTo(400);
        assertThat(response.body()).contains("invalid_request", "Sluice-Priority", "urgent", "interactive");
        assertThat(upstream.getRequestCount()).isZero();
    }

    @Test
    void addsUpstreamHeadersWithValuesFromTheEnvironment() throws Exception {
        var running = sluice.start(
                """
                upstreams:
                  local:
                    base_url: %s
                    allow_private: true
                    headers: {Authorization: "Bearer ${API_TOKEN}"}
                """.formatted(Upstream.origin(upstream)), Map.of("API_TOKEN", "s3cret"), TimeSource.system());
        upstream.enqueue(Upstream.ok("text/plain", "hi"));

        TestHttp.send(HttpRequest.newBuilder(running.data("/local/x"))
                .header("Authorization", "Bearer app")
                .build());

        assertThat(upstream.takeRequest(5, TimeUnit.SECONDS).getHeaders().get("Authorization"))
                .isEqualTo("Bearer s3cret");
    }

    @Test
    void forwardProxyFormWorksAsHttpProxy() throws Exception {
        var running = startWith("");
        upstream.enqueue(Upstream.ok("text/plain", "proxied"));

        HttpResponse<String> response = TestHttp.viaProxy(running.dataPort())
                .send(
                        HttpRequest.newBuilder(URI.create(Upstream.origin(upstream) + "/direct?q=1"))
                                .build(),
                        HttpResponse.BodyHandlers.ofString());

        assertThat(response.statusCode()).isEqualTo(200);
        assertThat(response.body()).isEqualTo("proxied");
        assertThat(upstream.takeRequest(5, TimeUnit.SECONDS).getTarget()).isEqualTo("/direct?q=1");
    }

    @Test
    void streamsTheRequestBodyToTheUpstream() throws Exception {
        var running = startWith("");
        upstream.enqueue(Upstream.ok("text/plain", "stored"));
        byte[] payload = new byte[3 * 1024 * 1024];
        for (int i = 0; i < payload.length; i++) payload[i] = (byte) i;

        HttpResponse<String> response = TestHttp.send(HttpRequest.newBuilder(running.data("/local/upload"))
                .header("Content-Type", "application/octet-stream")
                .POST(HttpRequest.BodyPublishers.ofByteArray(payload))
                .build());

        assertThat(response.statusCode()).isEqualTo(200);
        RecordedRequest seen = upstream.takeRequest(5, TimeUnit.SECONDS);
        assertThat(seen.getMethod()).isEqualTo("POST");
        assertThat(seen.getBody().toByteArray()).isEqualTo(payload);
    }

    @Test
    void refusedConnectionIsBadGatewayWithProxyStatus() {
        var running = sluice.start("""
                upstreams:
                  dead: {base_url: "http://127.0.0.1:%d", allow_private: true, retry: {max_attempts: 1}}
                """.formatted(Upstream.closedPort()));

        HttpResponse<String> response = TestHttp.get(running.data("/dead/x"));

        assertThat(response.statusCode()).isEqualTo(502);
        assertThat(response.headers().firstValue("proxy-status"))
                .hasValueSatisfying(v -> assertThat(v).startsWith("sluice; error=connection_refused"));
        assertThat(response.body()).contains("\"type\":\"connect\"");
    }

    @Test
    void slowUpstreamIsGatewayTimeout() {
        var running = startWith("""
                defaults:
                  timeouts: {response: 200ms}
                  retry: {max_attempts: 1}
                """);
        upstream.enqueue(new MockResponse.Builder()
                .code(200)
                .headersDelay(5, TimeUnit.SECONDS)
                .body("late")
                .build());

        HttpResponse<String> response = TestHttp.get(running.data("/local/slow"));

        assertThat(response.statusCode()).isEqualTo(504);
        assertThat(response.headers().firstValue("proxy-status"))
                .hasValueSatisfying(v -> assertThat(v).contains("error=http_response_timeout"));
        assertThat(response.body()).contains("\"type\":\"timeout\"");
    }

    @Test
    void refusesPrivateDestinationsUnlessTheUpstreamAllowsThem() {
        var running = sluice.start("upstreams: {}");

        HttpResponse<String> response =
                TestHttp.send(HttpRequest.newBuilder(running.data("/")).build()); // the root is not a route
        assertThat(response.statusCode()).isEqualTo(404);

        HttpResponse<String> proxied;
        try {
            proxied = TestHttp.viaProxy(running.dataPort())
                    .send(
                            HttpRequest.newBuilder(URI.create(Upstream.origin(upstream) + "/"))
                                    .build(),
                            HttpResponse.BodyHandlers.ofString());
        } catch (Exception e) {
            throw new AssertionError(e);
        }
        assertThat(proxied.statusCode()).isEqualTo(403);
        assertThat(proxied.headers().firstValue("proxy-status"))
                .hasValueSatisfying(v -> assertThat(v).contains("error=destination_ip_prohibited"));
        assertThat(upstream.getRequestCount()).isZero();
    }

    @Test
    void unknownUpstreamIsNotFound() {
        var running = startWith("");
        HttpResponse<String> response = TestHttp.get(running.data("/nosuch/x"));
        assertThat(response.statusCode()).isEqualTo(404);
        assertThat(response.body())
                .isEqualTo("{\"error\":{\"type\":\"invalid_request\",\"message\":\"unknown upstream \\\"nosuch\\\""
                        + " (route form needs an upstream with base_url; or send an absolute-form request)\"}}");
        assertThat(response.headers().firstValue("cache-status")).contains("sluice; fwd=bypass");
        assertThat(response.headers().firstValue("proxy-status")).isEmpty();
        assertThat(upstream.getRequestCount()).isZero();
    }

    @Test
    void reusesUpstreamConnectionsAcrossRequests() throws Exception {
        var running = startWith("");
        for (int i = 0; i < 3; i++) upstream.enqueue(Upstream.ok("text/plain", "r" + i));

        for (int i = 0; i < 3; i++)
            assertThat(TestHttp.get(running.data("/local/r")).body()).isEqualTo("r" + i);

        List<Integer> connections = new ArrayList<>();
        for (int i = 0; i < 3; i++)
            connections.add(upstream.takeRequest(5, TimeUnit.SECONDS).getConnectionIndex());
        assertThat(connections).containsOnly(connections.get(0));
    }

    @Test
    void aRequestPipelinedWhileTheFirstIsWithTheUpstreamIsAnsweredAfterIt() throws Exception {
        // Reads stay registered while a bodyless request is in flight (PassthroughHandler); bytes
        // arriving then must wait their turn, not be lost or answered out of order.
        var running = startWith("");
        CountDownLatch firstArrived = new CountDownLatch(1);
        CountDownLatch releaseFirst = new CountDownLatch(1);
        upstream.setDispatcher(new Dispatcher() {
            @Override
            public MockResponse dispatch(RecordedRequest request) throws InterruptedException {
                if (request.getTarget().endsWith("/one")) {
                    firstArrived.countDown();
                    assertThat(releaseFirst.await(10, TimeUnit.SECONDS)).isTrue();
                }
                String name = request.getTarget().substring(request.getTarget().lastIndexOf('/') + 1);
                return Upstream.ok("text/plain", name);
            }
        });

        try (Socket socket = new Socket("127.0.0.1", running.dataPort())) {
            socket.setSoTimeout(10_000);
            OutputStream out = socket.getOutputStream();
            out.write("GET /local/one HTTP/1.1\r\nHost: x\r\n\r\n".getBytes(StandardCharsets.US_ASCII));
            out.flush();
            assertThat(firstArrived.await(10, TimeUnit.SECONDS)).isTrue();
            out.write("GET /local/two HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n"
                    .getBytes(StandardCharsets.US_ASCII));
            out.flush();
            releaseFirst.countDown();

            String answers = new String(socket.getInputStream().readAllBytes(), StandardCharsets.US_ASCII);
            assertThat(answers.split("HTTP/1.1 200 ", -1)).hasSize(3);
            assertThat(answers.indexOf("\r\n\r\none")).isPositive().isLessThan(answers.indexOf("\r\n\r\ntwo"));
        }
    }

    @Test
    void requestBodyOverTheLimitIsRefusedBeforeReachingTheUpstream() {
        var running = startWith("""
                server: {max_request_body: 1KB}
                """);

        HttpResponse<String> response = TestHttp.send(HttpRequest.newBuilder(running.data("/local/upload"))
                .POST(HttpRequest.BodyPublishers.ofByteArray(new byte[4096]))
                .build());

        assertThat(response.statusCode()).isEqualTo(413);
        assertThat(response.body()).contains("\"type\":\"too_large\"", "server.max_request_body");
        assertThat(upstream.getRequestCount()).isZero();
    }

    @Test
    void chunkedRequestBodyThatRunsOverTheLimitIsAlsoRefusedAs413() throws Exception {
        var running = startWith("""
                server: {max_request_body: 1KB}
                """);
        StringBuilder chunked = new StringBuilder("POST /local/upload HTTP/1.1\r\nHost: x\r\n"
                + "Content-Type: application/octet-stream\r\nTransfer-Encoding: chunked\r\n\r\n");
        for (int i = 0; i < 4; i++)
            chunked.append("400\r\n").append("x".repeat(1024)).append("\r\n");
        chunked.append("0\r\n\r\n");

        try (Socket socket = new Socket("127.0.0.1", running.dataPort())) {
            socket.setSoTimeout(10_000);
            socket.getOutputStream().write(chunked.toString().getBytes(StandardCharsets.US_ASCII));
            var in = new BufferedReader(new InputStreamReader(socket.getInputStream(), StandardCharsets.US_ASCII));
            assertThat(in.readLine()).startsWith("HTTP/1.1 413 ");
            int length = -1;
            for (String line = in.readLine(); !line.isEmpty(); line = in.readLine()) {
                if (line.toLowerCase(java.util.Locale.ROOT).startsWith("content-length:")) {
                    length = Integer.parseInt(line.substring(15).trim());
                }
            }
            char[] body = new char[length];
            assertThat(in.read(body, 0, length)).isEqualTo(length);
            assertThat(new String(body)).contains("\"type\":\"too_large\"", "server.max_request_body");
        }
        // The refusal was that client's alone.
        upstream.enqueue(Upstream.ok("text/plain", "next"));
        assertThat(TestHttp.get(running.data("/local/next")).body()).isEqualTo("next");
    }

    @Test
    void aChunkedUploadTheClientAbandonsReachesTheUpstreamCutOffNotEnded() throws Exception {
        try (ServerSocket raw = new ServerSocket(0, 50, InetAddress.getLoopbackAddress())) {
            var bodyStarted = new CountDownLatch(1);
            var received = new CompletableFuture<String>();
            Thread.ofVirtual().start(() -> {
                var seen = new java.io.ByteArrayOutputStream();
                try (Socket upstreamSide = raw.accept()) {
                    var in = upstreamSide.getInputStream();
                    byte[] buffer = new byte[8192];
                    for (int n; (n = in.read(buffer)) != -1; ) {
                        seen.write(buffer, 0, n);
                        if (seen.toString(StandardCharsets.ISO_8859_1).contains("first-chunk")) bodyStarted.countDown();
                    }
                } catch (IOException reset) {
                    // a reset ends the request as surely as a close
                }
                received.complete(seen.toString(StandardCharsets.ISO_8859_1));
            });
            var running = sluice.start("""
                    upstreams:
                      raw: {base_url: "http://127.0.0.1:%d", allow_private: true}
                    """.formatted(raw.getLocalPort()));

            try (Socket client = new Socket("127.0.0.1", running.dataPort())) {
                OutputStream out = client.getOutputStream();
                out.write(("POST /raw/upload HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n"
                                + "b\r\nfirst-chunk\r\n")
                        .getBytes(StandardCharsets.US_ASCII));
                out.flush();
                assertThat(bodyStarted.await(10, TimeUnit.SECONDS)).isTrue();
            } // the client goes away with its upload unfinished

            String upstreamSaw = received.get(10, TimeUnit.SECONDS);
            assertThat(upstreamSaw).contains("first-chunk").doesNotContain("\r\n0\r\n");
        }
    }

    @Test
    void refusesAtOnceWithRetryAfterWhenTheBudgetCannotFit() throws Exception {
        var running = sluice.start("""
                upstreams:
                  local:
                    base_url: %s
                    allow_private: true
                    limits: [{rate: 1/min, burst: 1}]
                    max_wait: 0s
                """.formatted(Upstream.origin(upstream)));
        upstream.enqueue(Upstream.ok("text/plain", "first"));

        assertThat(TestHttp.get(running.data("/local/a")).statusCode()).isEqualTo(200);
        HttpResponse<String> refused = TestHttp.get(running.data("/local/b"));

        assertThat(refused.statusCode()).isEqualTo(429);
        long retryAfter =
                Long.parseLong(refused.headers().firstValue("retry-after").orElseThrow());
        assertThat(retryAfter).isBetween(1L, 60L);
        assertThat(refused.headers().firstValue("ratelimit-remaining")).hasValue("0");
        assertThat(refused.headers().firstValue("ratelimit-reset")).hasValue(Long.toString(retryAfter));
        assertThat(refused.headers().firstValue("proxy-status"))
                .hasValueSatisfying(v -> assertThat(v).contains("error=http_request_denied"));
        assertThat(refused.body()).contains("\"type\":\"rate_limited\"");
        assertThat(upstream.getRequestCount()).isEqualTo(1);
    }
}
