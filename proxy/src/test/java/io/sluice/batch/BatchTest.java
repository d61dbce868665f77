package io.sluice.batch;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import io.sluice.testing.SluiceServerExtension;
import io.sluice.testing.TestHttp;
import io.sluice.testing.Upstream;
import java.io.BufferedReader;
import java.io.InputStream;
import java.io.InputStreamReader;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import mockwebserver3.Dispatcher;
import mockwebserver3.MockResponse;
import mockwebserver3.MockWebServer;
import mockwebserver3.RecordedRequest;
import okio.Buffer;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

class BatchTest {
    @RegisterExtension
    final SluiceServerExtension sluice = new SluiceServerExtension();

    private final MockWebServer upstream = Upstream.start();
    private final String origin = Upstream.origin(upstream);

    @AfterEach
    void stopUpstream() {
        upstream.close();
    }

    private SluiceServerExtension.Running start(String extra) {
        return sluice.start("""
                upstreams:
                  local: {match: ["127.0.0.1"], allow_private: true, retry: {max_attempts: 1}}
                %s
                """.formatted(extra));
    }

    /** Answers by path, so that items running concurrently get the right response. */
    private void route(java.util.function.Function<String, MockResponse> byPath) {
        upstream.setDispatcher(new Dispatcher() {
            @Override
            public MockResponse dispatch(RecordedRequest request) {
                return byPath.apply(request.getUrl().encodedPath());
            }
        });
    }

    @Test
    void returnsResultsInRequestOrderWithEachBodyInItsEncoding() {
        var running = start("");
        route(path -> switch (path) {
            case "/json" -> Upstream.ok("application/json", "{\"id\":1,\"tags\":[\"a\"]}");
            case "/text" -> Upstream.ok("text/plain; charset=utf-8", "héllo");
            case "/bin" ->
                new MockResponse.Builder()
                        .code(200)
                        .addHeader("Content-Type", "image/png")
                        .body(new Buffer().write(new byte[] {(byte) 0x89, 'P', 'N', 'G', 0, (byte) 0xff}))
                        .build();
            default ->
                new MockResponse.Builder()
                        .code(404)
                        .addHeader("Content-Type", "application/json")
                        .body("{\"error\":\"not found\"}")
                        .build();
        });

        JsonNode result = TestHttp.batch(running.data("/v1/batch"), """
                {"requests": [
                  {"id": "j", "url": "%1$s/json", "headers": {"Accept": "application/json"}},
                  {"id": "t", "url": "%1$s/text"},
                  {"url": "%1$s/bin"},
                  {"id": "m", "url": "%1$s/missing"}
                ]}""".formatted(origin));

        assertThat(result.get("_status").asInt()).isEqualTo(200);
        JsonNode responses = result.get("responses");
        assertThat(responses).hasSize(4);
        assertThat(responses.get(0).get("id").asText()).isEqualTo("j");
        assertThat(responses.get(0).get("status").asInt()).isEqualTo(200);
        assertThat(responses.get(0).get("body_encoding").asText()).isEqualTo("json");
        assertThat(responses.get(0).get("body").get("tags").get(0).asText()).isEqualTo("a");
        assertThat(responses.get(0).get("headers").get("content-type").asText()).isEqualTo("application/json");
        assertThat(responses.get(0).get("upstream").asText()).isEqualTo("local");
        assertThat(responses.get(0).get("attempts").asInt()).isEqualTo(1);
        assertThat(responses.get(0).get("cache").asText()).isNotEmpty();
        assertThat(responses.get(0).get("timing").has("queue_ms")).isTrue();
        assertThat(responses.get(1).get("body").asText()).isEqualTo("héllo");
        assertThat(responses.get(1).get("body_encoding").asText()).isEqualTo("text");
        assertThat(responses.get(2).get("id").asText()).isEqualTo("2");
        assertThat(responses.get(2).get("body_encoding").asText()).isEqualTo("base64");
        assertThat(responses.get(2).get("body").asText()).isEqualTo("iVBORwD/");
        assertThat(responses.get(3).get("status").asInt()).isEqualTo(404);
        assertThat(responses.get(3).has("error")).isFalse();
        assertThat(responses.get(3).get("body").get("error").asText()).isEqualTo("not found");
    }

    @Test
    void sendsMethodHeadersAndJsonOrBase64Bodies() throws Exception {
        var running = start("");
        route(path -> Upstream.ok("text/plain", "ok"));

        TestHttp.batch(running.data("/v1/batch"), """
                {"requests": [
                  {"method": "POST", "url": "%1$s/posts", "body": {"title": "x"}, "headers": {"X-Trace": "t1"}}
                ]}""".formatted(origin));
        RecordedRequest post = upstream.takeRequest(5, TimeUnit.SECONDS);
        assertThat(post.getMethod()).isEqualTo("POST");
        assertThat(post.getBody().utf8()).isEqualTo("{\"title\":\"x\"}");
        assertThat(post.getHeaders().get("Content-Type")).isEqualTo("application/json");
        assertThat(post.getHeaders().get("X-Trace")).isEqualTo("t1");

        TestHttp.batch(running.data("/v1/batch"), """
                {"requests": [{"method": "PUT", "url": "%1$s/blob", "body_base64": "AAEC/w=="}]}""".formatted(origin));
        RecordedRequest put = upstream.takeRequest(5, TimeUnit.SECONDS);
        assertThat(put.getBody().toByteArray()).containsExactly(0, 1, 2, 0xff);
    }

    @Test
    void eachFailureIsATypedErrorOfItsItemAlone() throws Exception {
        java.net.ServerSocket resetting = Upstream.resetting();
        var running = start("""
                server: {max_item_response_bytes: 1KB}
                """);
        route(path -> switch (path) {
            case "/stall" ->
                new MockResponse.Builder()
                        .code(200)
                        .headersDelay(10, TimeUnit.SECONDS)
                        .build();
            case "/slowbody" ->
                new MockResponse.Builder()
                        .code(200)
                        .body("x".repeat(800))
                        .throttleBody(16, 1, TimeUnit.SECONDS)
                        .build();
            case "/big" -> Upstream.ok("text/plain", "y".repeat(4096));
            default -> Upstream.ok("text/plain", "fine");
        });

        JsonNode responses = TestHttp.batch(running.data("/v1/batch"), """
                {"requests": [
                  {"id": "ok", "url": "%1$s/fine"},
                  {"id": "reset", "url": "http://127.0.0.1:%3$d/reset"},
                  {"id": "refused", "url": "http://127.0.0.1:%2$d/"},
                  {"id": "dns", "url": "http://no-such-host.invalid/"},
                  {"id": "timeout", "url": "%1$s/stall", "timeout_ms": 300},
                  {"id": "midbody", "url": "%1$s/slowbody", "timeout_ms": 500},
                  {"id": "blocked", "url": "http://169.254.169.254/latest/meta-data/"},
                  {"id": "large", "url": "%1$s/big"},
                  {"id": "scheme", "url": "file:///etc/passwd"},
                  {"id": "nourl", "method": "GET"}
                ]}""".formatted(
                                origin, Upstream.closedPort(), resetting.getLocalPort()))
                .get("responses");

        assertThat(responses.get(0).get("status").asInt()).isEqualTo(200);
        assertThat(errorType(responses.get(1))).isEqualTo("upstream_reset");
        assertThat(errorType(responses.get(2))).isEqualTo("connect");
        assertThat(errorType(responses.get(3))).isEqualTo("dns");
        assertThat(errorType(responses.get(4))).isEqualTo("timeout");
        assertThat(errorType(responses.get(5))).isEqualTo("timeout");
        assertThat(errorType(responses.get(6))).isEqualTo("blocked");
        assertThat(errorType(responses.get(7))).isEqualTo("too_large");
        assertThat(errorType(responses.get(8))).isEqualTo("invalid_request");
        assertThat(responses.get(8).get("error").get("message").asText())
                .isEqualTo("requests[8].url: unsupported scheme \"file\" (http or https)");
        assertThat(responses.get(9).get("error").get("message").asText()).startsWith("requests[9].url: required");
        for (JsonNode r : responses)
            assertThat(r.get("elapsed_ms").isIntegralNumber()).isTrue();
    }

    @Test
    void malformedBatchGets400NamingTheProblem() {
        var running = start("""
                server: {max_batch_items: 2, max_batch_bytes: 2KB}
                """);
        var endpoint = running.data("/v1/batch");

        assertThat(message(TestHttp.batch(endpoint, "{not json"))).startsWith("invalid JSON");
        assertThat(message(TestHttp.batch(endpoint, "{}"))).startsWith("requests: required");
        assertThat(message(TestHttp.batch(endpoint, "{\"requests\": {}}"))).isEqualTo("requests: expected an array");
        assertThat(message(TestHttp.batch(endpoint, "{\"requests\": [], \"timeout_ms\": \"soon\"}")))
                .startsWith("timeout_ms: expected a positive whole number");
        assertThat(message(TestHttp.batch(endpoint, "{\"requests\": [{},{},{}]}")))
                .isEqualTo("requests: more than 2 items (server.max_batch_items)");
        JsonNode huge = TestHttp.batch(endpoint, "{\"requests\": [{\"url\": \"http://x/" + "a".repeat(4096) + "\"}]}");
        assertThat(huge.get("_status").asInt()).isEqualTo(400);
        assertThat(message(huge)).contains("server.max_batch_bytes");
        assertThat(TestHttp.batch(endpoint, "[1]").get("_status").asInt()).isEqualTo(400);
    }

    @Test
    void ndjsonStreamsEachResultAsItCompletes() throws Exception {
        var running = start("");
        CountDownLatch release = new CountDownLatch(1);
        route(path -> {
            if (path.equals("/slow")) {
                try {
                    release.await(10, TimeUnit.SECONDS);
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                }
            }
            return Upstream.ok("application/json", "{\"path\":\"" + path + "\"}");
        });

        HttpResponse<InputStream> response = TestHttp.sendStreaming(HttpRequest.newBuilder(running.data("/v1/batch"))
                .header("Accept", "application/x-ndjson")
                .POST(HttpRequest.BodyPublishers.ofString("""
                        {"requests": [{"id": "s", "url": "%1$s/slow"}, {"id": "f", "url": "%1$s/fast"}]}""".formatted(origin)))
                .build());
        assertThat(response.headers().firstValue("content-type")).hasValue("application/x-ndjson");
        var lines = new BufferedReader(new InputStreamReader(response.body(), StandardCharsets.UTF_8));

        // The fast item arrives while the slow one is still held by the upstream.
        JsonNode first = TestHttp.JSON.readTree(lines.readLine());
        assertThat(first.get("id").asText()).isEqualTo("f");
        assertThat(first.get("index").asInt()).isEqualTo(1);
        release.countDown();
        JsonNode second = TestHttp.JSON.readTree(lines.readLine());
        assertThat(second.get("id").asText()).isEqualTo("s");
        assertThat(second.get("index").asInt()).isZero();
        assertThat(second.get("body").get("path").asText()).isEqualTo("/slow");
        assertThat(lines.readLine()).isNull();
    }

    @Test
    void batchConcurrencyBoundsItemsInFlight() {
        // The upstream admits 2 at once and nobody may wait: if the batch ran more than 2 items
        // at a time, the extra ones would be refused as rate_limited.
        var running = sluice.start("""
                upstreams:
                  local: {match: ["%s"], allow_private: true, max_concurrency: 2, max_wait: 0s}
                """.formatted(origin));
        route(path -> Upstream.ok("text/plain", path));

        JsonNode bounded =
                TestHttp.batch(running.data("/v1/batch"), """
                {"concurrency": 2, "requests": [
                  {"url": "%1$s/1"}, {"url": "%1$s/2"}, {"url": "%1$s/3"}, {"url": "%1$s/4"}, {"url": "%1$s/5"}
                ]}""".formatted(origin)).get("responses");

        for (JsonNode r : bounded) assertThat(r.get("status").asInt()).isEqualTo(200);
    }

    @Test
    void streamedBatchHonoursItsConcurrencyToo() throws Exception {
        // As above, with NDJSON: results are written as items finish, and each write must not let
        // more than "concurrency" items run (a regression: every drained write started more).
        var running = sluice.start("""
                upstreams:
                  local: {match: ["%s"], allow_private: true, max_concurrency: 2, max_wait: 0s}
                """.formatted(origin));
        route(path -> Upstream.ok("text/plain", path));
        StringBuilder items = new StringBuilder();
        for (int i = 0; i < 40; i++)
            items.append(i == 0 ? "" : ",")
                    .append("{\"url\": \"%1$s/")
                    .append(i)
                    .append("\"}");

        HttpResponse<String> response = TestHttp.send(HttpRequest.newBuilder(running.data("/v1/batch"))
                .header("Accept", "application/x-ndjson")
                .POST(HttpRequest.BodyPublishers.ofString(
                        ("{\"concurrency\": 2, \"requests\": [" + items + "]}").formatted(origin)))
                .build());

        var lines = response.body().lines().toList();
        assertThat(lines).hasSize(40);
        for (String line : lines)
            assertThat(TestHttp.JSON.readTree(line).get("status").asInt())
                    .as(line)
                    .isEqualTo(200);
    }

    @Test
    void upstreamConcurrencyCapRefusesWhatCannotWait() throws Exception {
        var running = sluice.start("""
                upstreams:
                  local: {match: ["%s"], allow_private: true, max_concurrency: 1, max_wait: 0s}
                """.formatted(origin));
        CountDownLatch release = new CountDownLatch(1);
        route(path -> {
            try {
                release.await(10, TimeUnit.SECONDS);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
            return Upstream.ok("text/plain", path);
        });

        HttpResponse<InputStream> response = TestHttp.sendStreaming(HttpRequest.newBuilder(running.data("/v1/batch"))
                .header("Accept", "application/x-ndjson")
                .POST(HttpRequest.BodyPublishers.ofString("""
                        {"concurrency": 10, "requests": [{"url": "%1$s/a"}, {"url": "%1$s/b"}, {"url": "%1$s/c"}]}""".formatted(origin)))
                .build());
        var lines = new BufferedReader(new InputStreamReader(response.body(), StandardCharsets.UTF_8));
        JsonNode refused1 = TestHttp.JSON.readTree(lines.readLine());
        JsonNode refused2 = TestHttp.JSON.readTree(lines.readLine());
        release.countDown();
        JsonNode served = TestHttp.JSON.readTree(lines.readLine());

        assertThat(errorType(refused1)).isEqualTo("rate_limited");
        assertThat(errorType(refused2)).isEqualTo("rate_limited");
        assertThat(served.get("status").asInt()).isEqualTo(200);
        assertThat(upstream.getRequestCount()).isEqualTo(1);
    }

    @Test
    void followsRedirectsOnlyWhenAsked() {
        var running = start("");
        route(path -> path.equals("/old")
                ? new MockResponse.Builder()
                        .code(302)
                        .addHeader("Location", "/new")
                        .build()
                : Upstream.ok("text/plain", "moved here"));

        JsonNode responses =
                TestHttp.batch(running.data("/v1/batch"), """
                {"requests": [
                  {"url": "%1$s/old"},
                  {"url": "%1$s/old", "follow_redirects": true}
                ]}""".formatted(origin)).get("responses");

        assertThat(responses.get(0).get("status").asInt()).isEqualTo(302);
        assertThat(responses.get(1).get("status").asInt()).isEqualTo(200);
        assertThat(responses.get(1).get("body").asText()).isEqualTo("moved here");
    }

    @Test
    void redirectToAForbiddenAddressIsBlocked() {
        var running = start("");
        route(path -> new MockResponse.Builder()
                .code(302)
                .addHeader("Location", "http://169.254.169.254/latest/meta-data/")
                .build());

        JsonNode responses =
                TestHttp.batch(running.data("/v1/batch"), """
                {"requests": [{"url": "%1$s/hop", "follow_redirects": true}]}""".formatted(origin)).get("responses");

        assertThat(errorType(responses.get(0))).isEqualTo("blocked");
    }

    @Test
    void batchTimeoutEndsItemsStillRunning() {
        var running = start("");
        route(path -> path.equals("/stall")
                ? new MockResponse.Builder()
                        .code(200)
                        .headersDelay(10, TimeUnit.SECONDS)
                        .build()
                : Upstream.ok("text/plain", "quick"));

        JsonNode responses =
                TestHttp.batch(running.data("/v1/batch"), """
                {"timeout_ms": 400, "requests": [{"url": "%1$s/quick"}, {"url": "%1$s/stall"}]}""".formatted(origin)).get("responses");

        assertThat(responses.get(0).get("status").asInt()).isEqualTo(200);
        assertThat(errorType(responses.get(1))).isEqualTo("timeout");
    }

    @Test
    void itemThatCannotGetATokenInTimeIsRateLimitedWithRetryAfter() {
        var running = sluice.start("""
                upstreams:
                  local: {match: ["127.0.0.1"], allow_private: true, limits: [{rate: 1/min, burst: 1}], max_wait: 0s}
                """);
        route(path -> Upstream.ok("text/plain", path));

        JsonNode responses =
                TestHttp.batch(running.data("/v1/batch"), """
                {"concurrency": 1, "requests": [{"url": "%1$s/a"}, {"url": "%1$s/b"}]}""".formatted(origin)).get("responses");

        assertThat(responses.get(0).get("status").asInt()).isEqualTo(200);
        assertThat(errorType(responses.get(1))).isEqualTo("rate_limited");
        assertThat(responses.get(1).get("error").get("retry_after_ms").asLong()).isBetween(1L, 60_000L);
        assertThat(upstream.getRequestCount()).isEqualTo(1);
    }

    private static String errorType(JsonNode result) {
        assertThat(result.has("error")).as("an error in %s", result).isTrue();
        return result.get("error").get("type").asText();
    }

    private static String message(JsonNode answer) {
        assertThat(answer.get("_status").asInt()).isEqualTo(400);
        return answer.get("error").get("message").asText();
    }
}
