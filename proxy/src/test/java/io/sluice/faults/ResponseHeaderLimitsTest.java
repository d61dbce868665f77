package io.sluice.faults;

import static org.assertj.core.api.Assertions.assertThat;

import io.sluice.testing.FaultyUpstream;
import io.sluice.testing.SluiceServerExtension;
import io.sluice.testing.TestHttp;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * Cleartext upstreams whose response head is too big, never ends or is broken, through a batch
 * item, the route form and the forward form: each ends as a typed error naming what was wrong,
 * with {@code Proxy-Status}, before its deadline plus a generous margin.
 */
class ResponseHeaderLimitsTest {
    private static final Duration MARGIN = Duration.ofSeconds(3);

    @RegisterExtension
    final SluiceServerExtension sluice = new SluiceServerExtension();

    private final List<AutoCloseable> closing = new ArrayList<>();
    private SluiceServerExtension.Running running;
    private FaultyUpstream upstream;

    @AfterEach
    void stop() throws Exception {
        for (AutoCloseable c : closing) c.close();
    }

    private List<Forms.Seen> everyForm(FaultyUpstream.Script script, String server, String timeouts) throws Exception {
        upstream = new FaultyUpstream(script);
        closing.add(upstream);
        running = sluice.start("""
                server: %s
                upstreams:
                  faulty:
                    base_url: %s
                    allow_private: true
                    retry: {max_attempts: 1}
                    timeouts: %s
                """.formatted(server, upstream.origin(), timeouts));
        return List.of(
                Forms.batch(running, upstream.origin() + "/x"),
                Forms.route(running, "/faulty/x"),
                Forms.forward(running, upstream.origin() + "/x"));
    }

    private static void assertRefused(List<Forms.Seen> seen, String type, String message, String proxyStatus) {
        for (Forms.Seen s : seen) {
            assertThat(s.type()).as(s.toString()).isEqualTo(type);
            assertThat(s.message()).as(s.toString()).isEqualTo(message);
            assertThat(s.took())
                    .as(s.toString())
                    .isLessThan(Duration.ofSeconds(3).plus(MARGIN));
            if (!s.form().equals("batch")) {
                assertThat(s.status()).as(s.toString()).isEqualTo(502);
                assertThat(s.proxyStatus()).as(s.toString()).startsWith("sluice; error=" + proxyStatus + ";");
            }
        }
    }

    @Test
    void tenThousandOneKilobyteHeadersAreTooLarge() throws Exception {
        assertRefused(
                everyForm(FaultyUpstream.manyHeaders(10_240, 1000), "{}", "{total: 3s}"),
                "too_large",
                "upstream response headers exceed 64 KB (server.max_response_header_size)",
                "http_response_header_section_size");
    }

    @Test
    void oneTenMegabyteHeaderValueIsTooLarge() throws Exception {
        assertRefused(
                everyForm(FaultyUpstream.manyHeaders(1, 10 << 20), "{}", "{total: 3s}"),
                "too_large",
                "upstream response headers exceed 64 KB (server.max_response_header_size)",
                "http_response_header_section_size");
    }

    @Test
    void moreHeaderFieldsThanAllowedAreTooLarge() throws Exception {
        assertRefused(
                everyForm(FaultyUpstream.manyHeaders(60, 1), "{max_response_headers: 50}", "{total: 3s}"),
                "too_large",
                "upstream response has more than 50 header fields (server.max_response_headers)",
                "http_response_header_section_size");
    }

    @Test
    void headersWithinTheLimitsPassThrough() throws Exception {
        upstream = new FaultyUpstream(FaultyUpstream.manyHeaders(150, 100));
        closing.add(upstream);
        running = sluice.start("""
                upstreams:
                  faulty: {base_url: %s, allow_private: true}
                """.formatted(upstream.origin()));

        var response = TestHttp.get(running.data("/faulty/x"));

        assertThat(response.statusCode()).isEqualTo(200);
        assertThat(response.headers().firstValue("x-filler-149")).hasValue("v".repeat(100));
        assertThat(response.body()).isEqualTo("ok");
    }

    @Test
    void headersThatNeverEndTimeOutAtTheDeadline() throws Exception {
        for (Forms.Seen s : everyForm(FaultyUpstream.headersThatNeverEnd(), "{}", "{response: 30s, total: 1s}")) {
            assertThat(s.type()).as(s.toString()).isEqualTo("timeout");
            assertThat(s.message()).as(s.toString()).isEqualTo("no complete response within 1000 ms");
            assertThat(s.took())
                    .as(s.toString())
                    .isLessThan(Duration.ofSeconds(1).plus(MARGIN));
        }
    }

    @Test
    void invalidStatusLineIsNamed() throws Exception {
        assertRefused(
                everyForm(FaultyUpstream.raw("HTTP/1.1 2x0 OK\r\nContent-Length: 0\r\n\r\n"), "{}", "{total: 3s}"),
                "upstream_reset",
                "upstream sent an invalid status line (Wrong status code)",
                "http_protocol_error");
    }
}
