package io.sluice.passthrough;

import static org.assertj.core.api.Assertions.assertThat;

import io.sluice.testing.RawClient;
import io.sluice.testing.RawUpstream;
import io.sluice.testing.SluiceServerExtension;
import java.io.IOException;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.junit.jupiter.params.provider.ValueSource;

/** Route-form paths against a base_url with a path prefix, seen by an upstream that records the request line. */
class RoutePathTest {
    @RegisterExtension
    final SluiceServerExtension sluice = new SluiceServerExtension();

    private RawUpstream upstream;
    private int port;

    @BeforeEach
    void start() throws IOException {
        upstream = new RawUpstream();
        port = sluice.start("""
                        upstreams:
                          up:
                            base_url: %s/v1/tenant-a
                            allow_private: true
                        """.formatted(upstream.origin())).dataPort();
    }

    @AfterEach
    void stop() throws IOException {
        upstream.close();
    }

    @ParameterizedTest
    @CsvSource({
        "/up/a/./b/../c?q=1, /v1/tenant-a/a/c?q=1",
        "/up/a/%2e%2E/c, /v1/tenant-a/c",
        "/up/a/.%2e/c, /v1/tenant-a/c",
        "/up/a/b/.., /v1/tenant-a/a/",
        "/up/a/%2E, /v1/tenant-a/a/",
        "/up/a/b/../../c, /v1/tenant-a/c",
        "/up/file%2etxt, /v1/tenant-a/file%2etxt",
    })
    void resolvesDotSegmentsBeforeForwarding(String path, String expected) throws Exception {
        String answer = RawClient.exchange(port, "GET " + path + " HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n");

        assertThat(answer).startsWith("HTTP/1.1 200 ");
        assertThat(upstream.first(5).awaitClosed(5)).startsWith("GET " + expected + " HTTP/1.1\r\n");
    }

    @ParameterizedTest
    @ValueSource(
            strings = {
                "/up/../tenant-b/x",
                "/up/%2e%2e/tenant-b/x",
                "/up/%2E%2e/tenant-b/x",
                "/up/a/../../tenant-b/x",
                "/up/a/%2e%2e/./../tenant-b",
                "/up/a%2f..%2f..%2ftenant-b",
                "/up/a%2F..",
                "/up/a%5c..%5c..%5ctenant-b",
                "/up/..;x/tenant-b",
                "/up/..",
            })
    void refusesAPathThatLeavesTheBasePath(String path) throws Exception {
        String answer = RawClient.exchange(port, "GET " + path + " HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n");

        assertThat(answer)
                .startsWith("HTTP/1.1 400 ")
                .contains("invalid_request")
                .contains(path.substring(3));
        assertThat(upstream.connections()).isZero();
    }
}
