package io.sluice.tls;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.sluice.time.FakeTimeSource;
import java.io.IOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.nio.ByteBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.GeneralSecurityException;
import java.security.KeyStore;
import java.security.cert.CertPathBuilderException;
import java.security.cert.Certificate;
import java.security.cert.PKIXBuilderParameters;
import java.security.cert.X509CertSelector;
import java.security.cert.X509Certificate;
import java.time.Duration;
import java.time.Instant;
import java.util.Arrays;
import java.util.Date;
import java.util.List;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import javax.net.ssl.CertPathTrustManagerParameters;
import javax.net.ssl.SSLContext;
import javax.net.ssl.SSLEngine;
import javax.net.ssl.SSLEngineResult;
import javax.net.ssl.SSLHandshakeException;
import javax.net.ssl.SSLParameters;
import javax.net.ssl.SSLServerSocket;
import javax.net.ssl.SSLSocket;
import javax.net.ssl.TrustManagerFactory;
import okhttp3.tls.HeldCertificate;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class InterceptTlsTest {
    private static final Instant START = Instant.parse("2026-01-01T00:00:00Z");
    /** The client's view of the server engine's peer: the address the proxy accepted it from. */
    private static final InetSocketAddress CLIENT_PEER = new InetSocketAddress("127.0.0.1", 50_123);

    private final FakeTimeSource time = new FakeTimeSource(START);

    @TempDir
    Path tmp;

    @Test
    void clientVerifyingHostnameAcceptsLeafForItsSniName() throws Exception {
        CertificateAuthority ca = CertificateAuthority.loadOrGenerate(tmp, time.clock());
        InterceptTls tls = InterceptTls.create(ca, time, 100);
        SSLEngine client = client(trusting(ca.certificate()), "api.example.test");

        handshake(client, server(tls));

        Certificate[] chain = client.getSession().getPeerCertificates();
        assertThat(chain).hasSize(2);
        assertThat(chain[1]).isEqualTo(ca.certificate());
        X509Certificate leaf = (X509Certificate) chain[0];
        assertThat(leaf.getSubjectAlternativeNames()).containsExactly(List.of(2, "api.example.test"));
        assertThat(leaf.getSubjectX500Principal().getName()).isEqualTo("CN=api.example.test");
        assertThat(leaf.getPublicKey().getAlgorithm()).isEqualTo("EC");
        assertThat(leaf.getBasicConstraints()).as("not a CA").isEqualTo(-1);
        assertThat(leaf.getExtendedKeyUsage()).containsExactly("1.3.6.1.5.5.7.3.1");
        assertThat(leaf.getKeyUsage()[0]).as("digitalSignature").isTrue();
        assertThat(leaf.getSerialNumber().signum()).isPositive();
        assertThat(leaf.getExtensionValue("2.5.29.35"))
                .as("authorityKeyIdentifier")
                .isNotNull();
        leaf.verify(ca.certificate().getPublicKey());
    }

    @Test
    void rsaOnlyTls12ClientGetsAnRsaLeaf() throws Exception {
        CertificateAuthority ca = CertificateAuthority.loadOrGenerate(tmp, time.clock());
        InterceptTls tls = InterceptTls.create(ca, time, 100);
        SSLEngine client = client(trusting(ca.certificate()), "legacy.example.test");
        client.setEnabledProtocols(new String[] {"TLSv1.2"});
        client.setEnabledCipherSuites(Arrays.stream(client.getSupportedCipherSuites())
                .filter(suite -> suite.startsWith("TLS_ECDHE_RSA_"))
                .toArray(String[]::new));

        handshake(client, server(tls));

        X509Certificate leaf = (X509Certificate) client.getSession().getPeerCertificates()[0];
        assertThat(client.getSession().getProtocol()).isEqualTo("TLSv1.2");
        assertThat(leaf.getPublicKey().getAlgorithm()).isEqualTo("RSA");
        assertThat(leaf.getKeyUsage()[2]).as("keyEncipherment").isTrue();
        assertThat(leaf.getSubjectAlternativeNames()).containsExactly(List.of(2, "legacy.example.test"));
    }

    @Test
    void clientWithoutSniGetsLeafForTheHostHintOfItsConnection() throws Exception {
        CertificateAuthority ca = CertificateAuthority.loadOrGenerate(tmp, time.clock());
        InterceptTls tls = InterceptTls.create(ca, time, 100);
        tls.hostHint(CLIENT_PEER, "10.1.2.3");
        // An IP target: the JDK sends no SNI, and checks the iPAddress SAN.
        SSLEngine client = client(trusting(ca.certificate()), "10.1.2.3");

        handshake(client, server(tls));

        X509Certificate leaf = (X509Certificate) client.getSession().getPeerCertificates()[0];
        assertThat(leaf.getSubjectAlternativeNames()).containsExactly(List.of(7, "10.1.2.3"));
    }

    @Test
    void clientWithoutSniOrHintFailsItsHandshakeAndNothingIsMinted() throws Exception {
        CertificateAuthority ca = CertificateAuthority.loadOrGenerate(tmp, time.clock());
        InterceptTls tls = InterceptTls.create(ca, time, 100);
        tls.hostHint(CLIENT_PEER, "10.1.2.3");
        tls.clearHint(CLIENT_PEER);
        SSLEngine client = client(trusting(ca.certificate()), "10.1.2.3");

        assertThatThrownBy(() -> handshake(client, server(tls))).isInstanceOf(SSLHandshakeException.class);
        assertThat(tls.mintedCount()).isZero();
    }

    @Test
    void clientThatDoesNotTrustTheCaFailsItsHandshake() throws Exception {
        CertificateAuthority ca = CertificateAuthority.loadOrGenerate(tmp, time.clock());
        InterceptTls tls = InterceptTls.create(ca, time, 100);
        X509Certificate otherCa =
                new HeldCertificate.Builder().certificateAuthority(0).build().certificate();
        SSLEngine client = client(trusting(otherCa), "api.example.test");

        assertThatThrownBy(() -> handshake(client, server(tls)))
                .isInstanceOf(SSLHandshakeException.class)
                .hasRootCauseInstanceOf(CertPathBuilderException.class);
    }

    @Test
    void secondHandshakeForTheSameNameReusesTheLeaf() throws Exception {
        CertificateAuthority ca = CertificateAuthority.loadOrGenerate(tmp, time.clock());
        InterceptTls tls = InterceptTls.create(ca, time, 100);

        X509Certificate first = leafFor(tls, ca, "api.example.test");
        X509Certificate second = leafFor(tls, ca, "API.example.test");

        assertThat(second).isEqualTo(first);
        assertThat(tls.mintedCount()).isEqualTo(1);
    }

    @Test
    void leafIsMintedAgainAfterADayWithDatesFromTheClock() throws Exception {
        CertificateAuthority ca = CertificateAuthority.loadOrGenerate(tmp, time.clock());
        InterceptTls tls = InterceptTls.create(ca, time, 100);
        X509Certificate first = leafFor(tls, ca, "api.example.test");
        assertThat(first.getNotBefore().toInstant()).isEqualTo(START.minus(Duration.ofHours(1)));
        assertThat(first.getNotAfter().toInstant()).isEqualTo(START.plus(Duration.ofDays(7)));

        time.advance(Duration.ofDays(1).plusSeconds(1));
        X509Certificate second = leafFor(tls, ca, "api.example.test");

        assertThat(tls.mintedCount()).isEqualTo(2);
        assertThat(second.getSerialNumber()).isNotEqualTo(first.getSerialNumber());
        assertThat(second.getNotAfter().toInstant())
                .isEqualTo(START.plus(Duration.ofDays(8)).plusSeconds(1));
        // One shared key for all leaves of a type: a day's new leaf costs a signature, not a key.
        assertThat(second.getPublicKey()).isEqualTo(first.getPublicKey());
    }

    @Test
    void leafNeverOutlivesItsCa() throws Exception {
        HeldCertificate operator = new HeldCertificate.Builder()
                .certificateAuthority(0)
                .validityInterval(
                        START.minus(Duration.ofDays(1)).toEpochMilli(),
                        START.plus(Duration.ofDays(2)).toEpochMilli())
                .build();
        Path cert = Files.writeString(tmp.resolve("ca.pem"), operator.certificatePem());
        Path key = Files.writeString(tmp.resolve("ca-key.pem"), operator.privateKeyPkcs8Pem());
        CertificateAuthority ca = CertificateAuthority.load(cert, key);

        X509Certificate leaf = leafFor(InterceptTls.create(ca, time, 100), ca, "api.example.test");

        assertThat(leaf.getNotAfter().toInstant()).isEqualTo(START.plus(Duration.ofDays(2)));
    }

    @Test
    void sslServerSocketServesLeavesForSniAndForHints() throws Exception {
        CertificateAuthority ca = CertificateAuthority.loadOrGenerate(tmp, time.clock());
        InterceptTls tls = InterceptTls.create(ca, time, 100);
        SSLContext clientContext = trusting(ca.certificate());
        InetAddress loopback = InetAddress.getLoopbackAddress();
        ExecutorService acceptor = Executors.newSingleThreadExecutor();
        try (SSLServerSocket server =
                (SSLServerSocket) tls.sslContext().getServerSocketFactory().createServerSocket(0, 4, loopback)) {
            Future<?> accepted = acceptor.submit(() -> acceptAndHandshake(server, 2));

            X509Certificate byName =
                    connect(clientContext, loopback, server.getLocalPort(), "api.example.test", null, tls);
            X509Certificate byHint = connect(
                    clientContext,
                    loopback,
                    server.getLocalPort(),
                    loopback.getHostAddress(),
                    loopback.getHostAddress(),
                    tls);

            accepted.get();
            assertThat(byName.getSubjectAlternativeNames()).containsExactly(List.of(2, "api.example.test"));
            assertThat(byHint.getSubjectAlternativeNames()).containsExactly(List.of(7, loopback.getHostAddress()));
        } finally {
            acceptor.shutdownNow();
        }
    }

    private X509Certificate leafFor(InterceptTls tls, CertificateAuthority ca, String host) throws Exception {
        SSLEngine client = client(trusting(ca.certificate()), host);
        handshake(client, server(tls));
        return (X509Certificate) client.getSession().getPeerCertificates()[0];
    }

    static SSLEngine server(InterceptTls tls) {
        // As XNIO creates it: peer host and port are the client's socket address.
        SSLEngine engine = tls.sslContext().createSSLEngine(CLIENT_PEER.getHostString(), CLIENT_PEER.getPort());
        engine.setUseClientMode(false);
        return engine;
    }

    static SSLEngine client(SSLContext context, String host) {
        SSLEngine engine = context.createSSLEngine(host, 443);
        engine.setUseClientMode(true);
        SSLParameters parameters = engine.getSSLParameters();
        parameters.setEndpointIdentificationAlgorithm("HTTPS");
        engine.setSSLParameters(parameters);
        return engine;
    }

    /** A client that trusts only {@code ca}, validating at the fake clock's instant, not the real one. */
    private SSLContext trusting(X509Certificate ca) throws GeneralSecurityException, IOException {
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

    /** Shuttles records between two engines in memory until both finish the handshake. */
    static void handshake(SSLEngine client, SSLEngine server) throws IOException {
        ByteBuffer clientToServer = ByteBuffer.allocate(1 << 17);
        ByteBuffer serverToClient = ByteBuffer.allocate(1 << 17);
        client.beginHandshake();
        server.beginHandshake();
        for (int round = 0; round < 20; round++) {
            if (idle(client) && idle(server)) {
                return;
            }
            wrapAll(client, clientToServer);
            wrapAll(server, serverToClient);
            unwrapAll(server, clientToServer);
            unwrapAll(client, serverToClient);
        }
        throw new AssertionError("handshake did not finish: client " + client.getHandshakeStatus() + ", server "
                + server.getHandshakeStatus());
    }

    /**
     * As the interceptor does: reads the client's first flight as a {@link ClientHello}, answers it
     * with the engine {@link InterceptTls#contextFor} picks for a tunnel to {@code connectHost}, and
     * finishes the handshake. Returns the server engine used.
     */
    static SSLEngine handshakeChoosing(SSLEngine client, InterceptTls tls, String connectHost) throws IOException {
        ByteBuffer clientToServer = ByteBuffer.allocate(1 << 17);
        client.beginHandshake();
        wrapAll(client, clientToServer);
        ClientHello.Peek hello = ClientHello.read(clientToServer.duplicate().flip());
        SSLEngine server =
                tls.contextFor(hello, connectHost).createSSLEngine(CLIENT_PEER.getHostString(), CLIENT_PEER.getPort());
        server.setUseClientMode(false);
        ByteBuffer serverToClient = ByteBuffer.allocate(1 << 17);
        server.beginHandshake();
        for (int round = 0; round < 20; round++) {
            unwrapAll(server, clientToServer);
            wrapAll(server, serverToClient);
            unwrapAll(client, serverToClient);
            wrapAll(client, clientToServer);
            if (idle(client) && idle(server)) {
                return server;
            }
        }
        throw new AssertionError("handshake did not finish: client " + client.getHandshakeStatus() + ", server "
                + server.getHandshakeStatus());
    }

    private static boolean idle(SSLEngine engine) {
        return engine.getHandshakeStatus() == SSLEngineResult.HandshakeStatus.NOT_HANDSHAKING;
    }

    private static void wrapAll(SSLEngine engine, ByteBuffer out) throws IOException {
        SSLEngineResult result;
        do {
            result = engine.wrap(ByteBuffer.allocate(0), out);
            runTasks(engine);
        } while (result.bytesProduced() > 0);
    }

    private static void unwrapAll(SSLEngine engine, ByteBuffer in) throws IOException {
        in.flip();
        ByteBuffer application = ByteBuffer.allocate(1 << 17);
        SSLEngineResult result;
        do {
            result = engine.unwrap(in, application);
            runTasks(engine);
        } while (result.bytesConsumed() > 0 && in.hasRemaining());
        in.compact();
    }

    private static void runTasks(SSLEngine engine) {
        for (Runnable task = engine.getDelegatedTask(); task != null; task = engine.getDelegatedTask()) {
            task.run();
        }
    }

    private static X509Certificate connect(
            SSLContext context, InetAddress address, int port, String host, String hint, InterceptTls tls)
            throws IOException {
        try (Socket plain = new Socket(address, port)) {
            if (hint != null) {
                tls.hostHint(new InetSocketAddress(address, plain.getLocalPort()), hint);
            }
            try (SSLSocket socket = (SSLSocket) context.getSocketFactory().createSocket(plain, host, port, false)) {
                SSLParameters parameters = socket.getSSLParameters();
                parameters.setEndpointIdentificationAlgorithm("HTTPS");
                socket.setSSLParameters(parameters);
                socket.startHandshake();
                X509Certificate leaf = (X509Certificate) socket.getSession().getPeerCertificates()[0];
                socket.getOutputStream().write('x');
                socket.getOutputStream().flush();
                return leaf;
            }
        }
    }

    private static Void acceptAndHandshake(SSLServerSocket server, int connections) throws IOException {
        for (int i = 0; i < connections; i++) {
            try (SSLSocket socket = (SSLSocket) server.accept()) {
                socket.getInputStream().read(); // completes the server's handshake, then the client's byte
            }
        }
        return null;
    }
}
