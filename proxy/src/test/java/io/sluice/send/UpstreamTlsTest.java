package io.sluice.send;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import io.sluice.testing.SluiceServerExtension;
import io.sluice.testing.TestHttp;
import io.sluice.testing.Upstream;
import java.io.IOException;
import java.net.InetAddress;
import java.net.Socket;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.TimeUnit;
import javax.net.ssl.SSLSocket;
import javax.net.ssl.SSLSocketFactory;
import mockwebserver3.MockWebServer;
import mockwebserver3.RecordedRequest;
import okhttp3.Protocol;
import okhttp3.tls.HandshakeCertificates;
import okhttp3.tls.HeldCertificate;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.api.io.TempDir;

/**
 * TLS to upstreams as configured by {@code tls:}: private roots, client certificates and a minimum
 * version, against real TLS servers; every failure is typed {@code tls} and says why, in the batch
 * result and in the passthrough {@code Proxy-Status}.
 */
class UpstreamTlsTest {
    @RegisterExtension
    final SluiceServerExtension sluice = new SluiceServerExtension().tlsProvider(tlsProvider());

    /** Whose TLS engine Sluice uses; the Conscrypt variant of this test overrides it. */
    io.sluice.config.TlsProvider tlsProvider() {
        return io.sluice.config.TlsProvider.JDK;
    }

    @TempDir
    Path dir;

    private final HeldCertificate ca = new HeldCertificate.Builder()
            .certificateAuthority(0)
            .commonName("private CA")
            .build();
    private final HeldCertificate leaf = signedLeaf("localhost");
    private final MockWebServer upstream = new MockWebServer();

    @AfterEach
    void stopUpstream() {
        upstream.close();
    }

    @Test
    void trustsPrivateCaGivenInUpstreamCaFile() throws Exception {
        serve(tls(leaf).build(), false);
        upstream.enqueue(Upstream.ok("text/plain", "private"));

        JsonNode result = fetch(upstreamConfig("tls: {ca_file: \"" + write("ca.pem", ca.certificatePem()) + "\"}"));

        assertThat(result.get("status").asInt()).isEqualTo(200);
        // HTTP/1.1 unless the policy asks for HTTP/2 (tls.http2), though the upstream offers both.
        assertThat(upstream.takeRequest(5, TimeUnit.SECONDS).getVersion()).isEqualToIgnoringCase("HTTP/1.1");
    }

    @Test
    void trustsPrivateCaGivenInGlobalCaFile() throws Exception {
        serve(tls(leaf).build(), false);
        upstream.enqueue(Upstream.ok("text/plain", "private"));

        JsonNode result =
                fetch("tls: {ca_file: \"" + write("ca.pem", ca.certificatePem()) + "\"}\n" + upstreamConfig(""));

        assertThat(result.get("status").asInt()).isEqualTo(200);
    }

    @Test
    void privateCaNotConfiguredIsUnknownIssuer() throws Exception {
        serve(tls(leaf).build(), false);

        assertTlsFailure(upstreamConfig(""), "unknown issuer", "tls_certificate_error");
        assertThat(upstream.getRequestCount()).isZero();
    }

    @Test
    void certificateForAnotherNameIsHostnameMismatch() throws Exception {
        serve(tls(signedLeaf("other.example")).build(), false);

        assertTlsFailure(trustingCa(""), "hostname mismatch", "tls_certificate_error");
    }

    @Test
    void untrustedCertificateOverHttp2IsUnknownIssuer() throws Exception {
        // Undertow's HTTP/2 client checks as its HTTP/1.1 one does, and says why it refused.
        serve(tls(leaf).build(), false);

        assertTlsFailure(upstreamConfig("tls: {http2: true}"), "unknown issuer", "tls_certificate_error");
        assertThat(upstream.getRequestCount()).isZero();
    }

    @Test
    void certificateForAnotherNameOverHttp2IsHostnameMismatch() throws Exception {
        serve(tls(signedLeaf("other.example")).build(), false);

        assertTlsFailure(trustingCa("http2: true"), "hostname mismatch", "tls_certificate_error");
    }

    @Test
    void sendsTheUpstreamsHostNameAsSniOverHttp2() throws Exception {
        serve(tls(leaf).build(), false);
        upstream.enqueue(Upstream.ok("text/plain", "named"));

        JsonNode result = fetch(trustingCa("http2: true"));

        assertThat(result.get("status").asInt()).isEqualTo(200);
        RecordedRequest request = upstream.takeRequest(5, TimeUnit.SECONDS);
        assertThat(request.getVersion()).isEqualToIgnoringCase("HTTP/2");
        assertThat(request.getHandshakeServerNames()).containsExactly("localhost");
    }

    @Test
    void sendsTheUpstreamsHostNameAsSni() throws Exception {
        serve(tls(leaf).build(), false);
        upstream.enqueue(Upstream.ok("text/plain", "named"));

        JsonNode result = fetch(trustingCa(""));

        assertThat(result.get("status").asInt()).isEqualTo(200);
        assertThat(upstream.takeRequest(5, TimeUnit.SECONDS).getHandshakeServerNames())
                .containsExactly("localhost");
    }

    @Test
    void expiredCertificateIsTypedExpired() throws Exception {
        long now = System.currentTimeMillis();
        HeldCertificate expired = new HeldCertificate.Builder()
                .addSubjectAlternativeName("localhost")
                .validityInterval(now - TimeUnit.DAYS.toMillis(30), now - TimeUnit.DAYS.toMillis(1))
                .signedBy(ca)
                .build();
        serve(tls(expired).build(), false);

        assertTlsFailure(trustingCa(""), "expired", "tls_certificate_error");
    }

    @Test
    void certificateValidOnlyFromTomorrowIsTypedNotYetValid() throws Exception {
        long now = System.currentTimeMillis();
        HeldCertificate early = new HeldCertificate.Builder()
                .addSubjectAlternativeName("localhost")
                .validityInterval(now + TimeUnit.DAYS.toMillis(1), now + TimeUnit.DAYS.toMillis(30))
                .signedBy(ca)
                .build();
        serve(tls(early).build(), false);

        assertTlsFailure(trustingCa(""), "not yet valid", "tls_certificate_error");
    }

    @Test
    void presentsClientCertificateWhenUpstreamRequiresOne() throws Exception {
        HeldCertificate clientCa = new HeldCertificate.Builder()
                .certificateAuthority(0)
                .commonName("client CA")
                .rsa2048()
                .build();
        HeldCertificate client = new HeldCertificate.Builder()
                .commonName("sluice")
                .rsa2048()
                .signedBy(clientCa)
                .build();
        serve(tls(leaf).addTrustedCertificate(clientCa.certificate()).build(), true);
        upstream.enqueue(Upstream.ok("text/plain", "mutual"));
        Path cert = write("client.pem", client.certificatePem());
        Path key = write("client.key", client.privateKeyPkcs8Pem());

        JsonNode result = fetch(trustingCa("client_cert: \"" + cert + "\", client_key: \"" + key + "\""));

        assertThat(result.get("status").asInt()).isEqualTo(200);
        assertThat(upstream.takeRequest(5, TimeUnit.SECONDS).getHandshake().peerCertificates())
                .containsExactly(client.certificate());
    }

    @Test
    void upstreamRequiringClientCertificateRefusesWithoutOne() throws Exception {
        HeldCertificate clientCa = new HeldCertificate.Builder()
                .certificateAuthority(0)
                .commonName("client CA")
                .build();
        serve(tls(leaf).addTrustedCertificate(clientCa.certificate()).build(), true);

        JsonNode error = fetch(trustingCa("")).get("error");

        assertThat(error.get("type").asText()).isEqualTo("tls");
        assertThat(error.get("message").asText()).contains("handshake refused");
    }

    @Test
    void minVersionTls13AgainstTls12OnlyUpstreamIsRefused() throws Exception {
        serve(tls(leaf).build(), false, "TLSv1.2");

        assertTlsFailure(trustingCa("min_version: TLSv1.3"), "protocol_version", "tls_protocol_error");
        assertThat(upstream.getRequestCount()).isZero();
    }

    @Test
    void tls12OnlyUpstreamIsReachedByDefault() throws Exception {
        serve(tls(leaf).build(), false, "TLSv1.2");
        upstream.enqueue(Upstream.ok("text/plain", "old"));

        assertThat(fetch(trustingCa("")).get("status").asInt()).isEqualTo(200);
    }

    @Test
    void upstreamAddedThroughAdminApiGetsItsOwnTlsProfileAndStoresOnlyPaths() throws Exception {
        serve(tls(leaf).build(), false);
        upstream.enqueue(Upstream.ok("text/plain", "added"));
        Path state = dir.resolve("state.json");
        var running = sluice.start("admin: {token: t0ken, state_file: \"" + state + "\"}");
        Path caFile = write("ca.pem", ca.certificatePem());

        HttpResponse<String> added = TestHttp.send(HttpRequest.newBuilder(running.admin("/api/upstreams"))
                .header("Authorization", "Bearer t0ken")
                .header("Content-Type", "application/json")
                .POST(HttpRequest.BodyPublishers.ofString("""
                        {"name": "secure", "base_url": "https://localhost:%d", "allow_private": true,
                         "connect": "tunnel", "tunnel_idle_timeout": "1m", "tls": {"ca_file": "%s"}}""".formatted(upstream.getPort(), caFile)))
                .build());
        assertThat(added.statusCode()).as(added.body()).isEqualTo(201);

        JsonNode shown = TestHttp.JSON.readTree(
                TestHttp.get(running.admin("/api/upstreams/secure")).body());
        assertThat(shown.at("/config/connect").asText()).isEqualTo("tunnel");
        assertThat(shown.at("/config/tunnel_idle_timeout").asText()).isEqualTo("1m");
        assertThat(shown.at("/config/tls/ca_file").asText()).isEqualTo(caFile.toString());
        assertThat(Files.readString(state)).contains(caFile.toString()).doesNotContain("BEGIN");
        assertThat(TestHttp.get(running.data("/secure/x")).body()).isEqualTo("added");
    }

    // ---- helpers ----

    private void assertTlsFailure(String config, String reason, String proxyStatusError) {
        var running = sluice.start(config);

        JsonNode error = TestHttp.batch(running.data("/v1/batch"), """
                        {"requests": [{"url": "https://localhost:%d/x"}]}""".formatted(upstream.getPort()))
                .get("responses")
                .get(0)
                .get("error");
        assertThat(error.get("type").asText()).isEqualTo("tls");
        assertThat(error.get("message").asText()).startsWith("TLS failed: ").contains(reason);

        HttpResponse<String> passthrough = TestHttp.get(running.data("/secure/x"));
        assertThat(passthrough.statusCode()).isEqualTo(502);
        assertThat(passthrough.headers().firstValue("Proxy-Status"))
                .hasValueSatisfying(status -> assertThat(status)
                        .startsWith("sluice; error=" + proxyStatusError + "; details=\"TLS failed: ")
                        .contains(reason));
    }

    @Test
    void oversizedResponseHeadersOverHttp2AreTooLarge() throws Exception {
        // Over HTTP/2 (tls.http2) too a response head past the limit is refused, not relayed cut short.
        serve(tls(leaf).build(), false);
        var response = new mockwebserver3.MockResponse.Builder().body("big head");
        for (int i = 0; i < 100; i++) response.addHeader("X-Pad-" + i, "p".repeat(1000));
        upstream.enqueue(response.build());

        JsonNode result = fetch(trustingCa("http2: true"));

        assertThat(result.at("/error/type").asText()).isEqualTo("too_large");
        assertThat(result.at("/error/message").asText()).contains("server.max_response_header_size");
        assertThat(upstream.takeRequest(5, TimeUnit.SECONDS).getVersion()).isEqualToIgnoringCase("HTTP/2");
    }

    @Test
    void http2IsNegotiatedWhenThePolicyAsksForIt() throws Exception {
        serve(tls(leaf).build(), false);
        upstream.enqueue(Upstream.ok("text/plain", "over h2"));

        JsonNode result = fetch(trustingCa("http2: true"));

        assertThat(result.get("body").asText()).isEqualTo("over h2");
        assertThat(upstream.takeRequest(5, TimeUnit.SECONDS).getVersion()).isEqualToIgnoringCase("HTTP/2");
    }

    @Test
    void http11ConnectionsToATlsUpstreamAreKeptAlive() throws Exception {
        serve(tls(leaf).build(), false);
        upstream.enqueue(Upstream.ok("text/plain", "one"));
        upstream.enqueue(Upstream.ok("text/plain", "two"));
        var running = sluice.start(trustingCa(""));

        for (String path : List.of("/1", "/2")) {
            var response = TestHttp.get(running.data("/secure" + path));
            assertThat(response.statusCode()).isEqualTo(200);
        }

        RecordedRequest first = upstream.takeRequest(5, TimeUnit.SECONDS);
        RecordedRequest second = upstream.takeRequest(5, TimeUnit.SECONDS);
        assertThat(second.getConnectionIndex()).isEqualTo(first.getConnectionIndex());
        assertThat(second.getHandshake()).isNotNull();
        assertThat(first.getHandshakeServerNames()).containsExactly("localhost");
    }

    private JsonNode fetch(String config) {
        var running = sluice.start(config);
        return TestHttp.batch(running.data("/v1/batch"), """
                        {"requests": [{"url": "https://localhost:%d/x"}]}""".formatted(upstream.getPort()))
                .get("responses")
                .get(0);
    }

    /** The upstream's config; {@code tls} is the policy's {@code tls:} line, or empty. */
    private String upstreamConfig(String tls) {
        return """
                upstreams:
                  secure:
                    base_url: "https://localhost:%d"
                    allow_private: true
                    retry: {max_attempts: 1}
                    %s
                """.formatted(upstream.getPort(), tls);
    }

    /** The upstream trusting {@link #ca} per upstream, with more {@code tls} keys. */
    private String trustingCa(String moreTls) throws IOException {
        String caFile = "ca_file: \"" + write("ca.pem", ca.certificatePem()) + "\"";
        return upstreamConfig("tls: {" + caFile + (moreTls.isEmpty() ? "" : ", " + moreTls) + "}");
    }

    private HeldCertificate signedLeaf(String name) {
        return new HeldCertificate.Builder()
                .addSubjectAlternativeName(name)
                .commonName(name)
                .signedBy(ca)
                .build();
    }

    private HandshakeCertificates.Builder tls(HeldCertificate serverCertificate) {
        return new HandshakeCertificates.Builder().heldCertificate(serverCertificate, ca.certificate());
    }

    private void serve(HandshakeCertificates certificates, boolean requireClientAuth, String... protocols)
            throws IOException {
        SSLSocketFactory factory = certificates.sslSocketFactory();
        upstream.useHttps(protocols.length == 0 ? factory : new Restricted(factory, protocols));
        if (requireClientAuth) upstream.requireClientAuth();
        upstream.setProtocols(List.of(Protocol.HTTP_2, Protocol.HTTP_1_1));
        upstream.start(InetAddress.getLoopbackAddress(), 0);
    }

    private Path write(String name, String pem) throws IOException {
        return Files.writeString(dir.resolve(name), pem);
    }

    /** Server sockets that speak only {@code protocols}: an upstream stuck on an older TLS. */
    private static final class Restricted extends SSLSocketFactory {
        private final SSLSocketFactory delegate;
        private final String[] protocols;

        Restricted(SSLSocketFactory delegate, String[] protocols) {
            this.delegate = delegate;
            this.protocols = protocols;
        }

        private Socket restrict(Socket socket) {
            ((SSLSocket) socket).setEnabledProtocols(protocols);
            return socket;
        }

        @Override
        public Socket createSocket(Socket s, String host, int port, boolean autoClose) throws IOException {
            return restrict(delegate.createSocket(s, host, port, autoClose));
        }

        @Override
        public String[] getDefaultCipherSuites() {
            return delegate.getDefaultCipherSuites();
        }

        @Override
        public String[] getSupportedCipherSuites() {
            return delegate.getSupportedCipherSuites();
        }

        @Override
        public Socket createSocket(String host, int port) throws IOException {
            return restrict(delegate.createSocket(host, port));
        }

        @Override
        public Socket createSocket(String host, int port, InetAddress local, int localPort) throws IOException {
            return restrict(delegate.createSocket(host, port, local, localPort));
        }

        @Override
        public Socket createSocket(InetAddress host, int port) throws IOException {
            return restrict(delegate.createSocket(host, port));
        }

        @Override
        public Socket createSocket(InetAddress address, int port, InetAddress local, int localPort) throws IOException {
            return restrict(delegate.createSocket(address, port, local, localPort));
        }
    }
}
