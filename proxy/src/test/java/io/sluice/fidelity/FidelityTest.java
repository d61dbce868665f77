package io.sluice.fidelity;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import io.sluice.testing.FaultyUpstream;
import io.sluice.testing.RawClient;
import io.sluice.testing.SluiceServerExtension;
import io.sluice.testing.TestHttp;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * What the origin said arrives as it said it (RFC 9110 §7.6: a proxy changes only the hop-by-hop
 * fields, Via and its own), through a batch item, the route form and the forward form; and interim
 * or close-delimited responses change nothing about later requests.
 */
class FidelityTest {
    @RegisterExtension
    final SluiceServerExtension sluice = new SluiceServerExtension();

    private final List<AutoCloseable> closing = new ArrayList<>();
    private FaultyUpstream upstream;

    /** Awkward but valid field lines (RFC 9110 §5.5), each as the origin sends it. */
    static final List<String> AWKWARD = List.of(
            "X-Sp: a  b   c",
            "X-Tab: a\t\tb \t c",
            "Expires: Thu, 18  Aug  2050 08:49:37 GMT",
            "X-Quoted: \"a,  b\" ,  \"c\\\"d\"",
            "X-Obs-Text: caf\u00e9  \u00ff\u00a0x",
            "X-Long: " + "ab  ".repeat(4_000) + "end",
            "X-Rep: first  one",
            "X-CaSe-KePt: yes",
            "X-Rep: second   one");

    @AfterEach
    void stop() throws Exception {
        for (AutoCloseable c : closing) c.close();
    }

    private SluiceServerExtension.Running start(FaultyUpstream.Script script) throws Exception {
        upstream = new FaultyUpstream(script);
        closing.add(upstream);
        return sluice.start("""
                upstreams:
                  origin: {base_url: %s, allow_private: true, retry: {max_attempts: 1}}
                """.formatted(upstream.origin()));
    }

    private static FaultyUpstream.Script awkward() {
        return FaultyUpstream.raw(
                "HTTP/1.1 200 OK\r\n" + String.join("\r\n", AWKWARD) + "\r\nContent-Length: 2\r\n\r\nok");
    }

    @Test
    void forwardsAwkwardFieldValuesByteForByteInEveryForm() throws Exception {
        var running = start(awkward());
        String origin = upstream.origin();

        for (String answer : List.of(route(running, "/origin/x"), forward(running, origin + "/x"))) {
            for (String line : AWKWARD) assertThat(answer).contains("\r\n" + line + "\r\n");
            // Repeated fields keep their order.
            assertThat(answer.indexOf("X-Rep: first  one")).isLessThan(answer.indexOf("X-Rep: second   one"));
            assertThat(answer).endsWith("\r\n\r\nok");
        }
        JsonNode headers = batch(running, origin + "/x").get("headers");
        for (String line : AWKWARD) {
            String name = line.substring(0, line.indexOf(':')).toLowerCase(java.util.Locale.ROOT);
            String value = line.substring(line.indexOf(':') + 2);
            JsonNode got = headers.get(name);
            if (got.isArray()) {
                assertThat(got.toString()).contains(TestHttp.JSON.writeValueAsString(value));
            } else {
                assertThat(got.asText()).isEqualTo(value);
            }
        }
    }

    @Test
    void takesOutInterimResponsesAndReadsTheFinalOne() throws Exception {
        var running = start(FaultyUpstream.raw("HTTP/1.1 102 Processing\r\n\r\n"
                + "HTTP/1.1 103 Early Hints\r\nLink: </s.css>; rel=preload\r\n\r\n"
                + "HTTP/1.1 100 Continue\r\n\r\n"
                + "HTTP/1.1 199 Whatever\r\nX-Interim: 1\r\n\r\n"
                + "HTTP/1.1 200 OK\r\nX-Final: Yes\r\nContent-Length: 5\r\n\r\nfinal"));

        for (int i = 0; i < 3; i++) {
            // The interim responses go first, each a message of its own (EarlyHintsTest); then the final one.
            String answer = route(running, "/origin/x");
            String last = answer.substring(answer.indexOf("HTTP/1.1 200 "));
            assertThat(last).contains("\r\nX-Final: Yes\r\n").endsWith("final");
            assertThat(last).doesNotContain("X-Interim").doesNotContain("Link:");
        }
        JsonNode item = batch(running, upstream.origin() + "/x");
        assertThat(item.get("status").asInt()).isEqualTo(200);
        assertThat(item.get("body").asText()).isEqualTo("final");
        assertThat(metrics(running))
                .contains("sluice_upstream_interim_responses_total{status=\"102\",upstream=\"origin\"} 4.0");
    }

    @Test
    void readsACloseDelimitedResponseForThatRequestOnlyAndKeepsTheTransport() throws Exception {
        var n = new java.util.concurrent.atomic.AtomicInteger();
        // The first request's answer, and its one repetition over java.net.http, run to the close.
        var running = start(out -> {
            if (n.getAndIncrement() < 2) {
                out.write("HTTP/1.1 200 OK\r\nX-Odd: 1\r\n\r\nto the close".getBytes());
                out.flush();
                throw new java.io.IOException("close after the body");
            }
            out.write("HTTP/1.1 200 OK\r\nX-CaSe: kept  as  sent\r\nContent-Length: 2\r\n\r\nok".getBytes());
        });

        assertThat(route(running, "/origin/a"))
                .containsIgnoringCase("\r\nX-Odd: 1\r\n")
                .contains("to the close")
                // Relayed chunked: its last chunk tells the client the body is whole (RFC 9112 §8).
                .endsWith("\r\n0\r\n\r\n");
        // The next request to that origin still goes over Undertow's client, which keeps the name's case
        // and the value's spaces (java.net.http would lower-case the name).
        assertThat(route(running, "/origin/b"))
                .contains("\r\nX-CaSe: kept  as  sent\r\n")
                .endsWith("ok");
        assertThat(metrics(running))
                .contains("sluice_transport_fallbacks_total{reason=\"close_delimited\",upstream=\"origin\"} 1.0");
    }

    @Test
    void answersExpectContinueItselfAndSendsTheBody() throws Exception {
        var running = start(FaultyUpstream.raw("HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok"));
        try (var socket = RawClient.connect(running.dataPort())) {
            var out = socket.getOutputStream();
            out.write(("POST /origin/x HTTP/1.1\r\nHost: sluice\r\nExpect: 100-continue\r\nContent-Length: 4\r\n"
                            + "Connection: close\r\n\r\n")
                    .getBytes());
            out.flush();
            byte[] continued = new byte[25];
            int got = socket.getInputStream().readNBytes(continued, 0, 25);
            assertThat(new String(continued, 0, got)).isEqualTo("HTTP/1.1 100 Continue\r\n\r\n");
            out.write("body".getBytes());
            out.flush();
            assertThat(RawClient.readToClose(socket))
                    .startsWith("HTTP/1.1 200 ")
                    .endsWith("ok");
        }
    }

    static String route(SluiceServerExtension.Running running, String path) throws Exception {
        return RawClient.exchange(
                running.dataPort(), "GET " + path + " HTTP/1.1\r\nHost: sluice\r\nConnection: close\r\n\r\n");
    }

    static String forward(SluiceServerExtension.Running running, String url) throws Exception {
        String host = java.net.URI.create(url).getAuthority();
        return RawClient.exchange(
                running.dataPort(), "GET " + url + " HTTP/1.1\r\nHost: " + host + "\r\nConnection: close\r\n\r\n");
    }

    static JsonNode batch(SluiceServerExtension.Running running, String url) {
        return TestHttp.batch(
                        running.data("/v1/batch"), "{\"requests\": [{\"id\": \"a\", \"url\": \"%s\"}]}".formatted(url))
                .get("responses")
                .get(0);
    }

    static String metrics(SluiceServerExtension.Running running) {
        return TestHttp.get(running.admin("/metrics")).body();
    }
}
