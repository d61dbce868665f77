package io.sluice.fidelity;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.sluice.testing.RawClient;
import io.sluice.testing.RawUpstream;
import io.sluice.testing.SluiceServerExtension;
import io.sluice.testing.TestHttp;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * What the client said reaches the origin as it said it: request field values byte for byte and
 * names as spelled (RFC 9110 §7.6: a proxy changes only hop-by-hop fields, Via and its own; RFC 9112
 * §5.2: a request with an obs-fold is refused), through the route form, the forward form and a batch item,
 * compared as bytes on a raw upstream socket.
 */
class RequestFidelityTest {
    @RegisterExtension
    final SluiceServerExtension sluice = new SluiceServerExtension();

    private final List<AutoCloseable> closing = new ArrayList<>();
    private RawUpstream upstream;

    /**
     * Awkward but valid field lines (RFC 9110 §5.5: runs of spaces and tabs inside a value, commas,
     * quoted strings, obs-text bytes, a long value, repeated fields, a lower-case well-known name).
     */
    static final List<String> AWKWARD = List.of(
            "X-Sp: a  b   c",
            "X-Tab: a\t\tb \t c",
            "If-None-Match: \"x  y\",  W/\"z\"",
            "X-Quoted: \"a,  b\" ,  \"c\\\"d\"",
            "X-Obs-Text: caf\u00e9  \u00ff\u00a0x",
            "X-Long: " + "ab  ".repeat(4_000) + "end",
            "X-Rep: first  one",
            "X-CaSe-KePt: yes",
            "accept-language: en,  fr;q=0.5",
            "X-Rep: second   one");

    @AfterEach
    void stop() throws Exception {
        for (AutoCloseable c : closing) c.close();
    }

    private SluiceServerExtension.Running start() throws Exception {
        upstream = new RawUpstream();
        closing.add(upstream);
        return sluice.start("""
                upstreams:
                  origin: {base_url: %s, allow_private: true, retry: {max_attempts: 1}, cache: {enabled: false}}
                """.formatted(upstream.origin()));
    }

    private static String head(String requestLine, String host) {
        return requestLine + "\r\nHost: " + host + "\r\n" + String.join("\r\n", AWKWARD)
                + "\r\nConnection: close\r\n\r\n";
    }

    private void assertForwardedExactly(String received) {
        for (String line : AWKWARD) assertThat(received).contains("\r\n" + line + "\r\n");
        // Repeated fields keep their order.
        assertThat(received.indexOf("X-Rep: first  one")).isLessThan(received.indexOf("X-Rep: second   one"));
    }

    @Test
    void forwardsAwkwardRequestValuesByteForByteInTheRouteForm() throws Exception {
        var running = start();
        assertThat(RawClient.exchange(running.dataPort(), head("GET /origin/x HTTP/1.1", "sluice")))
                .startsWith("HTTP/1.1 200 ");
        assertForwardedExactly(upstream.first(5).awaitClosed(5));
    }

    @Test
    void forwardsAwkwardRequestValuesByteForByteInTheForwardForm() throws Exception {
        var running = start();
        String authority = java.net.URI.create(upstream.origin()).getAuthority();
        assertThat(RawClient.exchange(running.dataPort(), head("GET " + upstream.origin() + "/x HTTP/1.1", authority)))
                .startsWith("HTTP/1.1 200 ");
        assertForwardedExactly(upstream.first(5).awaitClosed(5));
    }

    @Test
    void forwardsAwkwardRequestValuesByteForByteFromABatchItem() throws Exception {
        var running = start();
        ObjectNode document = TestHttp.JSON.createObjectNode();
        ObjectNode item = document.putArray("requests").addObject().put("url", upstream.origin() + "/x");
        ObjectNode headers = item.putObject("headers");
        for (String line : AWKWARD) {
            String name = line.substring(0, line.indexOf(':'));
            String value = line.substring(line.indexOf(':') + 2);
            if (name.equals("X-Rep")) continue;
            headers.put(name, value);
        }
        headers.putArray("X-Rep").add("first  one").add("second   one");

        JsonNode result = TestHttp.batch(running.data("/v1/batch"), document.toString())
                .get("responses")
                .get(0);

        assertThat(result.get("status").asInt()).as(result.toString()).isEqualTo(200);
        assertForwardedExactly(upstream.first(5).awaitClosed(5));
    }

    @Test
    void keepsEachPipelinedRequestsOwnBytes() throws Exception {
        var running = start();
        String first = "GET /origin/a HTTP/1.1\r\nHost: sluice\r\nX-One: 1  one\r\n\r\n";
        String second = "POST /origin/b HTTP/1.1\r\nHost: sluice\r\nContent-Length: 3\r\nX-Two: 2 \t two\r\n\r\nabc";
        String third = "GET /origin/c HTTP/1.1\r\nHost: sluice\r\nX-Three: 3   three\r\nConnection: close\r\n\r\n";
        // All three in one write: Undertow reads the later heads from bytes it already holds.
        String answers = RawClient.exchange(running.dataPort(), first + second + third);

        assertThat(answers.split("HTTP/1.1 200 ", -1)).hasSize(4);
        String received = upstream.received();
        assertThat(received).contains("\r\nX-One: 1  one\r\n");
        assertThat(received).contains("\r\nX-Two: 2 \t two\r\n");
        assertThat(received).contains("\r\nX-Three: 3   three\r\n");
    }

    @Test
    void dropsHopByHopFields() throws Exception {
        var running = start();
        RawClient.exchange(
                running.dataPort(),
                // HTTP/1.0, so that Sluice closes after its answer whatever Connection names.
                "GET /origin/x HTTP/1.0\r\nHost: sluice\r\nX-Kept: a  b\r\nConnection: X-Private\r\n"
                        + "X-Private: gone\r\nKeep-Alive: timeout=5\r\nSluice-Max-Wait: 100\r\n\r\n");

        String received = upstream.first(5).awaitClosed(5);
        assertThat(received).contains("\r\nX-Kept: a  b\r\n");
        assertThat(received)
                .doesNotContain("X-Private")
                .doesNotContain("Keep-Alive")
                .doesNotContain("Sluice-Max-Wait")
                .contains("\r\nVia: 1.1 sluice\r\n");
    }

    @Test
    void refusesAnObsFoldRatherThanUnfoldingIt() throws Exception {
        var running = start();
        String answer = RawClient.exchange(
                running.dataPort(),
                "GET /origin/x HTTP/1.1\r\nHost: sluice\r\nX-Fold: a  b\r\n \t c\r\n\r\n"
                        + "GET /origin/y HTTP/1.1\r\nHost: sluice\r\n\r\n");

        // RFC 9112 §5.2: refused with 400 (Sluice's choice over unfolding), the connection closed, so
        // the pipelined request behind it is never read, and nothing reaches the origin.
        assertThat(answer).startsWith("HTTP/1.1 400 ").contains("obs-fold");
        assertThat(answer.split("HTTP/1.1 ", -1)).hasSize(2);
        assertThat(upstream.connections()).isZero();
    }

    @Test
    void doesNotSendAnObsTextRequestAgainOverATransportThatWouldAlterIt() throws Exception {
        // A close-delimited answer sends an idempotent request once more over java.net.http, which
        // writes HTTP/1.1 heads as US-ASCII: obs-text would arrive as "?", so that request is not resent.
        var odd = new io.sluice.testing.FaultyUpstream(out -> {
            out.write("HTTP/1.1 200 OK\r\n\r\nto the close".getBytes(java.nio.charset.StandardCharsets.ISO_8859_1));
            out.flush();
            throw new java.io.IOException("close after the body");
        });
        closing.add(odd);
        var running = sluice.start("""
                upstreams:
                  origin: {base_url: %s, allow_private: true, retry: {max_attempts: 1}}
                """.formatted(odd.origin()));

        String answer = RawClient.exchange(
                running.dataPort(),
                "GET /origin/x HTTP/1.1\r\nHost: sluice\r\nX-Obs: caf\u00e9\r\nConnection: close\r\n\r\n");

        assertThat(answer).startsWith("HTTP/1.1 502 ");
        assertThat(odd.requests()).isEqualTo(1);
    }

    @Test
    void refusesBatchHeaderValuesThatHaveNoByteForm() throws Exception {
        var running = start();
        JsonNode responses = TestHttp.batch(running.data("/v1/batch"), """
                        {"requests": [
                          {"url": "%1$s/a", "headers": {"X-Euro": "5 \\u20ac"}},
                          {"url": "%1$s/b", "headers": {"X-Nul": "a\\u0000b"}},
                          {"url": "%1$s/c", "headers": {"X-Latin": "caf\\u00e9"}}
                        ]}""".formatted(upstream.origin()))
                .get("responses");

        assertThat(responses.get(0).get("error").get("type").asText()).isEqualTo("invalid_request");
        assertThat(responses.get(0).get("error").get("message").asText())
                .contains("requests[0].headers.X-Euro")
                .contains("U+20AC");
        assertThat(responses.get(1).get("error").get("message").asText())
                .contains("requests[1].headers.X-Nul")
                .contains("U+0000");
        assertThat(responses.get(2).get("status").asInt()).isEqualTo(200);
        assertThat(upstream.received()).contains("\r\nX-Latin: caf\u00e9\r\n");
    }
}
