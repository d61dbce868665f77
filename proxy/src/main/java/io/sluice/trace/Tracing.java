package io.sluice.trace;

import io.opentelemetry.sdk.OpenTelemetrySdk;
import io.opentelemetry.sdk.autoconfigure.AutoConfiguredOpenTelemetrySdk;
import io.sluice.config.TracingConfig;
import io.sluice.fetch.FetchListener;
import io.sluice.time.TimeSource;
import java.time.Duration;
import java.util.HashMap;
import java.util.Map;
import java.util.concurrent.TimeUnit;

/**
 * Sluice's tracing: the OpenTelemetry SDK, set up by its own autoconfiguration so the standard
 * {@code OTEL_*} environment variables (and {@code otel.*} system properties) work as in any
 * OpenTelemetry SDK, with the {@code tracing:} keys as the defaults they override. Spans go over
 * OTLP/HTTP ({@code http/protobuf}) through {@code java.net.http}. Off, it is {@link #OFF}: no SDK,
 * no listener, nothing on the request path.
 */
public final class Tracing implements AutoCloseable {
    private static final System.Logger LOG = System.getLogger(Tracing.class.getName());

    /** How long shutdown waits for the last spans to reach the collector. */
    static final Duration FLUSH_TIMEOUT = Duration.ofSeconds(5);

    /** Tracing off. */
    public static final Tracing OFF = new Tracing(null, FetchListener.NONE);

    private final OpenTelemetrySdk sdk;
    private final FetchListener listener;

    private Tracing(OpenTelemetrySdk sdk, FetchListener listener) {
        this.sdk = sdk;
        this.listener = listener;
    }

    /** Tracing as {@code config} says: {@link #OFF} unless it is enabled. */
    public static Tracing start(TracingConfig config, TimeSource time) {
        if (!config.enabled()) return OFF;
        OpenTelemetrySdk sdk = AutoConfiguredOpenTelemetrySdk.builder()
                .addPropertiesSupplier(() -> defaults(config))
                // Sluice's metrics are Prometheus' and its logs java.util.logging's: traces only.
                .addPropertiesCustomizer(
                        properties -> Map.of("otel.metrics.exporter", "none", "otel.logs.exporter", "none"))
                .addTracerProviderCustomizer((builder, properties) -> builder.setClock(new TimeSourceClock(time)))
                .disableShutdownHook()
                .build()
                .getOpenTelemetrySdk();
        LOG.log(
                System.Logger.Level.INFO,
                "tracing on: OTLP/HTTP to {0}",
                config.otlpEndpoint().map(Object::toString).orElse("OTEL_EXPORTER_OTLP_ENDPOINT"));
        return new Tracing(sdk, new SpanListener(sdk, new TimeSourceClock(time)));
    }

    /**
     * The config's values as OpenTelemetry properties, each one the SDK's defaults for its
     * {@code OTEL_*} variable: the variable, when set, wins.
     */
    static Map<String, String> defaults(TracingConfig config) {
        Map<String, String> p = new HashMap<>();
        config.otlpEndpoint().ifPresent(endpoint -> p.put("otel.exporter.otlp.endpoint", endpoint.toString()));
        p.put("otel.exporter.otlp.protocol", "http/protobuf");
        p.put("otel.traces.exporter", "otlp");
        p.put("otel.service.name", config.serviceName());
        p.put("otel.traces.sampler", "parentbased_traceidratio");
        p.put("otel.traces.sampler.arg", Double.toString(config.sampleRatio()));
        p.put("otel.bsp.schedule.delay", Long.toString(config.scheduleDelay().toMillis()));
        return p;
    }

    public boolean enabled() {
        return sdk != null;
    }

    /** What listens to calls to record their spans ({@link FetchListener#NONE} when off). */
    public FetchListener listener() {
        return listener;
    }

    /** Sends the spans still queued, waiting at most {@link #FLUSH_TIMEOUT}, and stops the SDK. */
    @Override
    public void close() {
        if (sdk == null) return;
        var done = sdk.shutdown().join(FLUSH_TIMEOUT.toMillis(), TimeUnit.MILLISECONDS);
        if (!done.isSuccess()) {
            LOG.log(System.Logger.Level.WARNING, "tracing: spans not all sent within {0} of shutdown", FLUSH_TIMEOUT);
        }
    }

    @Override
    public String toString() {
        return enabled() ? "Tracing(on)" : "Tracing(off)";
    }
}
