package io.sluice.config;

import java.net.URI;
import java.time.Duration;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;

/**
 * OpenTelemetry tracing ({@code tracing:}). These values are the defaults the OpenTelemetry SDK
 * starts from; the standard {@code OTEL_*} environment variables (and {@code otel.*} system
 * properties) override them, as they override any OpenTelemetry SDK's built-in defaults.
 *
 * @param otlpEndpoint the collector's OTLP/HTTP base URL ({@code http://collector:4318}); spans go
 *     to its {@code /v1/traces}
 * @param sampleRatio the share of new traces recorded (a caller's sampled flag is followed)
 * @param serviceName {@code service.name} of Sluice's spans
 * @param scheduleDelay how long finished spans wait to be sent in one batch
 * @param enabled whether tracing runs: {@code otlpEndpoint} is set, or {@code OTEL_EXPORTER_OTLP_ENDPOINT}
 *     (or {@code _TRACES_ENDPOINT}) is, and {@code OTEL_SDK_DISABLED} is not {@code true}
 */
public record TracingConfig(
        Optional<URI> otlpEndpoint, double sampleRatio, String serviceName, Duration scheduleDelay, boolean enabled) {
    public static final double DEFAULT_SAMPLE_RATIO = 1.0;
    public static final String DEFAULT_SERVICE_NAME = "sluice";
    public static final Duration DEFAULT_SCHEDULE_DELAY = Duration.ofSeconds(5);

    /** Tracing off. */
    public static final TracingConfig OFF = new TracingConfig(
            Optional.empty(), DEFAULT_SAMPLE_RATIO, DEFAULT_SERVICE_NAME, DEFAULT_SCHEDULE_DELAY, false);

    public TracingConfig {
        otlpEndpoint.ifPresent(TracingConfig::checkEndpoint);
        if (!(sampleRatio >= 0 && sampleRatio <= 1)) {
            throw new IllegalArgumentException("sample_ratio must be from 0 to 1 (or 0% to 100%): " + sampleRatio);
        }
        if (serviceName.isBlank()) throw new IllegalArgumentException("service_name cannot be empty");
        Checks.positive("schedule_delay", scheduleDelay);
    }

    /** Tracing to {@code endpoint}, every trace recorded (tests, examples). */
    public static TracingConfig to(URI endpoint) {
        return new TracingConfig(
                Optional.of(endpoint), DEFAULT_SAMPLE_RATIO, DEFAULT_SERVICE_NAME, DEFAULT_SCHEDULE_DELAY, true);
    }

    /**
     * Whether tracing is on: an endpoint in the config, or one in the environment the way the
     * OpenTelemetry SDK reads it, unless the environment disables the SDK.
     */
    static boolean enabled(Optional<URI> otlpEndpoint, Map<String, String> env) {
        if ("true".equals(env.getOrDefault("OTEL_SDK_DISABLED", "").trim().toLowerCase(Locale.ROOT))) return false;
        return otlpEndpoint.isPresent()
                || !env.getOrDefault("OTEL_EXPORTER_OTLP_ENDPOINT", "").isBlank()
                || !env.getOrDefault("OTEL_EXPORTER_OTLP_TRACES_ENDPOINT", "").isBlank();
    }

    static void checkEndpoint(URI endpoint) {
        String scheme = endpoint.getScheme() == null ? "" : endpoint.getScheme().toLowerCase(Locale.ROOT);
        if (!(scheme.equals("http") || scheme.equals("https")) || endpoint.getHost() == null) {
            throw new IllegalArgumentException(
                    "otlp_endpoint must be http(s)://host[:port][/path], got \"" + endpoint + "\"");
        }
        if (endpoint.getRawQuery() != null || endpoint.getRawUserInfo() != null) {
            throw new IllegalArgumentException(
                    "otlp_endpoint takes no query or user info (set OTEL_EXPORTER_OTLP_HEADERS for credentials)");
        }
    }
}
