package io.sluice.fidelity;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import io.sluice.testing.FaultyUpstream;
import io.sluice.testing.RawClient;
import io.sluice.testing.SluiceServerExtension;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * Interim responses from the origin (RFC 9110 §15.2: a proxy MUST forward 1xx responses it did not
 * ask for; RFC 8297: {@code 103 Early Hints}) reach an HTTP/1.1 passthrough client ahead of the final
 * response, as separate messages; a batch result reports them as {@code interim}; none is sent to an
 * HTTP/1.0 client, and none is replayed from the cache.
 */
class EarlyHintsTest {
    @RegisterExtension
    final SluiceServerExtension sluice = new SluiceServerExtension();

    private final List<AutoCloseable> closing = new ArrayList<>();
    private FaultyUpstream upstream;

    private static final String HINTS = "HTTP/1.1 103 Early Hints\r\n"
            + "Link: </style.css>;  rel=preload; as=style\r\n"
            + "Link: </script.js>; rel=preload; as=script\r\n"
            + "Connection: X-Hop\r\nX-Hop: dropped\r\n\r\n";
    private static final String FINAL =
            "HTTP/1.1 200 OK\r\nCache-Control: max-age=300\r\nContent-Length: 5\r\n\r\nfinal";

    @AfterEach
    void stop() throws Exception {
        for (AutoCloseable c : closing) c.close();
    }

    private SluiceServerExtension.Running start(String answer) throws Exception {
        upstream = new FaultyUpstream(FaultyUpstream.raw(answer));
        closing.add(upstream);
        return sluice.start("""
                upstreams:
                  origin: {base_url: %s, allow_private: true, retry: {max_attempts: 1}}
                """.formatted(upstream.origin()));
    }

    @Test
    void forwardsEarlyHintsBeforeTheFinalResponseInTheRouteForm() throws Exception {
        var running = start(HINTS + FINAL);

        String answer = FidelityTest.route(running, "/origin/page");

        assertThat(answer)
                .startsWith("HTTP/1.1 103 Early Hints\r\n"
                        + "Link: </style.css>;  rel=preload; as=style\r\n"
                        + "Link: </script.js>; rel=preload; as=script\r\n"
                        + "Via: 1.1 sluice\r\n\r\n"
                        + "HTTP/1.1 200 ")
                .endsWith("\r\n\r\nfinal");
        // Hop-by-hop fields of the interim response stay behind, as for a final one.
        assertThat(answer).doesNotContain("X-Hop");
    }

    @Test
    void forwardsEarlyHintsInTheForwardFormAndKeepsTheConnectionUsable() throws Exception {
        var running = start(HINTS + FINAL);
        String url = upstream.origin() + "/page";
        String host = java.net.URI.create(url).getAuthority();

        String answer = RawClient.exchange(
                running.dataPort(),
                "GET " + url + " HTTP/1.1\r\nHost: " + host + "\r\n\r\n" + "GET " + url + "?again HTTP/1.1\r\nHost: "
                        + host + "\r\nConnection: close\r\n\r\n");

        // Two complete exchanges on one connection, each with its hints first.
        assertThat(answer.split("HTTP/1.1 103 Early Hints\r\n", -1)).hasSize(3);
        assertThat(answer.split("\r\n\r\nfinal", -1)).hasSize(3);
        assertThat(answer.indexOf("HTTP/1.1 103 ")).isLessThan(answer.indexOf("HTTP/1.1 200 "));
    }

    @Test
    void forwardsOtherInterimResponsesButNotAHundredContinue() throws Exception {
        var running = start("HTTP/1.1 102 Processing\r\n\r\n"
                + "HTTP/1.1 100 Continue\r\n\r\n"
                + "HTTP/1.1 199 Whatever\r\nX-Interim: 1\r\n\r\n"
                + FINAL);

        String answer = FidelityTest.route(running, "/origin/x");

        assertThat(answer)
                .startsWith("HTTP/1.1 102 Processing\r\nVia: 1.1 sluice\r\n\r\n"
                        + "HTTP/1.1 199 \r\nX-Interim: 1\r\nVia: 1.1 sluice\r\n\r\n"
                        + "HTTP/1.1 200 ")
                .doesNotContain("100 Continue");
    }

    @Test
    void sendsNoInterimResponseToAnHttp10Client() throws Exception {
        var running = start(HINTS + FINAL);

        String answer = RawClient.exchange(running.dataPort(), "GET /origin/x HTTP/1.0\r\nHost: sluice\r\n\r\n");

        assertThat(answer)
                .startsWith("HTTP/1.0 200 ")
                .doesNotContain("Early Hints")
                .endsWith("final");
    }

    @Test
    void reportsEarlyHintsInTheBatchResult() throws Exception {
        var running = start(HINTS + FINAL);

        JsonNode item = FidelityTest.batch(running, upstream.origin() + "/page");

        assertThat(item.get("status").asInt()).isEqualTo(200);
        JsonNode interim = item.get("interim");
        assertThat(interim).hasSize(1);
        assertThat(interim.get(0).get("status").asInt()).isEqualTo(103);
        assertThat(interim.get(0).get("headers").get("link").toString())
                .isEqualTo("[\"</style.css>;  rel=preload; as=style\",\"</script.js>; rel=preload; as=script\"]");
        assertThat(interim.get(0).get("headers").has("x-hop")).isFalse();
    }

    @Test
    void aStoredResponseIsServedWithoutTheInterimResponsesOfItsFetch() throws Exception {
        var running = start(HINTS + FINAL);

        assertThat(FidelityTest.route(running, "/origin/cached")).startsWith("HTTP/1.1 103 ");
        String hit = FidelityTest.route(running, "/origin/cached");

        // RFC 9111 §3: a cache stores final responses; the hints belonged to that one fetch.
        assertThat(hit).startsWith("HTTP/1.1 200 ").contains("hit").endsWith("final");
        assertThat(upstream.requests()).isEqualTo(1);
        JsonNode item = FidelityTest.batch(running, upstream.origin() + "/cached");
        assertThat(item.get("cache").asText()).isEqualTo("hit");
        assertThat(item.has("interim")).isFalse();
    }

    @Test
    void dropsAnInterimResponseWithAFieldLineItCannotVouchFor() throws Exception {
        var running = start("HTTP/1.1 103 Early Hints\r\nBad Name: x\r\n\r\n" + FINAL);

        String answer = FidelityTest.route(running, "/origin/x");

        assertThat(answer).startsWith("HTTP/1.1 200 ").endsWith("final");
        assertThat(FidelityTest.metrics(running))
                .contains("sluice_upstream_interim_responses_total{status=\"103\",upstream=\"origin\"} 1.0");
    }
}
