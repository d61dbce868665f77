package io.sluice.connect;

import static org.assertj.core.api.Assertions.assertThat;

import io.sluice.config.TlsProvider;
import io.sluice.tls.MintThreads;
import java.net.Socket;
import java.security.cert.X509Certificate;
import javax.net.ssl.SSLSocket;
import org.junit.jupiter.api.Test;

/** Every case of {@link ConnectTest} with {@code tls.provider: conscrypt}, and what only Conscrypt needs. */
class ConnectConscryptTest extends ConnectTest {
    @Override
    TlsProvider tlsProvider() {
        return TlsProvider.CONSCRYPT;
    }

    /**
     * Conscrypt's engine calls the key manager inside {@code unwrap}, on the IO thread; the CONNECT
     * handler mints the leaf on the worker pool before the {@code 200}, so the first handshake for a
     * host finds it cached.
     */
    @Test
    void firstHandshakeForANewHostMintsItsLeafOnAWorkerNotAnIoThread() throws Exception {
        var running = start("");
        X509Certificate ca = sluiceCa(running);
        try (MintThreads threads = MintThreads.record();
                Socket raw = connect(running, "localhost:" + upstream.getPort())) {
            SSLSocket tls = (SSLSocket)
                    sslContextTrusting(ca).getSocketFactory().createSocket(raw, "localhost", upstream.getPort(), true);
            var params = tls.getSSLParameters();
            params.setEndpointIdentificationAlgorithm("HTTPS");
            tls.setSSLParameters(params);
            tls.startHandshake();

            assertThat(threads.names())
                    .isNotEmpty()
                    .allSatisfy(name -> assertThat(name).startsWith("sluice-worker"));
        }
    }

    /** Both engines serve tunnels of one Sluice, each the clients it suits; /api/tls and metrics count them. */
    @Test
    void eachHelloIsAnsweredByTheEngineThatSuitsItAndCounted() throws Exception {
        var running = start("");
        X509Certificate ca = sluiceCa(running);
        for (boolean rsaOnly : new boolean[] {false, true}) {
            try (Socket raw = connect(running, "localhost:" + upstream.getPort())) {
                SSLSocket tls = (SSLSocket) sslContextTrusting(ca)
                        .getSocketFactory()
                        .createSocket(raw, "localhost", upstream.getPort(), true);
                if (rsaOnly) {
                    tls.setEnabledProtocols(new String[] {"TLSv1.2"});
                    tls.setEnabledCipherSuites(java.util.Arrays.stream(tls.getSupportedCipherSuites())
                            .filter(suite -> suite.startsWith("TLS_ECDHE_RSA_"))
                            .toArray(String[]::new));
                }
                tls.startHandshake();
                assertThat(tls.getSession()
                                .getPeerCertificates()[0]
                                .getPublicKey()
                                .getAlgorithm())
                        .isEqualTo(rsaOnly ? "RSA" : "EC");
            }
        }

        var status = io.sluice.testing.TestHttp.JSON.readTree(
                io.sluice.testing.TestHttp.get(running.admin("/api/tls")).body());
        assertThat(status.path("handshakes").path("conscrypt").asLong()).isEqualTo(1);
        assertThat(status.path("handshakes").path("jdk").asLong()).isEqualTo(1);
        // A function counter holds its state weakly: a collection must not take the counts with it.
        System.gc();
        assertThat(io.sluice.testing.TestHttp.get(running.admin("/metrics")).body())
                .contains("sluice_intercept_handshakes_total{engine=\"conscrypt\"} 1.0")
                .contains("sluice_intercept_handshakes_total{engine=\"jdk\"} 1.0");
    }
}
