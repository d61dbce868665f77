package io.sluice.trace;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.fasterxml.jackson.databind.JsonNode;
import io.opentelemetry.proto.common.v1.KeyValue;
import io.opentelemetry.proto.trace.v1.Span;
import io.sluice.config.ConfigException;
import io.sluice.config.ConfigLoader;
import io.sluice.testing.SluiceServerExtension;
import io.sluice.testing.TestHttp;
import io.sluice.testing.Upstream;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import mockwebserver3.MockResponse;
import mockwebserver3.MockWebServer;
import mockwebserver3.RecordedRequest;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * Tracing end to end, real sockets everywhere: a client with a {@code traceparent}, Sluice, a
 * MockWebServer upstream, and a real OTLP/HTTP receiver decoding what the SDK exports.
 */
class TracingTest {
    private static final String CALLER_TRACE = "0af7651916cd43dd8448eb211c80319c";
    private static final String CALLER_SPAN = "b7ad6b7169203331";
    private static final String CALLER = "00-" + CALLER_TRACE + "-" + CALLER_SPAN + "-01";
    private static final Duration WAIT = Duration.ofSeconds(10);

    @RegisterExtension
    final SluiceServerExtension sluice = new SluiceServerExtension();

    private final MockWebServer upstream = Upstream.start();
    private final OtlpReceiver collector = new OtlpReceiver();

    @AfterEach
    void stop() {
        upstream.close();
        collector.close();
    }

    private SluiceServerExtension.Running startTracing(String extra) {
        return sluice.start("""
                upstreams:
                  shop:
                    base_url: %s
                    allow_private: true
                    headers: {Authorization: "Bearer upstream-sekrit"}
                    retry: {base_delay: 1ms, max_delay: 2ms}
                tracing:
                  otlp_endpoint: %s
                  schedule_delay: 20ms
                  service_name: sluice-under-test
                %s
                """.formatted(Upstream.origin(upstream), collector.endpoint(), extra));
    }

    @Test
    void continuesTheCallersTraceAndSendsItsOwnClientSpanUpstream() throws Exception {
        var running = startTracing("");
        upstream.enqueue(Upstream.ok("text/plain", "hi"));

        HttpResponse<String> response =
                TestHttp.send(HttpRequest.newBuilder(running.data("/shop/items/7?api_key=query-sekrit"))
                        .header("traceparent", CALLER)
                        .header("Authorization", "Bearer client-sekrit")
                        .build());

        assertThat(response.statusCode()).isEqualTo(200);
        RecordedRequest seen = upstream.takeRequest(5, TimeUnit.SECONDS);
        String[] sent = seen.getHeaders().get("traceparent").split("-");
        assertThat(sent[1]).as("the upstream continues the caller's trace").isEqualTo(CALLER_TRACE);
        assertThat(sent[2]).as("with Sluice's own span as parent").isNotEqualTo(CALLER_SPAN);

        List<Span> spans = collector.await(s -> s.size() >= 2, WAIT);
        Span client = only(spans, Span.SpanKind.SPAN_KIND_CLIENT);
        Span server = only(spans, Span.SpanKind.SPAN_KIND_SERVER);
        assertThat(hex(client.getSpanId()))
                .as("the traceparent sent upstream names the client span")
                .isEqualTo(sent[2]);
        assertThat(hex(client.getTraceId())).isEqualTo(CALLER_TRACE);
        assertThat(hex(client.getParentSpanId())).isEqualTo(hex(server.getSpanId()));
        assertThat(hex(server.getTraceId())).isEqualTo(CALLER_TRACE);
        assertThat(hex(server.getParentSpanId())).isEqualTo(CALLER_SPAN);

        assertThat(server.getName()).isEqualTo("GET");
        assertThat(attributes(server))
                .containsEntry("http.request.method", "GET")
                .containsEntry("url.path", "/items/7")
                .containsEntry("http.response.status_code", "200")
                .containsEntry("sluice.upstream", "shop")
                .containsEntry("sluice.attempts", "1");
        assertThat(attributes(client))
                .containsEntry("http.request.method", "GET")
                .containsEntry("server.address", "127.0.0.1")
                .containsEntry("server.port", Integer.toString(upstream.getPort()))
                .containsEntry("url.full", Upstream.origin(upstream) + "/items/7")
                .containsEntry("http.response.status_code", "200")
                .containsEntry("sluice.attempt", "1");
        assertThat(collector.serviceNames()).contains("sluice-under-test");

        String exported = new String(collector.rawBytes(), StandardCharsets.ISO_8859_1);
        assertThat(exported).doesNotContain("query-sekrit", "api_key", "client-sekrit", "upstream-sekrit");

        // The trace is one click away from a slow response: Server-Timing and the recent requests.
        String traceparent = "00-" + CALLER_TRACE + "-" + hex(server.getSpanId()) + "-01";
        assertThat(response.headers().firstValue("server-timing"))
                .hasValueSatisfying(t -> assertThat(t).contains("traceparent;desc=\"" + traceparent + "\""));
        JsonNode recent = TestHttp.JSON.readTree(
                TestHttp.get(running.admin("/api/requests/recent")).body());
        assertThat(recent.get("requests").get(0).get("trace_id").asText()).isEqualTo(CALLER_TRACE);
    }

    @Test
    void eachAttemptIsAClientSpanWithItsNumberAndStatusAndTheBackoffBetween() throws Exception {
        var running = startTracing("");
        upstream.enqueue(new MockResponse.Builder().code(503).body("busy").build());
        upstream.enqueue(Upstream.ok("text/plain", "hi"));

        HttpResponse<String> response = TestHttp.get(running.data("/shop/flaky"));

        assertThat(response.statusCode()).isEqualTo(200);
        String first = upstream.takeRequest(5, TimeUnit.SECONDS).getHeaders().get("traceparent");
        String second = upstream.takeRequest(5, TimeUnit.SECONDS).getHeaders().get("traceparent");
        List<Span> spans =
                collector.await(s -> s.stream().anyMatch(x -> x.getKind() == Span.SpanKind.SPAN_KIND_SERVER), WAIT);
        Span server = only(spans, Span.SpanKind.SPAN_KIND_SERVER);
        List<Span> attempts = spans.stream()
                .filter(s -> s.getKind() == Span.SpanKind.SPAN_KIND_CLIENT)
                .sorted(java.util.Comparator.comparing(s -> attributes(s).get("sluice.attempt")))
                .toList();
        assertThat(attempts).hasSize(2);
        assertThat(attributes(attempts.get(0)))
                .containsEntry("http.response.status_code", "503")
                .containsEntry("error.type", "503")
                .doesNotContainKey("http.request.resend_count");
        assertThat(attributes(attempts.get(1)))
                .containsEntry("http.response.status_code", "200")
                .containsEntry("http.request.resend_count", "1");
        assertThat(first.split("-")[2]).isEqualTo(hex(attempts.get(0).getSpanId()));
        assertThat(second.split("-")[2]).isEqualTo(hex(attempts.get(1).getSpanId()));
        assertThat(first.split("-")[1])
                .as("a caller without traceparent starts a trace")
                .isEqualTo(hex(server.getTraceId()));
        assertThat(server.getParentSpanId().isEmpty()).isTrue();
        Span backoff = spans.stream()
                .filter(s -> s.getName().equals("retry backoff"))
                .findFirst()
                .orElseThrow();
        assertThat(hex(backoff.getParentSpanId())).isEqualTo(hex(server.getSpanId()));
        assertThat(attributes(backoff))
                .containsEntry("sluice.attempt", "2")
                .containsEntry("sluice.retry.reason", "503");
        assertThat(attributes(server)).containsEntry("sluice.attempts", "2");
    }

    @Test
    void aTypedErrorEndsEverySpanWithItsType() throws Exception {
        var running = startTracing("defaults:\n  timeouts: {total: 300ms}");
        upstream.enqueue(new MockResponse.Builder()
                .headersDelay(10, TimeUnit.SECONDS)
                .body("late")
                .build());

        HttpResponse<String> response = TestHttp.get(running.data("/shop/slow"));

        assertThat(response.statusCode()).isGreaterThanOrEqualTo(500);
        List<Span> spans = collector.await(
                s -> s.stream().anyMatch(x -> x.getKind() == Span.SpanKind.SPAN_KIND_SERVER)
                        && s.stream().anyMatch(x -> x.getKind() == Span.SpanKind.SPAN_KIND_CLIENT),
                WAIT);
        Span server = only(spans, Span.SpanKind.SPAN_KIND_SERVER);
        Span client = only(spans, Span.SpanKind.SPAN_KIND_CLIENT);
        assertThat(attributes(server))
                .containsEntry("error.type", "timeout")
                .containsEntry("http.response.status_code", Integer.toString(response.statusCode()));
        assertThat(server.getStatus().getCode())
                .isEqualTo(io.opentelemetry.proto.trace.v1.Status.StatusCode.STATUS_CODE_ERROR);
        assertThat(client.getStatus().getCode())
                .isEqualTo(io.opentelemetry.proto.trace.v1.Status.StatusCode.STATUS_CODE_ERROR);
        assertThat(attributes(client).get("error.type")).isIn("timeout", "cancelled");
        assertThat(client.getEndTimeUnixNano()).isLessThanOrEqualTo(server.getEndTimeUnixNano());
    }

    @Test
    void batchItemsContinueTheBatchTraceUnlessTheirOwnHeadersCarryOne() throws Exception {
        var running = startTracing("");
        upstream.enqueue(Upstream.ok("text/plain", "a"));
        upstream.enqueue(Upstream.ok("text/plain", "b"));
        String own = "00-11111111111111111111111111111111-2222222222222222-01";

        HttpResponse<String> response = TestHttp.send(HttpRequest.newBuilder(running.data("/v1/batch"))
                .header("Content-Type", "application/json")
                .header("traceparent", CALLER)
                .POST(HttpRequest.BodyPublishers.ofString("""
                        {"concurrency": 1, "requests": [
                          {"url": "%1$s/a"},
                          {"url": "%1$s/b", "headers": {"traceparent": "%2$s"}}
                        ]}""".formatted(Upstream.origin(upstream), own)))
                .build());

        assertThat(response.statusCode()).isEqualTo(200);
        List<Span> spans = collector.await(
                s -> s.stream()
                                .filter(x -> x.getKind() == Span.SpanKind.SPAN_KIND_INTERNAL)
                                .count()
                        == 2,
                WAIT);
        Span a = item(spans, "/a");
        Span b = item(spans, "/b");
        assertThat(hex(a.getTraceId())).isEqualTo(CALLER_TRACE);
        assertThat(hex(a.getParentSpanId())).isEqualTo(CALLER_SPAN);
        assertThat(hex(b.getTraceId())).isEqualTo("11111111111111111111111111111111");
        assertThat(hex(b.getParentSpanId())).isEqualTo("2222222222222222");
        for (int i = 0; i < 2; i++) {
            String sent = upstream.takeRequest(5, TimeUnit.SECONDS).getHeaders().get("traceparent");
            assertThat(sent).doesNotContain(CALLER_SPAN).doesNotContain("2222222222222222");
        }
    }

    @Test
    void withTracingOffTheCallersTraceparentPassesUnchangedAndNoneIsAdded() throws Exception {
        var running = sluice.start("""
                upstreams:
                  shop:
                    base_url: %s
                    allow_private: true
                """.formatted(Upstream.origin(upstream)));
        upstream.enqueue(Upstream.ok("text/plain", "a"));
        upstream.enqueue(Upstream.ok("text/plain", "b"));

        HttpResponse<String> withParent = TestHttp.send(HttpRequest.newBuilder(running.data("/shop/a"))
                .header("traceparent", CALLER)
                .header("tracestate", "vendor=1")
                .build());
        HttpResponse<String> without = TestHttp.get(running.data("/shop/b"));

        RecordedRequest first = upstream.takeRequest(5, TimeUnit.SECONDS);
        assertThat(first.getHeaders().get("traceparent")).isEqualTo(CALLER);
        assertThat(first.getHeaders().get("tracestate")).isEqualTo("vendor=1");
        assertThat(upstream.takeRequest(5, TimeUnit.SECONDS).getHeaders().get("traceparent"))
                .isNull();
        assertThat(withParent.headers().firstValue("server-timing").orElseThrow())
                .doesNotContain("traceparent");
        assertThat(without.headers().firstValue("server-timing").orElseThrow()).doesNotContain("traceparent");
    }

    @Test
    void atSampleRatioZeroNothingIsRecordedButTheTraceStillGoesUpstream() throws Exception {
        var running = startTracing("  sample_ratio: 0");
        upstream.enqueue(Upstream.ok("text/plain", "a"));

        HttpResponse<String> response = TestHttp.get(running.data("/shop/a"));

        String sent = upstream.takeRequest(5, TimeUnit.SECONDS).getHeaders().get("traceparent");
        // Sampled bit clear (02 is W3C level 2's "random trace id" flag, which the SDK sets).
        assertThat(sent).matches("00-[0-9a-f]{32}-[0-9a-f]{16}-0[02]");
        assertThat(response.headers().firstValue("server-timing").orElseThrow())
                .contains("traceparent;desc=\"00-" + sent.split("-")[1]);
    }

    @Test
    void configErrorsNameTheKeyAndTheEnvironmentCanTurnTracingOn() {
        ConfigLoader loader = new ConfigLoader(Map.of());
        assertThatThrownBy(() -> loader.fromYaml("tracing: {sample_ratio: 2}"))
                .isInstanceOf(ConfigException.class)
                .hasMessageStartingWith("tracing.sample_ratio: ");
        assertThatThrownBy(() -> loader.fromYaml("tracing: {otlp_endpoint: \"collector:4318\"}"))
                .isInstanceOf(ConfigException.class)
                .hasMessageStartingWith("tracing.otlp_endpoint: ");
        assertThatThrownBy(() -> loader.fromYaml("tracing: {schedule_delay: 0s}"))
                .isInstanceOf(ConfigException.class)
                .hasMessageStartingWith("tracing.schedule_delay: ");

        assertThat(loader.defaults().tracing().enabled()).isFalse();
        assertThat(loader.fromYaml("tracing: {otlp_endpoint: \"http://collector:4318\"}")
                        .tracing()
                        .enabled())
                .isTrue();
        assertThat(new ConfigLoader(Map.of("OTEL_EXPORTER_OTLP_ENDPOINT", "http://collector:4318"))
                        .defaults()
                        .tracing()
                        .enabled())
                .isTrue();
        assertThat(new ConfigLoader(Map.of(
                                "OTEL_EXPORTER_OTLP_ENDPOINT", "http://collector:4318", "OTEL_SDK_DISABLED", "true"))
                        .defaults()
                        .tracing()
                        .enabled())
                .isFalse();
    }

    private static Span only(List<Span> spans, Span.SpanKind kind) {
        List<Span> of = spans.stream().filter(s -> s.getKind() == kind).toList();
        assertThat(of).as("%s spans", kind).hasSize(1);
        return of.get(0);
    }

    private static Span item(List<Span> spans, String path) {
        return spans.stream()
                .filter(s -> s.getKind() == Span.SpanKind.SPAN_KIND_INTERNAL)
                .filter(s -> path.equals(attributes(s).get("url.path")))
                .findFirst()
                .orElseThrow();
    }

    private static String hex(com.google.protobuf.ByteString id) {
        return HexFormat.of().formatHex(id.toByteArray());
    }

    /** Every attribute's value as text (ints too), for plain assertions. */
    private static Map<String, String> attributes(Span span) {
        Map<String, String> out = new java.util.LinkedHashMap<>();
        for (KeyValue kv : span.getAttributesList()) {
            var v = kv.getValue();
            out.put(
                    kv.getKey(),
                    switch (v.getValueCase()) {
                        case INT_VALUE -> Long.toString(v.getIntValue());
                        case BOOL_VALUE -> Boolean.toString(v.getBoolValue());
                        case DOUBLE_VALUE -> Double.toString(v.getDoubleValue());
                        default -> v.getStringValue();
                    });
        }
        return out;
    }
}
