package io.sluice.testing;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.InetAddress;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.GeneralSecurityException;
import java.security.KeyStore;
import java.security.cert.X509Certificate;
import java.util.List;
import javax.net.ssl.SSLContext;
import javax.net.ssl.TrustManagerFactory;
import mockwebserver3.MockWebServer;
import okhttp3.Protocol;
import okhttp3.tls.HandshakeCertificates;
import okhttp3.tls.HeldCertificate;

/**
 * A TLS origin for tests: a private CA of its own and a {@code localhost} certificate signed by it,
 * served by a {@link MockWebServer} on loopback port 0 (HTTP/2 and HTTP/1.1 by ALPN). Sluice trusts
 * it through {@code tls.ca_file} ({@link #writeCa}); clients are given {@link #trusting} contexts.
 */
public final class TlsOrigin {
    public final HeldCertificate ca = new HeldCertificate.Builder()
            .certificateAuthority(0)
            .commonName("origin test CA")
            .build();
    public final HeldCertificate leaf = new HeldCertificate.Builder()
            .addSubjectAlternativeName("localhost")
            .commonName("localhost")
            .signedBy(ca)
            .build();

    /** Starts {@code server} as this origin; the caller sets its dispatcher or queue and closes it. */
    public MockWebServer start(MockWebServer server) {
        server.useHttps(new HandshakeCertificates.Builder()
                .heldCertificate(leaf, ca.certificate())
                .build()
                .sslSocketFactory());
        server.setProtocols(List.of(Protocol.HTTP_2, Protocol.HTTP_1_1));
        try {
            server.start(InetAddress.getLoopbackAddress(), 0);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        return server;
    }

    /** The CA certificate as a PEM file in {@code dir}, for {@code tls.ca_file}. */
    public Path writeCa(Path dir) throws IOException {
        return Files.writeString(dir.resolve("origin-ca.pem"), ca.certificatePem());
    }

    /** A client context that trusts {@code ca} alone (Sluice's CA, or an origin's). */
    public static SSLContext trusting(X509Certificate ca) throws GeneralSecurityException, IOException {
        KeyStore store = KeyStore.getInstance("PKCS12");
        store.load(null, null);
        store.setCertificateEntry("ca", ca);
        TrustManagerFactory trust = TrustManagerFactory.getInstance(TrustManagerFactory.getDefaultAlgorithm());
        trust.init(store);
        SSLContext context = SSLContext.getInstance("TLS");
        context.init(null, trust.getTrustManagers(), null);
        return context;
    }
}
