package io.sluice.server;

import static org.assertj.core.api.Assertions.assertThat;

import io.sluice.testing.RawClient;
import io.sluice.testing.RawUpstream;
import io.sluice.testing.SluiceServerExtension;
import java.io.IOException;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * Request framing at the data port, on raw sockets: what the client gets (status, connection
 * closed) and what a raw logging upstream receives (nothing, or exactly the re-framed body).
 */
class RequestFramingTest {
    @RegisterExtension
    final SluiceServerExtension sluice = new SluiceServerExtension();

    private RawUpstream upstream;
    private int port;

    @BeforeEach
    void start() throws IOException {
        upstream = new RawUpstream();
        port = sluice.start("""
                        upstreams:
                          raw:
                            base_url: %s
                            allow_private: true
                        """.formatted(upstream.origin())).dataPort();
    }

    @AfterEach
    void stop() throws IOException {
        upstream.close();
    }

    @ParameterizedTest
    @ValueSource(
            strings = {
                "xchunked",
                "chunkedx",
                "gzip",
                "foo",
                "chunked, gzip",
                "identity",
                "chunked, chunked",
                "identity, chunked",
                "gzip, chunked",
                "chunked;q=1",
                "\"chunked\""
            })
    void refusesATransferEncodingThatIsNotExactlyChunked(String codings) throws IOException {
        String answer = exchange(
                "POST /raw/in HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: " + codings + "\r\n\r\n3\r\nabc\r\n0\r\n\r\n");

        assertRefused(answer, "Transfer-Encoding");
    }

    @ParameterizedTest
    @ValueSource(
            strings = {
                "Transfer-Encoding: chunked\r\nTransfer-Encoding: chunked",
                "Transfer-Encoding: chunked\r\nTransfer-Encoding: identity"
            })
    void refusesRepeatedTransferEncodingFields(String fields) throws IOException {
        String answer = exchange("POST /raw/in HTTP/1.1\r\nHost: x\r\n" + fields + "\r\n\r\n3\r\nabc\r\n0\r\n\r\n");

        // Undertow itself refuses a repeated Transfer-Encoding field, before Sluice sees the request.
        assertRefused(answer, "");
    }

    @org.junit.jupiter.api.Test
    void identityCodingDoesNotSwallowAPipelinedRequestAsBody() throws IOException {
        String answer = exchange("POST /raw/in HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: identity\r\n\r\n"
                + "3\r\nabc\r\n0\r\n\r\n"
                + "GET /raw/follow HTTP/1.1\r\nHost: x\r\n\r\n");

        assertRefused(answer, "Transfer-Encoding");
    }

    @org.junit.jupiter.api.Test
    void refusesTransferEncodingInHttp10() throws IOException {
        String answer = exchange(
                "POST /raw/in HTTP/1.0\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n" + "3\r\nabc\r\n0\r\n\r\n");

        assertRefused(answer, "HTTP/1.0");
    }

    @ParameterizedTest
    @ValueSource(strings = {"HTTP/0.9", "HTTP/2.0"})
    void refusesRequestLinesOfOtherVersions(String version) throws IOException {
        String answer = exchange("GET /raw/in " + version + "\r\nHost: x\r\n\r\n");

        assertRefused(answer, "");
    }

    /**
     * RFC 9112 §2.3: a higher minor version is read as the highest one implemented. Undertow's parser
     * does so and keeps no trace of the version it read, so HTTP/1.1's strict framing applies.
     */
    @org.junit.jupiter.api.Test
    void readsAHigherHttp1MinorVersionWithHttp11Framing() throws IOException {
        String answer = exchange(
                "POST /raw/in HTTP/1.9\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n" + "3\r\nhello\r\n0\r\n\r\n");

        assertRefused(answer, "malformed chunked body");
    }

    @ParameterizedTest
    @ValueSource(
            strings = {
                "3\r\nhello\r\n0\r\n\r\n", // chunk longer than its size: Undertow drops "lo"
                "5\r\nhelloXX\r\n0\r\n\r\n", // bytes between data and CRLF
                "5\nhello\r\n0\r\n\r\n", // bare LF ends the size line
                "5\r\nhello\n0\r\n\r\n", // bare LF after data
                "5;ext\nhello\r\n0\r\n\r\n", // bare LF inside an extension
                "5\r\nhello\r\n0\r\n\n", // bare LF ends the body
                "zz\r\nhello\r\n0\r\n\r\n",
                "-5\r\nhello\r\n0\r\n\r\n",
                "0x5\r\nhello\r\n0\r\n\r\n",
                "fffffffffffffffff\r\nhello\r\n0\r\n\r\n", // overflows a long
                "\r\nhello\r\n0\r\n\r\n", // no size at all
                "5 \r\nhello\r\n0\r\n\r\n", // whitespace not followed by an extension
                "5;a=\u0001\r\nhello\r\n0\r\n\r\n", // control byte in an extension
                "5\r\nhello\r\n0\r\n folded: x\r\n\r\n", // obs-fold in the trailers
                "5\r\nhello\r\n0\r\nbad name: x\r\n\r\n",
            })
    void refusesMalformedChunkedBodiesBeforeForwarding(String body) throws IOException {
        String answer = exchange("POST /raw/in HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n" + body);

        assertRefused(answer, "malformed chunked body");
    }

    @ParameterizedTest
    @ValueSource(
            strings = {
                "5\r\nhello\r\n0\r\n\r\n",
                "2\r\nhe\r\n3;name=\"v\"\r\nllo\r\n0\r\n\r\n",
                "5 ;a=b\r\nhello\r\n0;last\r\nX-Sum: 1\r\n\r\n",
                "00005\r\nhello\r\n000\r\n\r\n",
            })
    void forwardsAValidChunkedBodyExactly(String body) throws Exception {
        String answer = exchange(
                "POST /raw/in HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: CHUNKED\r\nConnection: close\r\n\r\n" + body);

        assertThat(answer).startsWith("HTTP/1.1 200 ");
        assertThat(answer).endsWith("ok");
        assertThat(decodedBody(upstream.first(5).awaitClosed(5))).isEqualTo("hello");
    }

    @org.junit.jupiter.api.Test
    void abortsTheUpstreamRequestWhenAMalformedTailArrivesWhileStreaming() throws Exception {
        try (Socket client = connect()) {
            var out = client.getOutputStream();
            out.write(bytes("POST /raw/in HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n"));
            out.flush();
            RawUpstream.Connection seen = upstream.first(5);
            seen.awaitContains("hello", 5);

            out.write(bytes("3\r\nabcXX\r\n0\r\n\r\n"));
            out.flush();
            String answer = readToClose(client);

            assertThat(answer).startsWith("HTTP/1.1 400 ").contains("malformed chunked body");
            String forwarded = seen.awaitClosed(5);
            assertThat(forwarded).doesNotContain("abc").doesNotContain("\r\n0\r\n\r\n");
        }
    }

    /** Many chunks across many reads: the decoder pushes bytes back, and they are not checked twice. */
    @org.junit.jupiter.api.Test
    void forwardsALargeManyChunkBodyExactly() throws Exception {
        StringBuilder chunked = new StringBuilder();
        StringBuilder expected = new StringBuilder();
        for (int i = 0; i < 600; i++) {
            String data = Integer.toString(i % 10).repeat(1 + (i * 37) % 1500);
            expected.append(data);
            chunked.append(Integer.toHexString(data.length()))
                    .append(i % 3 == 0 ? ";n=" + i : "")
                    .append("\r\n");
            chunked.append(data).append("\r\n");
        }
        chunked.append("0\r\nX-T: 1\r\n\r\n");

        String answer =
                exchange("POST /raw/in HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\nConnection: close\r\n\r\n"
                        + chunked);

        assertThat(answer).startsWith("HTTP/1.1 200 ");
        assertThat(decodedBody(upstream.first(5).awaitClosed(5))).isEqualTo(expected.toString());
    }

    @org.junit.jupiter.api.Test
    void keepsAConnectionAliveAfterAValidChunkedRequest() throws Exception {
        String answer = exchange("POST /raw/in HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n"
                + "5\r\nhello\r\n0\r\n\r\n"
                + "GET /raw/next HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n");

        assertThat(answer.split("HTTP/1.1 200 ", -1)).hasSize(3);
    }

    private void assertRefused(String answer, String mentions) {
        assertThat(answer).matches("(?s)HTTP/1\\.[01] 400 .*");
        assertThat(answer.toLowerCase(java.util.Locale.ROOT)).contains("\r\nconnection: close\r\n");
        assertThat(answer).contains(mentions);
        assertThat(answer.split("HTTP/1\\.[01] \\d{3} ", -1)).as("one answer").hasSize(2);
        assertThat(upstream.connections()).as("connections to the upstream").isZero();
    }

    private String exchange(String request) throws IOException {
        return RawClient.exchange(port, request);
    }

    private Socket connect() throws IOException {
        return RawClient.connect(port);
    }

    private static String readToClose(Socket client) throws IOException {
        return RawClient.readToClose(client);
    }

    /** The upstream's view of the body: de-chunked if Sluice sent it chunked. */
    private static String decodedBody(String request) {
        int head = request.indexOf("\r\n\r\n");
        String body = request.substring(head + 4);
        if (!request.substring(0, head).toLowerCase(java.util.Locale.ROOT).contains("transfer-encoding: chunked")) {
            return body;
        }
        StringBuilder out = new StringBuilder();
        int at = 0;
        while (true) {
            int eol = body.indexOf("\r\n", at);
            int size = Integer.parseInt(body.substring(at, eol), 16);
            if (size == 0) break;
            out.append(body, eol + 2, eol + 2 + size);
            at = eol + 2 + size + 2;
        }
        return out.toString();
    }

    private static byte[] bytes(String s) {
        return s.getBytes(StandardCharsets.ISO_8859_1);
    }
}
