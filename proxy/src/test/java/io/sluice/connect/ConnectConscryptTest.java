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
}
