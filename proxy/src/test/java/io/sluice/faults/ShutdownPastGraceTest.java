package io.sluice.faults;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import com.fasterxml.jackson.databind.JsonNode;
import io.sluice.testing.FaultyUpstream;
import io.sluice.testing.SluiceServerExtension;
import io.sluice.testing.TestHttp;
import java.net.URI;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.concurrent.CompletableFuture;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/** A stop whose grace ends with requests in flight still answers every one of them. */
class ShutdownPastGraceTest {
    @RegisterExtension
    final SluiceServerExtension sluice = new SluiceServerExtension();

    private final FaultyUpstream upstream = new FaultyUpstream(out -> {
        // never answers
    });

    ShutdownPastGraceTest() throws Exception {}

    @AfterEach
    void stop() throws Exception {
        upstream.close();
    }

    @Test
    void everyRequestInFlightAtTheEndOfTheGraceGetsATypedAnswer() throws Exception {
        var running = sluice.start("""
                upstreams:
                  slow: {base_url: %s, allow_private: true, retry: {max_attempts: 1}, timeouts: {response: 60s, total: 60s}}
                """.formatted(upstream.origin()));
        CompletableFuture<JsonNode> batch = CompletableFuture.supplyAsync(
                () -> TestHttp.batch(running.data("/v1/batch"), """
                        {"requests": [{"url": "%1$s/a"}, {"url": "%1$s/b"}]}""".formatted(upstream.origin())));
        CompletableFuture<HttpResponse<String>> route =
                CompletableFuture.supplyAsync(() -> TestHttp.get(running.data("/slow/c")));
        CompletableFuture<HttpResponse<String>> forward = TestHttp.viaProxy(running.dataPort())
                .sendAsync(
                        HttpRequest.newBuilder(URI.create(upstream.origin() + "/d"))
                                .build(),
                        HttpResponse.BodyHandlers.ofString());
        await().atMost(Duration.ofSeconds(10)).until(() -> upstream.requests() == 4);

        long start = System.nanoTime();
        assertThat(running.sluice().drainAndStop(Duration.ofMillis(200))).isFalse();
        assertThat(Duration.ofNanos(System.nanoTime() - start)).isLessThan(Duration.ofSeconds(5));

        for (JsonNode item : batch.get().get("responses")) {
            assertThat(item.get("error").get("type").asText()).isEqualTo("cancelled");
            assertThat(item.get("error").get("message").asText()).isEqualTo("Sluice is shutting down");
        }
        for (HttpResponse<String> response : java.util.List.of(route.get(), forward.get())) {
            assertThat(response.statusCode()).isEqualTo(503);
            assertThat(response.headers().firstValue("Proxy-Status"))
                    .hasValue("sluice; error=proxy_internal_error; details=\"Sluice is shutting down\"");
        }
    }
}
