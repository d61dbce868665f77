package io.sluice.openapi;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.TextNode;
import io.sluice.testing.SluiceServerExtension;
import io.sluice.testing.TestHttp;
import java.io.IOException;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import mockwebserver3.MockResponse;
import mockwebserver3.MockWebServer;
import okio.Buffer;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/** The OpenAPI document is served by the admin port and describes the responses Sluice really sends. */
class OpenApiTest {
    private static final OpenApiDocument DOC = OpenApiDocument.fromClasspath();
    private static final String BATCH_200 =
            OpenApiDocument.responseSchema("/v1/batch", "post", "200", "application/json");

    @RegisterExtension
    final SluiceServerExtension sluice = new SluiceServerExtension();

    private final MockWebServer upstream = new MockWebServer();
    private SluiceServerExtension.Running running;

    @BeforeEach
    void start() throws IOException {
        upstream.start(InetAddress.getLoopbackAddress(), 0);
        running = sluice.start("""
                upstreams:
                  local:
                    base_url: "http://127.0.0.1:%d"
                    match: ["127.0.0.1"]
                    allow_private: true
                    retry: {max_attempts: 1}
                """.formatted(upstream.getPort()));
    }

    @AfterEach
    void stop() {
        upstream.close();
    }

    private String upstreamUrl(String path) {
        return "http://127.0.0.1:" + upstream.getPort() + path;
    }

    private static JsonNode withoutTestField(JsonNode answer) {
        JsonNode copy = answer.deepCopy();
        ((com.fasterxml.jackson.databind.node.ObjectNode) copy).remove("_status");
        return copy;
    }

    @Test
    void adminPortServesTheDocument() throws IOException {
        HttpResponse<String> response = TestHttp.get(running.admin("/openapi.yaml"));
        assertThat(response.statusCode()).isEqualTo(200);
        assertThat(response.headers().firstValue("Content-Type")).hasValue("application/yaml");
        try (var in = getClass().getClassLoader().getResourceAsStream(OpenApiDocument.RESOURCE)) {
            assertThat(response.body())
                    .isEqualTo(new String(in.readAllBytes(), java.nio.charset.StandardCharsets.UTF_8));
        }
        assertThat(OpenApiDocument.parse(response.body()).root.path("openapi").asText())
                .startsWith("3.1.");
    }

    @Test
    void documentDescribesEveryEndpointOfTheContract() {
        Set<String> paths = new HashSet<>();
        DOC.root.path("paths").fieldNames().forEachRemaining(paths::add);
        assertThat(paths)
                .contains(
                        "/v1/batch",
                        "/{upstream}/{path}",
                        "/healthz",
                        "/readyz",
                        "/metrics",
                        "/openapi.yaml",
                        "/api/upstreams",
                        "/api/upstreams/{name}",
                        "/api/cache/purge",
                        "/api/requests/recent");
        assertThat(DOC.root.at("/paths/~1api~1upstreams~1{name}").fieldNames())
                .toIterable()
                .contains("get", "put", "delete");
        // Mutations need the admin token; reads do not.
        assertThat(DOC.root.at("/paths/~1api~1upstreams~1{name}/put/security").toString())
                .contains("adminToken");
        assertThat(DOC.root.at("/paths/~1healthz/get/security").isMissingNode()).isTrue();

        Set<String> operationIds = new HashSet<>();
        DOC.root
                .path("paths")
                .forEach(item -> item.fields().forEachRemaining(e -> {
                    if (e.getValue().has("responses")) {
                        assertThat(operationIds.add(
                                        e.getValue().path("operationId").asText()))
                                .as("unique operationId " + e.getValue().path("operationId"))
                                .isTrue();
                    }
                }));
        // Every $ref points at something.
        Matcher refs = Pattern.compile("\"\\$ref\":\"#([^\"]+)\"").matcher(DOC.root.toString());
        while (refs.find())
            assertThat(DOC.root.at(refs.group(1)).isMissingNode())
                    .as(refs.group(1))
                    .isFalse();
        // Error types are the contract's, and the code's.
        List<String> types = new ArrayList<>();
        DOC.at("/components/schemas/ErrorType").path("enum").forEach(t -> types.add(t.asText()));
        assertThat(types)
                .containsExactlyInAnyOrderElementsOf(java.util.Arrays.stream(io.sluice.fetch.ErrorType.values())
                        .map(io.sluice.fetch.ErrorType::wireName)
                        .toList());
    }

    @Test
    void successfulBatchMatchesTheSchema() {
        upstream.enqueue(new MockResponse.Builder()
                .addHeader("Content-Type", "application/json")
                .body("{\"id\": 1, \"tags\": [\"a\"]}")
                .build());
        upstream.enqueue(new MockResponse.Builder()
                .addHeader("Content-Type", "text/plain; charset=utf-8")
                .body("plain text")
                .build());
        upstream.enqueue(new MockResponse.Builder()
                .addHeader("Content-Type", "application/octet-stream")
                .body(new Buffer().write(new byte[] {0, (byte) 0xff, 1, 2}))
                .build());
        upstream.enqueue(new MockResponse.Builder().code(404).body("").build());

        JsonNode answer = TestHttp.batch(running.data("/v1/batch"), """
                {"requests": [
                  {"id": "json", "url": "%s"},
                  {"id": "text", "url": "%s"},
                  {"id": "bytes", "url": "%s"},
                  {"id": "missing", "url": "%s"}
                ], "concurrency": 1}
                """.formatted(
                        upstreamUrl("/json"), upstreamUrl("/text"), upstreamUrl("/bytes"), upstreamUrl("/missing")));

        assertThat(answer.path("_status").asInt()).isEqualTo(200);
        assertThat(answer.path("responses").findValuesAsText("body_encoding"))
                .containsExactly("json", "text", "base64", "text");
        assertThat(answer.path("responses").get(3).path("status").asInt()).isEqualTo(404);
        assertThat(DOC.validate(BATCH_200, withoutTestField(answer))).isEmpty();
    }

    @Test
    void earlyHintsInABatchResultMatchTheSchema() throws IOException {
        try (var hinting = new io.sluice.testing.FaultyUpstream(io.sluice.testing.FaultyUpstream.raw(
                "HTTP/1.1 103 Early Hints\r\nLink: </a.css>; rel=preload\r\nLink: </b.js>; rel=preload\r\n\r\n"
                        + "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok"))) {
            JsonNode answer = TestHttp.batch(running.data("/v1/batch"), """
                    {"requests": [{"id": "hints", "url": "%s/page"}]}
                    """.formatted(hinting.origin()));

            assertThat(answer.path("responses")
                            .get(0)
                            .path("interim")
                            .get(0)
                            .path("status")
                            .asInt())
                    .isEqualTo(103);
            assertThat(DOC.validate(BATCH_200, withoutTestField(answer))).isEmpty();
        }
    }

    @Test
    void perItemErrorsMatchTheSchema() throws IOException {
        int closedPort;
        try (ServerSocket socket = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
            closedPort = socket.getLocalPort();
        }
        JsonNode answer = TestHttp.batch(running.data("/v1/batch"), """
                {"requests": [
                  {"id": "scheme", "url": "file:///etc/passwd"},
                  {"id": "refused", "url": "http://127.0.0.1:%d/"},
                  {"id": "field", "url": "http://127.0.0.1:%d/", "colour": "red"}
                ]}
                """.formatted(closedPort, closedPort));

        assertThat(answer.path("_status").asInt()).isEqualTo(200);
        assertThat(answer.path("responses").findValuesAsText("type"))
                .containsExactly("invalid_request", "connect", "invalid_request");
        assertThat(DOC.validate(BATCH_200, withoutTestField(answer))).isEmpty();
    }

    @Test
    void unreadableBatchIsA400MatchingTheErrorSchema() {
        String schema = OpenApiDocument.responseSchema("/v1/batch", "post", "400", "application/json");
        for (String body : List.of("not json", "{\"timeout_ms\": 5}", "{\"requests\": {}}")) {
            JsonNode answer = TestHttp.batch(running.data("/v1/batch"), body);
            assertThat(answer.path("_status").asInt()).as(body).isEqualTo(400);
            assertThat(answer.path("error").path("type").asText()).isEqualTo("invalid_request");
            assertThat(DOC.validate(schema, withoutTestField(answer))).as(body).isEmpty();
        }
    }

    @Test
    void wrongMethodOnBatchIsA405MatchingTheErrorSchema() throws IOException {
        HttpResponse<String> response = TestHttp.get(running.data("/v1/batch"));
        assertThat(response.statusCode()).isEqualTo(405);
        JsonNode body = TestHttp.JSON.readTree(response.body());
        assertThat(DOC.validate(OpenApiDocument.responseSchema("/v1/batch", "post", "405", "application/json"), body))
                .isEmpty();
    }

    @Test
    void streamedResultsMatchTheSchemaLineByLine() throws IOException {
        upstream.enqueue(new MockResponse.Builder()
                .addHeader("Content-Type", "application/json")
                .body("[1, 2]")
                .build());
        HttpResponse<String> response = TestHttp.send(HttpRequest.newBuilder(running.data("/v1/batch"))
                .header("Content-Type", "application/json")
                .header("Accept", "application/x-ndjson")
                .POST(HttpRequest.BodyPublishers.ofString("""
                        {"requests": [{"url": "%s"}, {"url": "ftp://example.com/"}]}
                        """.formatted(upstreamUrl("/list"))))
                .build());
        assertThat(response.statusCode()).isEqualTo(200);
        assertThat(response.headers().firstValue("Content-Type"))
                .hasValueSatisfying(t -> assertThat(t).startsWith("application/x-ndjson"));
        String schema = OpenApiDocument.responseSchema("/v1/batch", "post", "200", "application/x-ndjson");
        List<String> lines = response.body().lines().filter(l -> !l.isBlank()).toList();
        assertThat(lines).hasSize(2);
        for (String line : lines) {
            assertThat(DOC.validate(schema, TestHttp.JSON.readTree(line)))
                    .as(line)
                    .isEmpty();
        }
    }

    @Test
    void passthroughFailureMatchesTheErrorSchema() throws IOException {
        HttpResponse<String> response = TestHttp.get(running.data("/no-such-upstream/x"));
        assertThat(response.statusCode()).isEqualTo(404);
        assertThat(response.headers().firstValue("Cache-Status")).isPresent();
        JsonNode body = TestHttp.JSON.readTree(response.body());
        String schema = OpenApiDocument.responseSchema("/{upstream}/{path}", "get", "404", "application/json");
        assertThat(DOC.validate(schema, body)).isEmpty();
    }

    @Test
    void healthAndReadinessMatchTheSchema() {
        Map<String, String> probes = Map.of("/healthz", "ok\n", "/readyz", "ready\n");
        probes.forEach((path, expected) -> {
            HttpResponse<String> response = TestHttp.get(running.admin(path));
            assertThat(response.statusCode()).isEqualTo(200);
            assertThat(response.headers().firstValue("Content-Type"))
                    .hasValueSatisfying(t -> assertThat(t).startsWith("text/plain"));
            String schema = OpenApiDocument.responseSchema(path, "get", "200", "text/plain");
            assertThat(DOC.validate(schema, TextNode.valueOf(response.body()))).isEmpty();
            assertThat(DOC.validate(schema, TextNode.valueOf("something else"))).isNotEmpty();
        });
        assertThat(DOC.at(OpenApiDocument.responseSchema("/readyz", "get", "503", "text/plain"))
                        .path("const")
                        .asText())
                .isEqualTo("draining\n");
    }

    @Test
    void adminApiResponsesMatchTheSchema() throws Exception {
        var admin = sluice.start("""
                admin: {token: "openapi-test-token"}
                upstreams:
                  local:
                    base_url: "http://127.0.0.1:%d"
                    allow_private: true
                    key: header:X-Tenant
                    cooldown: key
                    limits: [{rate: 90/min, burst: 10}, {rate: 10/min, per: key}]
                """.formatted(upstream.getPort()));
        upstream.enqueue(
                new mockwebserver3.MockResponse.Builder().code(200).body("{}").build());
        TestHttp.send(java.net.http.HttpRequest.newBuilder(admin.data("/local/warm"))
                .header("X-Tenant", "tenant-one")
                .build());
        assertThat(TestHttp.get(admin.admin("/api/upstreams/local")).body()).contains("\"busiest\"");

        check("/api/upstreams", "get", "200", TestHttp.get(admin.admin("/api/upstreams")));
        check("/api/upstreams/{name}", "get", "200", TestHttp.get(admin.admin("/api/upstreams/local")));
        check("/api/requests/recent", "get", "200", TestHttp.get(admin.admin("/api/requests/recent")));

        var put = TestHttp.send(java.net.http.HttpRequest.newBuilder(admin.admin("/api/upstreams/local"))
                .header("Authorization", "Bearer openapi-test-token")
                .header("Content-Type", "application/json")
                .PUT(java.net.http.HttpRequest.BodyPublishers.ofString("""
                        {"base_url": "http://127.0.0.1:%d", "allow_private": true, "max_concurrency": 4}""".formatted(upstream.getPort())))
                .build());
        check("/api/upstreams/{name}", "put", "200", put);
        var purge = TestHttp.send(java.net.http.HttpRequest.newBuilder(admin.admin("/api/cache/purge"))
                .header("Authorization", "Bearer openapi-test-token")
                .header("Content-Type", "application/json")
                .POST(java.net.http.HttpRequest.BodyPublishers.ofString("{}"))
                .build());
        check("/api/cache/purge", "post", "200", purge);
    }

    private static void check(String path, String method, String status, java.net.http.HttpResponse<String> response)
            throws IOException {
        assertThat(response.statusCode()).as(response.body()).isEqualTo(Integer.parseInt(status));
        var schema = OpenApiDocument.responseSchema(path, method, status, "application/json");
        assertThat(DOC.validate(schema, TestHttp.JSON.readTree(response.body())))
                .as("%s %s: %s", method, path, response.body())
                .isEmpty();
    }
}
