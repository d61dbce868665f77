package io.sluice.connect;

import static org.assertj.core.api.Assertions.assertThat;

import io.sluice.testing.SluiceProcess;
import io.sluice.testing.TestHttp;
import java.io.IOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ProxySelector;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.cert.CertificateFactory;
import java.security.cert.X509Certificate;
import java.util.List;
import javax.net.ssl.SSLContext;
import mockwebserver3.MockResponse;
import mockwebserver3.MockWebServer;
import okhttp3.tls.HandshakeCertificates;
import okhttp3.tls.HeldCertificate;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Sluice as a process, as operators run it: it prints where its CA certificate is, serves the
 * certificate, and its key appears nowhere it writes or serves — not on its output (logs), not in the
 * admin API or metrics — even after intercepted traffic and refusals.
 */
class CaKeySecrecyTest {
    @TempDir
    Path dir;

    @Test
    void caKeyNeverReachesTheLogsOrTheAdminPort() throws Exception {
        HeldCertificate originCa = new HeldCertificate.Builder()
                .certificateAuthority(0)
                .commonName("origin CA")
                .build();
        HeldCertificate originLeaf = new HeldCertificate.Builder()
                .addSubjectAlternativeName("localhost")
                .signedBy(originCa)
                .build();
        Path caDir = dir.resolve("ca");
        Path originCaFile = Files.writeString(dir.resolve("origin-ca.pem"), originCa.certificatePem());
        try (MockWebServer upstream = new MockWebServer()) {
            upstream.useHttps(new HandshakeCertificates.Builder()
                    .heldCertificate(originLeaf)
                    .build()
                    .sslSocketFactory());
            upstream.start(InetAddress.getLoopbackAddress(), 0);
            upstream.enqueue(new MockResponse.Builder().body("fine").build());
            String yaml = """
                    tls: {ca_dir: "%s", ca_file: "%s"}
                    upstreams:
                      origin: {match: ["https://localhost:%d"], allow_private: true}
                    """.formatted(caDir, originCaFile, upstream.getPort());

            try (SluiceProcess sluice = SluiceProcess.start(yaml, List.of())) {
                String pem = TestHttp.get(URI.create("http://127.0.0.1:" + sluice.adminPort() + "/api/tls/ca.pem"))
                        .body();
                HttpClient client = HttpClient.newBuilder()
                        .proxy(ProxySelector.of(new InetSocketAddress("127.0.0.1", sluice.dataPort())))
                        .sslContext(trusting(pem))
                        .build();
                var intercepted = client.send(
                        HttpRequest.newBuilder(URI.create("https://localhost:" + upstream.getPort() + "/x"))
                                .build(),
                        HttpResponse.BodyHandlers.ofString());
                assertThat(intercepted.body()).isEqualTo("fine");
                var untrusting = HttpClient.newBuilder()
                        .proxy(ProxySelector.of(new InetSocketAddress("127.0.0.1", sluice.dataPort())))
                        .build();
                try {
                    untrusting.send(
                            HttpRequest.newBuilder(URI.create("https://localhost:" + upstream.getPort() + "/y"))
                                    .build(),
                            HttpResponse.BodyHandlers.ofString());
                } catch (IOException expected) {
                    // the handshake fails: the client does not trust Sluice's CA
                }
                List<String> served = List.of(
                        get(sluice, "/api/config"), get(sluice, "/api/upstreams"), get(sluice, "/metrics"), pem);

                sluice.terminate();
                assertThat(sluice.awaitExit(30)).isZero();
                List<String> output = sluice.output();
                String keyBody = keyBody(caDir.resolve("sluice-ca-key.pem"));

                assertThat(output)
                        .anySatisfy(line -> assertThat(line)
                                .contains("HTTPS_PROXY clients trust Sluice's CA: " + caDir.resolve("sluice-ca.pem")));
                assertThat(String.join("\n", output)).doesNotContain(keyBody).doesNotContain("PRIVATE KEY");
                for (String body : served)
                    assertThat(body).doesNotContain(keyBody).doesNotContain("PRIVATE KEY");
            }
        }
    }

    private static String get(SluiceProcess sluice, String path) {
        return TestHttp.get(URI.create("http://127.0.0.1:" + sluice.adminPort() + path))
                .body();
    }

    /** The first base64 line of the key file: 64 characters no output may contain. */
    private static String keyBody(Path keyFile) throws IOException {
        return Files.readString(keyFile)
                .lines()
                .filter(l -> !l.startsWith("-----"))
                .findFirst()
                .orElseThrow();
    }

    private static SSLContext trusting(String pem) throws Exception {
        X509Certificate ca = (X509Certificate) CertificateFactory.getInstance("X.509")
                .generateCertificate(
                        new java.io.ByteArrayInputStream(pem.getBytes(java.nio.charset.StandardCharsets.US_ASCII)));
        return io.sluice.testing.TlsOrigin.trusting(ca);
    }
}
