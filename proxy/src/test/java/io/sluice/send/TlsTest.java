package io.sluice.send;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import io.sluice.testing.SluiceProcess;
import io.sluice.testing.SluiceServerExtension;
import io.sluice.testing.TestHttp;
import io.sluice.testing.Upstream;
import java.io.OutputStream;
import java.net.URI;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.KeyStore;
import java.util.List;
import java.util.concurrent.TimeUnit;
import mockwebserver3.MockWebServer;
import mockwebserver3.RecordedRequest;
import okhttp3.Protocol;
import okhttp3.tls.HandshakeCertificates;
import okhttp3.tls.HeldCertificate;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * TLS upstreams: verified against the JVM's trust store (never switched off), with HTTP/2
 * negotiated by ALPN where the upstream offers it.
 */
class TlsTest {
    @RegisterExtension
    final SluiceServerExtension sluice = new SluiceServerExtension();

    private final HeldCertificate ca = new HeldCertificate.Builder()
            .certificateAuthority(0)
            .commonName("test CA")
            .build();
    private final HeldCertificate leaf = new HeldCertificate.Builder()
            .addSubjectAlternativeName("localhost")
            .commonName("localhost")
            .signedBy(ca)
            .build();
    private final MockWebServer upstream = new MockWebServer();

    @BeforeEach
    void startTlsUpstream() throws Exception {
        HandshakeCertificates server = new HandshakeCertificates.Builder()
                .heldCertificate(leaf, ca.certificate())
                .build();
        upstream.useHttps(server.sslSocketFactory());
        upstream.setProtocols(List.of(Protocol.HTTP_2, Protocol.HTTP_1_1));
        upstream.start(java.net.InetAddress.getLoopbackAddress(), 0);
    }

    @AfterEach
    void stopUpstream() {
        upstream.close();
    }

    private String config() {
        return """
                upstreams:
                  secure: {base_url: "https://localhost:%d", allow_private: true, retry: {max_attempts: 1}, tls: {http2: true}}
                """.formatted(upstream.getPort());
    }

    @Test
    void untrustedCertificateIsATlsError() {
        var running = sluice.start(config());

        JsonNode result = TestHttp.batch(running.data("/v1/batch"), """
                {"requests": [{"url": "https://localhost:%d/x"}]}""".formatted(upstream.getPort()))
                .get("responses")
                .get(0);

        assertThat(result.get("error").get("type").asText()).isEqualTo("tls");
        assertThat(upstream.getRequestCount()).isZero();
    }

    @Test
    void trustedUpstreamIsSpokenToInHttp2(@org.junit.jupiter.api.io.TempDir Path dir) throws Exception {
        Path trustStore = dir.resolve("trust.p12");
        KeyStore store = KeyStore.getInstance("PKCS12");
        store.load(null, null);
        store.setCertificateEntry("test-ca", ca.certificate());
        try (OutputStream out = Files.newOutputStream(trustStore)) {
            store.store(out, "changeit".toCharArray());
        }
        upstream.enqueue(Upstream.ok("application/json", "{\"secure\":true}"));

        try (SluiceProcess process = SluiceProcess.start(
                config(),
                List.of(
                        "-Djavax.net.ssl.trustStore=" + trustStore,
                        "-Djavax.net.ssl.trustStorePassword=changeit",
                        "-Djavax.net.ssl.trustStoreType=PKCS12"))) {
            var response = TestHttp.get(URI.create("http://127.0.0.1:" + process.dataPort() + "/secure/x"));

            assertThat(response.statusCode()).isEqualTo(200);
            assertThat(response.body()).isEqualTo("{\"secure\":true}");
            RecordedRequest seen = upstream.takeRequest(5, TimeUnit.SECONDS);
            assertThat(seen.getVersion()).isEqualToIgnoringCase("HTTP/2");
        }
    }
}
