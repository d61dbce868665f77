package io.sluice.connect;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.fasterxml.jackson.databind.JsonNode;
import io.sluice.testing.SluiceServerExtension;
import io.sluice.testing.TestHttp;
import io.sluice.testing.TlsOrigin;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.net.ProxySelector;
import java.net.Socket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermission;
import java.security.cert.CertificateFactory;
import java.security.cert.X509Certificate;
import java.util.List;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import javax.net.ssl.SSLContext;
import javax.net.ssl.SSLHandshakeException;
import javax.net.ssl.SSLSocket;
import mockwebserver3.MockResponse;
import mockwebserver3.MockWebServer;
import mockwebserver3.RecordedRequest;
import okhttp3.tls.HeldCertificate;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code HTTPS_PROXY} pointed at Sluice, with Java's own {@link HttpClient} and a {@link ProxySelector}:
 * the client sends {@code CONNECT}, trusts Sluice's CA, and every request inside the tunnel goes
 * through the pipeline to a real TLS upstream whose private CA Sluice trusts via {@code tls.ca_file}.
 */
class ConnectTest {
    @RegisterExtension
    final SluiceServerExtension sluice = new SluiceServerExtension().tlsProvider(tlsProvider());

    /** Whose TLS engine Sluice uses; the Conscrypt variant of this test overrides it. */
    io.sluice.config.TlsProvider tlsProvider() {
        return io.sluice.config.TlsProvider.JDK;
    }

    @TempDir
    Path dir;

    private final TlsOrigin origin = new TlsOrigin();
    private final HeldCertificate originCa = origin.ca;
    final MockWebServer upstream = new MockWebServer();

    @BeforeEach
    void startTlsUpstream() {
        origin.start(upstream);
    }

    @AfterEach
    void stopUpstream() {
        upstream.close();
    }

    SluiceServerExtension.Running start(String policy) throws IOException {
        Path originCaFile = Files.writeString(dir.resolve("origin-ca.pem"), originCa.certificatePem());
        return sluice.start("""
                tls: {ca_dir: "%s", ca_file: "%s"}
                upstreams:
                  origin:
                    match: ["https://localhost:%d"]
                    allow_private: true
                    retry: {max_attempts: 1}
                %s
                """.formatted(dir.resolve("ca"), originCaFile, upstream.getPort(), policy.indent(4)));
    }

    URI origin(String path) {
        return URI.create("https://localhost:" + upstream.getPort() + path);
    }

    @Test
    void interceptsHttpsThroughTheProxyAndSendsEachRequestThroughThePipeline() throws Exception {
        var running = start("");
        upstream.enqueue(new MockResponse.Builder().body("one").build());
        upstream.enqueue(new MockResponse.Builder().body("two").build());
        HttpClient client = clientTrusting(running, sluiceCa(running));

        HttpResponse<String> first =
                client.send(HttpRequest.newBuilder(origin("/a?x=1")).build(), ofString());
        HttpResponse<String> second =
                client.send(HttpRequest.newBuilder(origin("/b")).build(), ofString());

        assertThat(first.statusCode()).isEqualTo(200);
        assertThat(first.body()).isEqualTo("one");
        assertThat(second.body()).isEqualTo("two");
        assertThat(first.headers().firstValue("cache-status"))
                .hasValueSatisfying(v -> assertThat(v).startsWith("sluice"));
        assertThat(first.headers().firstValue("server-timing")).isPresent();
        assertThat(first.headers().firstValue("via"))
                .hasValueSatisfying(v -> assertThat(v).contains("sluice"));
        RecordedRequest a = upstream.takeRequest(5, TimeUnit.SECONDS);
        assertThat(a.getTarget()).isEqualTo("/a?x=1");
        assertThat(a.getHandshake()).isNotNull();
        assertThat(upstream.takeRequest(5, TimeUnit.SECONDS).getTarget()).isEqualTo("/b");
        // The admin view counts them as intercepted, for the operator deciding intercept or tunnel.
        JsonNode live = liveOf(running, "origin");
        assertThat(live.path("intercepted_last_minute").asLong()).isEqualTo(2);
        assertThat(live.path("tunnels_last_minute").asLong()).isZero();
    }

    @Test
    void clientThatOffersHttp2ByAlpnSpeaksHttp2InsideTheTunnel() throws Exception {
        var running = start("");
        upstream.enqueue(new MockResponse.Builder().body("over h2").build());
        HttpClient client = HttpClient.newBuilder()
                .proxy(ProxySelector.of(new InetSocketAddress("127.0.0.1", running.dataPort())))
                .sslContext(sslContextTrusting(sluiceCa(running)))
                .version(HttpClient.Version.HTTP_2)
                .build();

        HttpResponse<String> response =
                client.send(HttpRequest.newBuilder(origin("/h2")).build(), ofString());

        assertThat(response.version()).isEqualTo(HttpClient.Version.HTTP_2);
        assertThat(response.body()).isEqualTo("over h2");
        assertThat(response.headers().firstValue("cache-status")).isPresent();
        assertThat(upstream.takeRequest(5, TimeUnit.SECONDS).getTarget()).isEqualTo("/h2");
    }

    @Test
    void leafCertificateIsForTheHostAndSignedBySluicesCa() throws Exception {
        var running = start("");
        X509Certificate ca = sluiceCa(running);
        try (Socket raw = connect(running, "localhost:" + upstream.getPort())) {
            SSLSocket tls = (SSLSocket)
                    sslContextTrusting(ca).getSocketFactory().createSocket(raw, "localhost", upstream.getPort(), true);
            var params = tls.getSSLParameters();
            params.setEndpointIdentificationAlgorithm("HTTPS");
            tls.setSSLParameters(params);
            tls.startHandshake();

            var chain = tls.getSession().getPeerCertificates();
            X509Certificate leaf = (X509Certificate) chain[0];
            assertThat(leaf.getSubjectAlternativeNames())
                    .anySatisfy(san -> assertThat(san.get(1)).isEqualTo("localhost"));
            leaf.verify(ca.getPublicKey());
        }
    }

    @Test
    void cacheHitInsideTheTunnelSpendsNoUpstreamRequest() throws Exception {
        var running = start("");
        upstream.enqueue(new MockResponse.Builder()
                .addHeader("Cache-Control", "max-age=600")
                .body("cached")
                .build());
        HttpClient client = clientTrusting(running, sluiceCa(running));

        client.send(HttpRequest.newBuilder(origin("/c")).build(), ofString());
        HttpResponse<String> again =
                client.send(HttpRequest.newBuilder(origin("/c")).build(), ofString());

        assertThat(again.body()).isEqualTo("cached");
        assertThat(again.headers().firstValue("cache-status"))
                .hasValueSatisfying(v -> assertThat(v).contains("hit"));
        assertThat(upstream.getRequestCount()).isEqualTo(1);
    }

    @Test
    void tokenBucketLimitsInterceptedRequests() throws Exception {
        var running = start("""
                limits: [{rate: 1/min, burst: 1}]
                max_wait: 0s
                """);
        upstream.enqueue(new MockResponse.Builder().body("ok").build());
        HttpClient client = clientTrusting(running, sluiceCa(running));

        assertThat(client.send(HttpRequest.newBuilder(origin("/1")).build(), ofString())
                        .statusCode())
                .isEqualTo(200);
        HttpResponse<String> refused =
                client.send(HttpRequest.newBuilder(origin("/2")).build(), ofString());

        assertThat(refused.statusCode()).isEqualTo(429);
        assertThat(refused.headers().firstValue("retry-after")).isPresent();
        assertThat(refused.headers().firstValue("proxy-status"))
                .hasValueSatisfying(v -> assertThat(v).contains("http_request_denied"));
        assertThat(upstream.getRequestCount()).isEqualTo(1);
    }

    @Test
    void retryAfterPausesTheUpstreamForInterceptedRequests() throws Exception {
        var running = start("max_wait: 0s");
        upstream.enqueue(new MockResponse.Builder()
                .code(429)
                .addHeader("Retry-After", "600")
                .build());
        HttpClient client = clientTrusting(running, sluiceCa(running));

        assertThat(client.send(HttpRequest.newBuilder(origin("/1")).build(), ofString())
                        .statusCode())
                .isEqualTo(429);
        HttpResponse<String> paused =
                client.send(HttpRequest.newBuilder(origin("/2")).build(), ofString());

        assertThat(paused.statusCode()).isEqualTo(429);
        assertThat(paused.headers().firstValue("proxy-status")).isPresent();
        assertThat(Long.parseLong(paused.headers().firstValue("retry-after").orElseThrow()))
                .isGreaterThan(500);
        assertThat(upstream.getRequestCount()).isEqualTo(1);
    }

    @Test
    void clientThatDoesNotTrustTheCaFailsItsHandshakeAndNothingIsSent() throws Exception {
        var running = start("");
        HttpClient client = HttpClient.newBuilder()
                .proxy(ProxySelector.of(new InetSocketAddress("127.0.0.1", running.dataPort())))
                .build();

        assertThatThrownBy(
                        () -> client.send(HttpRequest.newBuilder(origin("/x")).build(), ofString()))
                .isInstanceOf(SSLHandshakeException.class);
        assertThat(upstream.getRequestCount()).isZero();
    }

    @Test
    void tunnelStaysOpenForHttp10ConnectAndConnectionCloseAndTheAnswerHasNoLength() throws Exception {
        var running = start("");
        X509Certificate ca = sluiceCa(running);
        String target = "localhost:" + upstream.getPort();
        // Python's http.client sends the first, Node's undici the second: after the 200 the
        // connection is the tunnel either way (RFC 9110 §9.3.6).
        for (String head : List.of(
                "CONNECT " + target + " HTTP/1.0\r\n\r\n",
                "CONNECT " + target + " HTTP/1.1\r\nHost: " + target + "\r\nConnection: close\r\n\r\n")) {
            upstream.enqueue(new MockResponse.Builder().body("inside").build());
            try (Socket raw = new Socket("127.0.0.1", running.dataPort())) {
                raw.setSoTimeout(10_000);
                raw.getOutputStream().write(head.getBytes(StandardCharsets.US_ASCII));
                String answer = readHead(raw.getInputStream());
                assertThat(answer).as(head).containsPattern("^HTTP/1\\.[01] 200");
                assertThat(answer.toLowerCase(java.util.Locale.ROOT))
                        .as(head)
                        .doesNotContain("content-length")
                        .doesNotContain("transfer-encoding")
                        .doesNotContain("connection: close");

                SSLSocket tls = (SSLSocket) sslContextTrusting(ca)
                        .getSocketFactory()
                        .createSocket(raw, "localhost", upstream.getPort(), true);
                tls.getOutputStream()
                        .write(("GET /inside HTTP/1.1\r\nHost: " + target + "\r\nConnection: close\r\n\r\n")
                                .getBytes(StandardCharsets.US_ASCII));
                assertThat(readAll(tls.getInputStream()))
                        .as(head)
                        .startsWith("HTTP/1.1 200")
                        .endsWith("inside");
            }
        }
    }

    @Test
    void forwardsRequestFieldValuesByteForByteInsideTheTunnel() throws Exception {
        var running = start("");
        upstream.enqueue(new MockResponse.Builder().body("ok").build());
        X509Certificate ca = sluiceCa(running);
        try (Socket raw = connect(running, "localhost:" + upstream.getPort())) {
            SSLSocket tls = (SSLSocket)
                    sslContextTrusting(ca).getSocketFactory().createSocket(raw, "localhost", upstream.getPort(), true);
            tls.getOutputStream()
                    .write(("GET /f HTTP/1.1\r\nHost: localhost:" + upstream.getPort()
                                    + "\r\nX-Sp: a  b   c\r\nX-Tab: a\t\tb\r\nx-lower-CASE: kept\r\n"
                                    + "Connection: close\r\n\r\n")
                            .getBytes(StandardCharsets.US_ASCII));
            assertThat(readAll(tls.getInputStream())).startsWith("HTTP/1.1 200");
        }
        RecordedRequest request = upstream.takeRequest(5, TimeUnit.SECONDS);
        assertThat(request.getHeaders().get("X-Sp")).isEqualTo("a  b   c");
        assertThat(request.getHeaders().get("X-Tab")).isEqualTo("a\t\tb");
        java.util.List<String> names = new java.util.ArrayList<>();
        for (int i = 0; i < request.getHeaders().size(); i++)
            names.add(request.getHeaders().name(i));
        assertThat(names).contains("x-lower-CASE");
    }

    @Test
    void obsFoldInsideTheTunnelIsRefusedAndNothingIsSent() throws Exception {
        var running = start("");
        X509Certificate ca = sluiceCa(running);
        try (Socket raw = connect(running, "localhost:" + upstream.getPort())) {
            SSLSocket tls = (SSLSocket)
                    sslContextTrusting(ca).getSocketFactory().createSocket(raw, "localhost", upstream.getPort(), true);
            tls.getOutputStream()
                    .write(("GET /f HTTP/1.1\r\nHost: localhost:" + upstream.getPort() + "\r\nX-Fold: a\r\n b\r\n\r\n")
                            .getBytes(StandardCharsets.US_ASCII));
            // RFC 9112 §5.2: refused as on the data port, and the connection closed (readAll ends).
            String answer = readAll(tls.getInputStream());

            assertThat(answer).startsWith("HTTP/1.1 400").contains("obs-fold");
        }
        assertThat(upstream.getRequestCount()).isZero();
    }

    @Test
    void requestNamingAnotherHostInsideTheTunnelIsMisdirected() throws Exception {
        var running = start("");
        X509Certificate ca = sluiceCa(running);
        try (Socket raw = connect(running, "localhost:" + upstream.getPort())) {
            SSLSocket tls = (SSLSocket)
                    sslContextTrusting(ca).getSocketFactory().createSocket(raw, "localhost", upstream.getPort(), true);
            tls.getOutputStream()
                    .write("GET / HTTP/1.1\r\nHost: elsewhere.example\r\nConnection: close\r\n\r\n"
                            .getBytes(StandardCharsets.US_ASCII));
            String answer = readAll(tls.getInputStream());

            assertThat(answer).startsWith("HTTP/1.1 421");
        }
        assertThat(upstream.getRequestCount()).isZero();
    }

    /** Served an RSA leaf: JSSE picks it by the client's suites (with Conscrypt, JSSE takes this client). */
    @Test
    void rsaOnlyTls12ClientIsServedInsideTheTunnel() throws Exception {
        var running = start("");
        upstream.enqueue(new MockResponse.Builder().body("rsa ok").build());
        X509Certificate ca = sluiceCa(running);
        try (Socket raw = connect(running, "localhost:" + upstream.getPort())) {
            SSLSocket tls = (SSLSocket)
                    sslContextTrusting(ca).getSocketFactory().createSocket(raw, "localhost", upstream.getPort(), true);
            tls.setEnabledProtocols(new String[] {"TLSv1.2"});
            tls.setEnabledCipherSuites(java.util.Arrays.stream(tls.getSupportedCipherSuites())
                    .filter(suite -> suite.startsWith("TLS_ECDHE_RSA_"))
                    .toArray(String[]::new));
            tls.getOutputStream()
                    .write("GET /rsa HTTP/1.1\r\nHost: localhost:%d\r\nConnection: close\r\n\r\n"
                            .formatted(upstream.getPort())
                            .getBytes(StandardCharsets.US_ASCII));
            String answer = readAll(tls.getInputStream());

            assertThat(tls.getSession().getPeerCertificates()[0].getPublicKey().getAlgorithm())
                    .isEqualTo("RSA");
            assertThat(answer).startsWith("HTTP/1.1 200").endsWith("rsa ok");
        }
        assertThat(upstream.takeRequest().getTarget()).isEqualTo("/rsa");
    }

    /** The handshake completes with a leaf for the name asked (minted then); the request is misdirected. */
    @Test
    void clientWhoseSniNamesAnotherHostGetsThatHostsLeafAndItsRequestIsMisdirected() throws Exception {
        var running = start("");
        X509Certificate ca = sluiceCa(running);
        try (Socket raw = connect(running, "localhost:" + upstream.getPort())) {
            SSLSocket tls = (SSLSocket) sslContextTrusting(ca)
                    .getSocketFactory()
                    .createSocket(raw, "elsewhere.example.test", upstream.getPort(), true);
            var params = tls.getSSLParameters();
            params.setEndpointIdentificationAlgorithm("HTTPS");
            tls.setSSLParameters(params);
            tls.getOutputStream()
                    .write("GET / HTTP/1.1\r\nHost: elsewhere.example.test\r\nConnection: close\r\n\r\n"
                            .getBytes(StandardCharsets.US_ASCII));
            String answer = readAll(tls.getInputStream());

            X509Certificate leaf = (X509Certificate) tls.getSession().getPeerCertificates()[0];
            assertThat(leaf.getSubjectAlternativeNames()).containsExactly(List.of(2, "elsewhere.example.test"));
            assertThat(answer).startsWith("HTTP/1.1 421");
        }
        assertThat(upstream.getRequestCount()).isZero();
    }

    /**
     * Sluice reads the hello before a TLS engine does: one that arrives a byte at a time, cut into
     * records of 50 bytes (as DPI-evading clients send it), still completes its handshake. Undertow's
     * TLS layer alone stalls on such a hello; Sluice hands it on as one record.
     */
    @Test
    void helloSentAByteAtATimeInSmallRecordsCompletesTheHandshake() throws Exception {
        var running = start("");
        X509Certificate ca = sluiceCa(running);
        try (Socket raw = connect(running, "localhost:" + upstream.getPort())) {
            raw.setTcpNoDelay(true);
            javax.net.ssl.SSLEngine engine = sslContextTrusting(ca).createSSLEngine("localhost", upstream.getPort());
            engine.setUseClientMode(true);
            java.nio.ByteBuffer hello = java.nio.ByteBuffer.allocate(1 << 16);
            engine.beginHandshake();
            engine.wrap(java.nio.ByteBuffer.allocate(0), hello);
            java.nio.ByteBuffer recut = io.sluice.testing.TlsRecords.recut(hello.flip(), 50);
            OutputStream out = raw.getOutputStream();
            while (recut.hasRemaining()) {
                out.write(recut.get());
                out.flush();
            }

            finishHandshake(engine, raw);

            X509Certificate leaf = (X509Certificate) engine.getSession().getPeerCertificates()[0];
            assertThat(leaf.getSubjectAlternativeNames()).containsExactly(List.of(2, "localhost"));
            leaf.verify(ca.getPublicKey());
        }
    }

    /** Drives a client {@code engine} whose hello is sent already over {@code socket} to the handshake's end. */
    private static void finishHandshake(javax.net.ssl.SSLEngine engine, Socket socket) throws IOException {
        java.nio.ByteBuffer in = java.nio.ByteBuffer.allocate(1 << 17);
        java.nio.ByteBuffer out = java.nio.ByteBuffer.allocate(1 << 17);
        java.nio.ByteBuffer application = java.nio.ByteBuffer.allocate(1 << 17);
        byte[] chunk = new byte[1 << 14];
        while (true) {
            switch (engine.getHandshakeStatus()) {
                case NEED_TASK -> {
                    for (Runnable task = engine.getDelegatedTask(); task != null; task = engine.getDelegatedTask()) {
                        task.run();
                    }
                }
                case NEED_WRAP -> {
                    out.clear();
                    engine.wrap(java.nio.ByteBuffer.allocate(0), out);
                    socket.getOutputStream().write(out.array(), 0, out.position());
                }
                case NEED_UNWRAP, NEED_UNWRAP_AGAIN -> {
                    in.flip();
                    var result = engine.unwrap(in, application);
                    in.compact();
                    if (result.getStatus() == javax.net.ssl.SSLEngineResult.Status.BUFFER_UNDERFLOW) {
                        int read = socket.getInputStream().read(chunk);
                        if (read < 0) throw new java.io.EOFException("closed during the handshake");
                        in.put(chunk, 0, read);
                    }
                }
                case FINISHED, NOT_HANDSHAKING -> {
                    return;
                }
            }
        }
    }

    @Test
    void bytesThatAreNotTlsEndTheTunnelAndNothingIsSent() throws Exception {
        var running = start("");
        try (Socket raw = connect(running, "localhost:" + upstream.getPort())) {
            raw.getOutputStream()
                    .write("GET / HTTP/1.1\r\nHost: localhost\r\n\r\n".getBytes(StandardCharsets.US_ASCII));
            byte[] answer = raw.getInputStream().readAllBytes();

            // A TLS alert record at most (type 21), never an HTTP answer.
            assertThat(answer.length == 0 || answer[0] == 21)
                    .as("answer %s", new String(answer, StandardCharsets.ISO_8859_1))
                    .isTrue();
        }
        assertThat(upstream.getRequestCount()).isZero();
    }

    @Test
    void clientThatSendsNoHelloIsClosedAfterTheIdleTimeout() throws Exception {
        Path originCaFile = Files.writeString(dir.resolve("origin-ca.pem"), originCa.certificatePem());
        var running = sluice.start("""
                server: {idle_timeout: 300ms}
                tls: {ca_dir: "%s", ca_file: "%s"}
                upstreams:
                  origin:
                    match: ["https://localhost:%d"]
                    allow_private: true
                """.formatted(dir.resolve("ca"), originCaFile, upstream.getPort()));
        try (Socket tunnel = connect(running, "localhost:" + upstream.getPort())) {
            // Nothing is sent: Sluice closes the connection; the read's own timeout is only a bound.
            assertThat(tunnel.getInputStream().read()).isEqualTo(-1);
        }
    }

    @Test
    void guardRefusesMetadataAddressBeforeTheTunnelOpens() throws Exception {
        var running = start("");
        String answer = connectAnswer(running, "169.254.169.254:443");

        assertThat(answer).startsWith("HTTP/1.1 403");
        assertThat(answer).containsIgnoringCase("Proxy-Status: sluice; error=destination_ip_prohibited");
    }

    @Test
    void policyChangeRefusesATargetAdmittedMomentsAgo() throws Exception {
        Path originCaFile = Files.writeString(dir.resolve("origin-ca.pem"), originCa.certificatePem());
        var running = sluice.start("""
                admin: {token: "connect-test-token"}
                tls: {ca_dir: "%s", ca_file: "%s"}
                upstreams:
                  origin: {match: ["https://localhost:%d"], allow_private: true}
                """.formatted(dir.resolve("ca"), originCaFile, upstream.getPort()));
        connect(running, "localhost:" + upstream.getPort()).close();

        // A recent admission only spares the look-up before the 200; it never outlives the policy.
        var change = HttpRequest.newBuilder(running.admin("/api/upstreams/origin"))
                .header("Authorization", "Bearer connect-test-token")
                .header("Content-Type", "application/json")
                .PUT(HttpRequest.BodyPublishers.ofString(
                        "{\"match\": [\"https://localhost:" + upstream.getPort() + "\"], \"allow_private\": false}"))
                .build();
        assertThat(TestHttp.send(change).statusCode()).isEqualTo(200);
        String answer = connectAnswer(running, "localhost:" + upstream.getPort());

        assertThat(answer).startsWith("HTTP/1.1 403");
        assertThat(answer).containsIgnoringCase("Proxy-Status: sluice; error=destination_ip_prohibited");
    }

    @Test
    void hostPatternWithoutAPortDoesNotOpenOtherPorts() throws Exception {
        var running = sluice.start("""
                tls: {ca_dir: "%s"}
                upstreams:
                  anyport: {match: ["localhost"], allow_private: true}
                """.formatted(dir.resolve("ca")));

        assertThat(connectAnswer(running, "localhost:25"))
                .startsWith("HTTP/1.1 403")
                .contains("only 443");
        connect(running, "localhost:443").close(); // answered 200: the host pattern covers 443
    }

    @Test
    void connectToAPortOtherThan443NeedsAnUpstreamOfItsOwn() throws Exception {
        var running = start("");
        String answer = connectAnswer(running, "example.com:25");

        assertThat(answer).startsWith("HTTP/1.1 403");
        assertThat(answer).contains("only 443 is open by default");
    }

    @Test
    void refuseModeAnswersWithProxyStatus() throws Exception {
        var running = start("connect: refuse");
        String answer = connectAnswer(running, "localhost:" + upstream.getPort());

        assertThat(answer).startsWith("HTTP/1.1 403");
        assertThat(answer).contains("connect: refuse").containsIgnoringCase("Proxy-Status:");
    }

    @Test
    void malformedConnectTargetIsABadRequest() throws Exception {
        var running = start("");
        // Undertow itself refuses most malformed targets (a bare 400); this one passes its parser.
        String answer = connectAnswer(running, "localhost:0", "localhost");

        assertThat(answer).startsWith("HTTP/1.1 400");
        assertThat(answer).contains("port out of range").containsIgnoringCase("Proxy-Status:");
    }

    @Test
    void tunnelModePassesBytesUntouchedEndToEnd() throws Exception {
        var running = start("connect: tunnel");
        upstream.enqueue(new MockResponse.Builder().body("straight through").build());
        // Through a tunnel the client talks TLS to the origin itself: it trusts the origin's CA, not Sluice's.
        HttpClient client = HttpClient.newBuilder()
                .proxy(ProxySelector.of(new InetSocketAddress("127.0.0.1", running.dataPort())))
                .sslContext(sslContextTrusting(originCa.certificate()))
                .build();

        HttpResponse<String> response =
                client.send(HttpRequest.newBuilder(origin("/t")).build(), ofString());

        assertThat(response.body()).isEqualTo("straight through");
        assertThat(response.headers().firstValue("via")).isEmpty();
        assertThat(upstream.takeRequest(5, TimeUnit.SECONDS).getTarget()).isEqualTo("/t");
        JsonNode live = liveOf(running, "origin");
        assertThat(live.path("tunnels_last_minute").asLong()).isEqualTo(1);
        assertThat(live.path("intercepted_last_minute").asLong()).isZero();
    }

    /** The admin API's live view of {@code name} (the admin port is open on loopback in tests). */
    private static JsonNode liveOf(SluiceServerExtension.Running running, String name) throws Exception {
        JsonNode upstreams = TestHttp.JSON.readTree(
                TestHttp.get(running.admin("/api/upstreams")).body());
        for (JsonNode u : upstreams.path("upstreams")) {
            if (u.path("name").asText().equals(name)) return u.path("live");
        }
        throw new AssertionError("no upstream " + name + " in " + upstreams);
    }

    @Test
    void closedTunnelShowsItsBytesInMetricsAndRecentRequests() throws Exception {
        var running = start("connect: tunnel");
        try (Socket tunnel = connect(running, "localhost:" + upstream.getPort())) {
            SSLSocket tls = (SSLSocket) sslContextTrusting(originCa.certificate())
                    .getSocketFactory()
                    .createSocket(tunnel, "localhost", upstream.getPort(), true);
            upstream.enqueue(new MockResponse.Builder().body("bytes").build());
            tls.getOutputStream()
                    .write("GET /m HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n"
                            .getBytes(StandardCharsets.US_ASCII));
            assertThat(readUntil(tls.getInputStream(), "bytes")).startsWith("HTTP/1.1 200");
        }

        org.awaitility.Awaitility.await()
                .atMost(java.time.Duration.ofSeconds(10))
                .untilAsserted(() -> assertThat(
                                TestHttp.get(running.admin("/metrics")).body())
                        .containsPattern("sluice_tunnel_bytes_total\\{direction=\"up\",upstream=\"origin\"} [1-9]")
                        .containsPattern("sluice_tunnel_bytes_total\\{direction=\"down\",upstream=\"origin\"} [1-9]"));
        String recent = TestHttp.get(running.admin("/api/requests/recent")).body();
        assertThat(recent)
                .contains("\"method\":\"CONNECT\"")
                .contains("\"bytes_up\"")
                .contains("\"bytes_down\"");
    }

    @Test
    void idleTunnelIsClosedAfterItsIdleTimeout() throws Exception {
        var running = start("""
                connect: tunnel
                tunnel_idle_timeout: 200ms
                """);
        try (Socket tunnel = connect(running, "localhost:" + upstream.getPort())) {
            // Nothing is sent: Sluice closes the pipe; the read's own timeout is only a bound.
            assertThat(tunnel.getInputStream().read()).isEqualTo(-1);
        }
    }

    @Test
    void tunnelModeTakesATokenPerTunnel() throws Exception {
        var running = start("""
                connect: tunnel
                limits: [{rate: 1/min, burst: 1}]
                max_wait: 0s
                """);
        try (Socket first = connect(running, "localhost:" + upstream.getPort())) {
            String second = connectAnswer(running, "localhost:" + upstream.getPort());

            assertThat(second).startsWith("HTTP/1.1 429");
            assertThat(second).containsIgnoringCase("Retry-After:");
        }
    }

    @Test
    void caKeyIsOwnerOnlyAndNeverServed() throws Exception {
        var running = start("");
        Path key = dir.resolve("ca").resolve("sluice-ca-key.pem");

        assertThat(Files.getPosixFilePermissions(key))
                .isEqualTo(Set.of(PosixFilePermission.OWNER_READ, PosixFilePermission.OWNER_WRITE));
        String keyText = Files.readString(key);
        String keyBody =
                keyText.lines().filter(l -> !l.startsWith("-----")).findFirst().orElseThrow();
        var pem = TestHttp.get(running.admin("/api/tls/ca.pem"));
        assertThat(pem.statusCode()).isEqualTo(200);
        assertThat(pem.body()).startsWith("-----BEGIN CERTIFICATE-----").doesNotContain("PRIVATE");
        for (String path : List.of("/api/config", "/api/upstreams", "/metrics", "/api/requests/recent")) {
            assertThat(TestHttp.get(running.admin(path)).body()).as(path).doesNotContain(keyBody);
        }
    }

    // --- helpers

    private static HttpResponse.BodyHandler<String> ofString() {
        return HttpResponse.BodyHandlers.ofString();
    }

    static X509Certificate sluiceCa(SluiceServerExtension.Running running) throws Exception {
        var pem = TestHttp.get(running.admin("/api/tls/ca.pem")).body();
        return (X509Certificate) CertificateFactory.getInstance("X.509")
                .generateCertificate(new java.io.ByteArrayInputStream(pem.getBytes(StandardCharsets.US_ASCII)));
    }

    private static HttpClient clientTrusting(SluiceServerExtension.Running running, X509Certificate ca)
            throws Exception {
        return HttpClient.newBuilder()
                .proxy(ProxySelector.of(new InetSocketAddress("127.0.0.1", running.dataPort())))
                .sslContext(sslContextTrusting(ca))
                .version(HttpClient.Version.HTTP_1_1)
                .build();
    }

    static SSLContext sslContextTrusting(X509Certificate ca) throws Exception {
        return TlsOrigin.trusting(ca);
    }

    /** A socket on which {@code CONNECT target} was answered 200 (the answer consumed). */
    static Socket connect(SluiceServerExtension.Running running, String target) throws IOException {
        Socket socket = new Socket("127.0.0.1", running.dataPort());
        socket.setSoTimeout(10_000);
        socket.getOutputStream()
                .write(("CONNECT " + target + " HTTP/1.1\r\nHost: " + target + "\r\n\r\n")
                        .getBytes(StandardCharsets.US_ASCII));
        String head = readHead(socket.getInputStream());
        assertThat(head).startsWith("HTTP/1.1 200");
        return socket;
    }

    private static String connectAnswer(SluiceServerExtension.Running running, String target) throws IOException {
        return connectAnswer(running, target, target);
    }

    private static String connectAnswer(SluiceServerExtension.Running running, String target, String host)
            throws IOException {
        try (Socket socket = new Socket("127.0.0.1", running.dataPort())) {
            socket.setSoTimeout(10_000);
            OutputStream out = socket.getOutputStream();
            out.write(("CONNECT " + target + " HTTP/1.1\r\nHost: " + host + "\r\nConnection: close\r\n\r\n")
                    .getBytes(StandardCharsets.US_ASCII));
            return readAll(socket.getInputStream());
        }
    }

    private static String readHead(InputStream in) throws IOException {
        ByteArrayOutputStream head = new ByteArrayOutputStream();
        int matched = 0;
        while (matched < 4) {
            int b = in.read();
            if (b < 0) break;
            head.write(b);
            matched = (b == '\r' && matched % 2 == 0) || (b == '\n' && matched % 2 == 1) ? matched + 1 : 0;
        }
        return head.toString(StandardCharsets.US_ASCII);
    }

    private static String readUntil(InputStream in, String end) throws IOException {
        ByteArrayOutputStream seen = new ByteArrayOutputStream();
        int b;
        while (!seen.toString(StandardCharsets.UTF_8).endsWith(end) && (b = in.read()) >= 0) seen.write(b);
        return seen.toString(StandardCharsets.UTF_8);
    }

    private static String readAll(InputStream in) throws IOException {
        return new String(in.readAllBytes(), StandardCharsets.UTF_8);
    }
}
