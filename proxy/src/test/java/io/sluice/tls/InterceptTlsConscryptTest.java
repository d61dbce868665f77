package io.sluice.tls;

import static io.sluice.tls.InterceptTlsTest.client;
import static io.sluice.tls.InterceptTlsTest.handshake;
import static io.sluice.tls.InterceptTlsTest.server;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.sluice.config.TlsProvider;
import io.sluice.time.FakeTimeSource;
import java.net.InetSocketAddress;
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
 * The interception server context over Conscrypt: its engine calls the key manager inside {@code
 * unwrap}, on the caller's thread, so leaves are prepared on an executor first and the handshake
 * only presents them.
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
    void serverEngineIsConscryptsAndSeesTheSniNameOfAPreparedHostMintedOnTheExecutor() throws Exception {
        CertificateAuthority ca = CertificateAuthority.loadOrGenerate(tmp, time.clock());
        InterceptTls tls = create(ca);
        SSLEngine server = server(tls);
        assertThat(server.getClass().getName()).startsWith("org.conscrypt.");
        SSLEngine client = client(trusting(ca.certificate()), "api.example.test");

        try (MintThreads threads = MintThreads.record()) {
            tls.prepare("api.example.test", minting).get(5, TimeUnit.SECONDS);
            handshake(client, server);
            assertThat(threads.names()).containsExactly("test-minting");
        }

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
    void clientWithoutSniGetsTheLeafPreparedForItsHint() throws Exception {
        CertificateAuthority ca = CertificateAuthority.loadOrGenerate(tmp, time.clock());
        InterceptTls tls = create(ca);
        tls.hostHint(CLIENT_PEER, "10.1.2.3");
        tls.prepare("10.1.2.3", minting).get(5, TimeUnit.SECONDS);
        SSLEngine client = client(trusting(ca.certificate()), "10.1.2.3");

        handshake(client, server(tls));

        X509Certificate leaf = (X509Certificate) client.getSession().getPeerCertificates()[0];
        assertThat(leaf.getSubjectAlternativeNames()).containsExactly(List.of(7, "10.1.2.3"));
    }

    @Test
    void sniNamingAnUnpreparedHostFailsTheHandshakeAndMintsNothingOnTheCallersThread() throws Exception {
        CertificateAuthority ca = CertificateAuthority.loadOrGenerate(tmp, time.clock());
        InterceptTls tls = create(ca);
        tls.prepare("api.example.test", minting).get(5, TimeUnit.SECONDS);
        SSLEngine client = client(trusting(ca.certificate()), "other.example.test");

        assertThatThrownBy(() -> handshake(client, server(tls))).isInstanceOf(SSLException.class);
        assertThat(tls.mintedCount()).isEqualTo(1);
    }

    /**
     * BoringSSL keeps one certificate per connection, the last Conscrypt gives it, whatever the
     * client offers: with Conscrypt only the EC leaf is presented, and a client that accepts only
     * RSA-authenticated suites fails (JSSE gives it an RSA leaf: InterceptTlsTest).
     */
    @Test
    void rsaOnlyTls12ClientFailsItsHandshakeWithConscrypt() throws Exception {
        CertificateAuthority ca = CertificateAuthority.loadOrGenerate(tmp, time.clock());
        InterceptTls tls = create(ca);
        tls.prepare("legacy.example.test", minting).get(5, TimeUnit.SECONDS);
        SSLEngine client = client(trusting(ca.certificate()), "legacy.example.test");
        client.setEnabledProtocols(new String[] {"TLSv1.2"});
        client.setEnabledCipherSuites(Arrays.stream(client.getSupportedCipherSuites())
                .filter(suite -> suite.startsWith("TLS_ECDHE_RSA_"))
                .toArray(String[]::new));

        assertThatThrownBy(() -> handshake(client, server(tls))).isInstanceOf(SSLException.class);
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
