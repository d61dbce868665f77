package io.sluice.metrics;

import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;
import io.undertow.server.HttpHandler;
import io.undertow.server.HttpServerExchange;
import io.undertow.util.Headers;
import java.nio.charset.StandardCharsets;

/**
 * {@code GET /metrics}: the Prometheus text format, gauges refreshed from live state first (and, on
 * the first scrape, the JVM and process binders bound: {@link SluiceMetrics#bindJvmMetrics}).
 */
public final class PrometheusEndpoint implements HttpHandler {
    private static final String CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8";
    private final PrometheusMeterRegistry registry;
    private final SluiceMetrics metrics;

    public PrometheusEndpoint(PrometheusMeterRegistry registry, SluiceMetrics metrics) {
        this.registry = registry;
        this.metrics = metrics;
    }

    @Override
    public void handleRequest(HttpServerExchange exchange) {
        if (exchange.isInIoThread()) {
            exchange.dispatch(this);
            return;
        }
        metrics.bindJvmMetrics();
        metrics.refreshGauges();
        byte[] body = registry.scrape().getBytes(StandardCharsets.UTF_8);
        exchange.getResponseHeaders().put(Headers.CONTENT_TYPE, CONTENT_TYPE);
        exchange.getResponseHeaders().put(Headers.CACHE_CONTROL, "no-store");
        exchange.getResponseSender().send(java.nio.ByteBuffer.wrap(body));
    }

    @Override
    public String toString() {
        return "PrometheusEndpoint";
    }
}
