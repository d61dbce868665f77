package io.sluice.tls;

import static io.sluice.tls.InterceptTlsTest.client;
import static io.sluice.tls.InterceptTlsTest.handshake;
import static io.sluice.tls.InterceptTlsTest.handshakeChoosing;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.sluice.config.TlsProvider;
import io.sluice.time.FakeTimeSource;
import java.net.InetSocketAddress;
import java.nio.ByteBuffer;
import java.nio.file.Path;
import java.security.KeyStore;
import java.security.cert.PKIXBuilderParameters;
import java.security.cert.X509CertSelector;
import java.security.cert.X509Certificate;
import java.time.Instant;
import java.util.Arrays;
import java.util.Date;
import java.util.List;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import javax.net.ssl.CertPathTrustManagerParameters;
import javax.net.ssl.SSLContext;
import javax.net.ssl.SSLEngine;
import javax.net.ssl.SSLException;
import javax.net.ssl.TrustManagerFactory;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Interception with Conscrypt: its engine calls the key manager inside {@code unwrap}, on the
 * caller's thread, so leaves are prepared on an executor first and its handshake only presents
 * them; a client it cannot serve so (RSA only, an unprepared SNI name, no readable hello) is
 * answered by JSSE, chosen from the client's hello.
 */
class InterceptTlsConscryptTest {
    private static final Instant START = Instant.parse("2026-01-01T00:00:00Z");
    private static final InetSocketAddress CLIENT_PEER = new InetSocketAddress("127.0.0.1", 50_123);

    private final FakeTimeSource time = new FakeTimeSource(START);
    private final ExecutorService minting = Executors.newSingleThreadExecutor(r -> new Thread(r, "test-minting"));

    @TempDir
    Path tmp;

    @AfterEach
    void stop() {
        minting.shutdownNow();
    }

    private InterceptTls create(CertificateAuthority ca) {
        TlsEngines engines = TlsEngines.select(TlsProvider.CONSCRYPT);
        assertThat(engines.effective()).isEqualTo(TlsProvider.CONSCRYPT);
        return InterceptTls.create(ca, time, 100, engines);
    }

    @Test
    void aClientNamingThePreparedHostIsServedByConscryptWithTheLeafMintedOnTheExecutor() throws Exception {
        CertificateAuthority ca = CertificateAuthority.loadOrGenerate(tmp, time.clock());
        InterceptTls tls = create(ca);
        SSLEngine client = client(trusting(ca.certificate()), "api.example.test");

        SSLEngine server;
        try (MintThreads threads = MintThreads.record()) {
            tls.prepare("api.example.test", minting).get(5, TimeUnit.SECONDS);
            server = handshakeChoosing(client, tls, "api.example.test");
            assertThat(threads.names()).containsExactly("test-minting");
        }

        assertThat(server.getClass().getName()).startsWith("org.conscrypt.");
        X509Certificate leaf = (X509Certificate) client.getSession().getPeerCertificates()[0];
        assertThat(leaf.getSubjectAlternativeNames()).containsExactly(List.of(2, "api.example.test"));
        assertThat(leaf.getPublicKey().getAlgorithm()).isEqualTo("EC");
        assertThat(client.getSession().getProtocol()).isEqualTo("TLSv1.3");
        assertThat(tls.mintedCount()).isEqualTo(1);
    }

    @Test
    void preparingACachedHostIsDoneAtOnce() throws Exception {
        InterceptTls tls = create(CertificateAuthority.loadOrGenerate(tmp, time.clock()));
        tls.prepare("api.example.test", minting).get(5, TimeUnit.SECONDS);

        assertThat(tls.prepare("API.example.test", Runnable::run)).isCompleted();
        assertThat(tls.mintedCount()).isEqualTo(1);
    }

    @Test
    void clientWithoutSniIsServedByConscryptWithTheLeafPreparedForItsHint() throws Exception {
        CertificateAuthority ca = CertificateAuthority.loadOrGenerate(tmp, time.clock());
        InterceptTls tls = create(ca);
        tls.hostHint(CLIENT_PEER, "10.1.2.3");
        tls.prepare("10.1.2.3", minting).get(5, TimeUnit.SECONDS);
        SSLEngine client = client(trusting(ca.certificate()), "10.1.2.3");

        SSLEngine server = handshakeChoosing(client, tls, "10.1.2.3");

        assertThat(server.getClass().getName()).startsWith("org.conscrypt.");
        X509Certificate leaf = (X509Certificate) client.getSession().getPeerCertificates()[0];
        assertThat(leaf.getSubjectAlternativeNames()).containsExactly(List.of(7, "10.1.2.3"));
    }

    /** Conscrypt's engine alone cannot mint (it would run on the IO thread): JSSE takes that client. */
    @Test
    void sniNamingAnUnpreparedHostIsServedByJsseWhichMintsItsLeaf() throws Exception {
        CertificateAuthority ca = CertificateAuthority.loadOrGenerate(tmp, time.clock());
        InterceptTls tls = create(ca);
        tls.prepare("api.example.test", minting).get(5, TimeUnit.SECONDS);
        SSLEngine client = client(trusting(ca.certificate()), "other.example.test");

        SSLEngine server = handshakeChoosing(client, tls, "api.example.test");

        assertThat(server.getClass().getName()).doesNotStartWith("org.conscrypt.");
        X509Certificate leaf = (X509Certificate) client.getSession().getPeerCertificates()[0];
        assertThat(leaf.getSubjectAlternativeNames()).containsExactly(List.of(2, "other.example.test"));
        assertThat(tls.mintedCount()).isEqualTo(2);
    }

    @Test
    void sniNamingAnotherHostWhoseLeafIsCachedStaysOnConscrypt() throws Exception {
        CertificateAuthority ca = CertificateAuthority.loadOrGenerate(tmp, time.clock());
        InterceptTls tls = create(ca);
        tls.prepare("api.example.test", minting).get(5, TimeUnit.SECONDS);
        tls.prepare("cdn.example.test", minting).get(5, TimeUnit.SECONDS);
        SSLEngine client = client(trusting(ca.certificate()), "cdn.example.test");

        SSLEngine server = handshakeChoosing(client, tls, "api.example.test");

        assertThat(server.getClass().getName()).startsWith("org.conscrypt.");
        X509Certificate leaf = (X509Certificate) client.getSession().getPeerCertificates()[0];
        assertThat(leaf.getSubjectAlternativeNames()).containsExactly(List.of(2, "cdn.example.test"));
    }

    /**
     * BoringSSL keeps one certificate per connection, the last Conscrypt gives it, whatever the
     * client offers: Conscrypt's context presents only the EC leaf, and a client that accepts only
     * RSA-authenticated suites fails there. This is why the choice exists.
     */
    @Test
    void rsaOnlyTls12ClientFailsOnConscryptsContextAlone() throws Exception {
        CertificateAuthority ca = CertificateAuthority.loadOrGenerate(tmp, time.clock());
        InterceptTls tls = create(ca);
        tls.prepare("legacy.example.test", minting).get(5, TimeUnit.SECONDS);
        SSLEngine client = rsaOnlyTls12(client(trusting(ca.certificate()), "legacy.example.test"));
        SSLEngine server = tls.fastContext().createSSLEngine(CLIENT_PEER.getHostString(), CLIENT_PEER.getPort());
        server.setUseClientMode(false);

        assertThatThrownBy(() -> handshake(client, server)).isInstanceOf(SSLException.class);
    }

    @Test
    void rsaOnlyTls12ClientIsServedByJsseWithAnRsaLeaf() throws Exception {
        CertificateAuthority ca = CertificateAuthority.loadOrGenerate(tmp, time.clock());
        InterceptTls tls = create(ca);
        tls.prepare("legacy.example.test", minting).get(5, TimeUnit.SECONDS);
        SSLEngine client = rsaOnlyTls12(client(trusting(ca.certificate()), "legacy.example.test"));

        SSLEngine server = handshakeChoosing(client, tls, "legacy.example.test");

        assertThat(server.getClass().getName()).doesNotStartWith("org.conscrypt.");
        X509Certificate leaf = (X509Certificate) client.getSession().getPeerCertificates()[0];
        assertThat(leaf.getPublicKey().getAlgorithm()).isEqualTo("RSA");
        assertThat(client.getSession().getProtocol()).isEqualTo("TLSv1.2");
    }

    @Test
    void ecdsaTls12ClientIsServedByConscrypt() throws Exception {
        CertificateAuthority ca = CertificateAuthority.loadOrGenerate(tmp, time.clock());
        InterceptTls tls = create(ca);
        tls.prepare("legacy.example.test", minting).get(5, TimeUnit.SECONDS);
        SSLEngine client = client(trusting(ca.certificate()), "legacy.example.test");
        client.setEnabledProtocols(new String[] {"TLSv1.2"});

        SSLEngine server = handshakeChoosing(client, tls, "legacy.example.test");

        assertThat(server.getClass().getName()).startsWith("org.conscrypt.");
        assertThat(client.getSession().getProtocol()).isEqualTo("TLSv1.2");
        assertThat(client.getSession().getCipherSuite()).startsWith("TLS_ECDHE_ECDSA_");
    }

    @Test
    void bytesThatAreNoHelloGoToJsse() throws Exception {
        InterceptTls tls = create(CertificateAuthority.loadOrGenerate(tmp, time.clock()));
        ClientHello.Peek garbage = ClientHello.read(ByteBuffer.wrap("GET / HTTP/1.1\r\n\r\n".getBytes()));

        assertThat(garbage).isInstanceOf(ClientHello.Unreadable.class);
        assertThat(tls.contextFor(garbage, "api.example.test")).isSameAs(tls.sslContext());
    }

    private static SSLEngine rsaOnlyTls12(SSLEngine client) {
        client.setEnabledProtocols(new String[] {"TLSv1.2"});
        client.setEnabledCipherSuites(Arrays.stream(client.getSupportedCipherSuites())
                .filter(suite -> suite.startsWith("TLS_ECDHE_RSA_"))
                .toArray(String[]::new));
        return client;
    }

    private SSLContext trusting(X509Certificate ca) throws Exception {
        KeyStore trusted = KeyStore.getInstance("PKCS12");
        trusted.load(null, null);
        trusted.setCertificateEntry("ca", ca);
        PKIXBuilderParameters parameters = new PKIXBuilderParameters(trusted, new X509CertSelector());
        parameters.setRevocationEnabled(false);
        parameters.setDate(Date.from(time.clock().instant()));
        TrustManagerFactory factory = TrustManagerFactory.getInstance("PKIX");
        factory.init(new CertPathTrustManagerParameters(parameters));
        SSLContext context = SSLContext.getInstance("TLS");
        context.init(null, factory.getTrustManagers(), null);
        return context;
    }
}
