package io.sluice.tls;

import static org.assertj.core.api.Assertions.assertThat;

import io.sluice.testing.TlsRecords;
import java.nio.ByteBuffer;
import java.util.Arrays;
import java.util.Optional;
import javax.net.ssl.SNIHostName;
import javax.net.ssl.SSLContext;
import javax.net.ssl.SSLEngine;
import javax.net.ssl.SSLParameters;
import org.junit.jupiter.api.Test;

/** Hellos as the JDK's own client writes them, read the way interception reads them. */
class ClientHelloTest {

    @Test
    void tls13HelloNamesItsServerAndAcceptsTheEcLeaf() throws Exception {
        ByteBuffer hello = helloOf(client("api.example.test"));

        assertThat(ClientHello.read(hello)).isEqualTo(new ClientHello.Hello(Optional.of("api.example.test"), true));
    }

    @Test
    void readingMovesNothing() throws Exception {
        ByteBuffer hello = helloOf(client("api.example.test"));
        int position = hello.position();
        int limit = hello.limit();

        ClientHello.read(hello);

        assertThat(hello.position()).isEqualTo(position);
        assertThat(hello.limit()).isEqualTo(limit);
    }

    @Test
    void clientToAnIpSendsNoName() throws Exception {
        assertThat(ClientHello.read(helloOf(client("10.1.2.3"))))
                .isEqualTo(new ClientHello.Hello(Optional.empty(), true));
    }

    @Test
    void rsaOnlyTls12ClientCannotTakeTheEcLeaf() throws Exception {
        SSLEngine client = client("legacy.example.test");
        client.setEnabledProtocols(new String[] {"TLSv1.2"});
        client.setEnabledCipherSuites(Arrays.stream(client.getSupportedCipherSuites())
                .filter(suite -> suite.startsWith("TLS_ECDHE_RSA_"))
                .toArray(String[]::new));

        assertThat(ClientHello.read(helloOf(client)))
                .isEqualTo(new ClientHello.Hello(Optional.of("legacy.example.test"), false));
    }

    @Test
    void tls12ClientOfferingEcdsaSuitesCanTakeTheEcLeaf() throws Exception {
        SSLEngine client = client("legacy.example.test");
        client.setEnabledProtocols(new String[] {"TLSv1.2"});

        assertThat(ClientHello.read(helloOf(client)))
                .isEqualTo(new ClientHello.Hello(Optional.of("legacy.example.test"), true));
    }

    @Test
    void tls13ClientWithoutTheP256SchemeCannotTakeTheEcLeaf() throws Exception {
        SSLEngine client = client("api.example.test");
        SSLParameters parameters = client.getSSLParameters();
        parameters.setSignatureSchemes(new String[] {"rsa_pss_rsae_sha256", "rsa_pkcs1_sha256"});
        client.setSSLParameters(parameters);

        assertThat(ClientHello.read(helloOf(client)))
                .isEqualTo(new ClientHello.Hello(Optional.of("api.example.test"), false));
    }

    @Test
    void everyPrefixOfAHelloIsIncomplete() throws Exception {
        ByteBuffer hello = helloOf(client("api.example.test"));

        for (int length = 0; length < hello.remaining(); length++) {
            assertThat(ClientHello.read(hello.slice(0, length)))
                    .as("first %d bytes", length)
                    .isInstanceOf(ClientHello.Incomplete.class);
        }
    }

    @Test
    void helloCutIntoSeveralRecordsIsReassembled() throws Exception {
        ByteBuffer hello = helloOf(client("api.example.test"));
        ByteBuffer recut = TlsRecords.recut(hello, 100);

        assertThat(ClientHello.read(recut)).isEqualTo(ClientHello.read(hello));
    }

    @Test
    void helloCutIntoSeveralRecordsGoesOnAsTheOneRecordItWas() throws Exception {
        ByteBuffer hello = helloOf(client("api.example.test"));
        ByteBuffer recut = TlsRecords.recut(hello, 37);

        assertThat(ClientHello.asOneRecord(recut)).isEqualTo(hello);
    }

    @Test
    void helloInOneRecordGoesOnAsItCame() throws Exception {
        ByteBuffer hello = helloOf(client("api.example.test"));

        assertThat(ClientHello.asOneRecord(hello)).isSameAs(hello);
    }

    @Test
    void bytesAfterACutHelloFollowItUnchanged() throws Exception {
        ByteBuffer hello = helloOf(client("api.example.test"));
        ByteBuffer recut = TlsRecords.recut(hello, 64);
        byte[] after = {23, 3, 3, 0, 1, 42};
        ByteBuffer sent = ByteBuffer.allocate(recut.remaining() + after.length)
                .put(recut)
                .put(after)
                .flip();
        ByteBuffer expected = ByteBuffer.allocate(hello.remaining() + after.length)
                .put(hello.duplicate())
                .put(after)
                .flip();

        assertThat(ClientHello.asOneRecord(sent)).isEqualTo(expected);
    }

    @Test
    void bytesAfterTheHelloAreIgnored() throws Exception {
        ByteBuffer hello = helloOf(client("api.example.test"));
        ByteBuffer more = ByteBuffer.allocate(hello.remaining() + 10);
        more.put(hello.duplicate()).put(new byte[10]).flip();

        assertThat(ClientHello.read(more)).isEqualTo(ClientHello.read(hello));
    }

    @Test
    void plainHttpAndOtherRecordsAreUnreadable() {
        assertThat(ClientHello.read(ByteBuffer.wrap("GET / HTTP/1.1\r\n\r\n".getBytes())))
                .isInstanceOf(ClientHello.Unreadable.class);
        // An alert record, then a handshake record holding a ServerHello (type 2).
        assertThat(ClientHello.read(ByteBuffer.wrap(new byte[] {21, 3, 3, 0, 2, 2, 40})))
                .isInstanceOf(ClientHello.Unreadable.class);
        assertThat(ClientHello.read(ByteBuffer.wrap(new byte[] {22, 3, 1, 0, 4, 2, 0, 0, 0})))
                .isInstanceOf(ClientHello.Unreadable.class);
    }

    @Test
    void lengthsRunningPastTheirContainerAreUnreadable() throws Exception {
        ByteBuffer hello = helloOf(client("api.example.test"));
        byte[] bytes = new byte[hello.remaining()];
        hello.duplicate().get(bytes);
        // The session id's length byte (after record header 5, handshake header 4, version 2, random 32).
        bytes[5 + 4 + 2 + 32] = (byte) 0xff;

        assertThat(ClientHello.read(ByteBuffer.wrap(bytes))).isInstanceOf(ClientHello.Unreadable.class);
    }

    @Test
    void aHelloLargerThanTheCapIsUnreadable() {
        int length = ClientHello.MAX_BYTES + 1;
        ByteBuffer header = ByteBuffer.wrap(
                new byte[] {22, 3, 1, 0, 4, 1, (byte) (length >>> 16), (byte) (length >>> 8), (byte) length});

        assertThat(ClientHello.read(header)).isInstanceOf(ClientHello.Unreadable.class);
    }

    static SSLEngine client(String host) throws Exception {
        SSLEngine engine = SSLContext.getDefault().createSSLEngine(host, 443);
        engine.setUseClientMode(true);
        if (!Character.isDigit(host.charAt(0))) {
            SSLParameters parameters = engine.getSSLParameters();
            parameters.setServerNames(java.util.List.of(new SNIHostName(host)));
            engine.setSSLParameters(parameters);
        }
        return engine;
    }

    /** The client's first flight: its ClientHello, in one record. */
    static ByteBuffer helloOf(SSLEngine client) throws Exception {
        ByteBuffer out = ByteBuffer.allocate(1 << 16);
        client.beginHandshake();
        client.wrap(ByteBuffer.allocate(0), out);
        return out.flip();
    }
}
