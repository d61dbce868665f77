package io.sluice.config;

import static io.sluice.config.ConfigKey.children;
import static io.sluice.config.ConfigKey.key;
import static io.sluice.config.TreeReader.checkKeys;
import static io.sluice.config.TreeReader.construct;

import com.fasterxml.jackson.databind.JsonNode;
import java.net.URI;
import java.net.URISyntaxException;
import java.time.Duration;
import java.util.List;
import java.util.Optional;

/**
 * The {@code tracing} section: its keys, and how it is read and validated into a
 * {@link TracingConfig} (whose {@code OTEL_*} environment variables win over the file).
 */
final class TracingCodec {

    static final List<ConfigKey> KEYS = List.of(
            key(
                    "tracing.otlp_endpoint",
                    "URL",
                    "— (tracing off)",
                    "the collector's OTLP/HTTP base URL (`http://collector:4318`; spans go to its `/v1/traces`); turns tracing on; `OTEL_EXPORTER_OTLP_ENDPOINT` wins, and turns it on too ([tracing](tracing.md))"),
            key(
                    "tracing.sample_ratio",
                    "share",
                    "`1.0`",
                    "share of new traces recorded (`0.1` or `10%`); a caller's sampled flag is followed; `OTEL_TRACES_SAMPLER`/`_ARG` win"),
            key(
                    "tracing.service_name",
                    "string",
                    "`sluice`",
                    "`service.name` of Sluice's spans; `OTEL_SERVICE_NAME` wins"),
            key(
                    "tracing.schedule_delay",
                    "duration",
                    "`5s`",
                    "how long finished spans wait to be sent in one batch; `OTEL_BSP_SCHEDULE_DELAY` wins"));

    private final TreeReader in;

    TracingCodec(TreeReader in) {
        this.in = in;
    }

    /** Reads {@code tracing} from {@code t}, already merged over the built-in defaults. */
    TracingConfig read(JsonNode t) {
        checkKeys("tracing", t, children(KEYS, "tracing."));
        Optional<URI> endpoint = Optional.empty();
        JsonNode e = t.get("otlp_endpoint");
        if (e != null && !e.isNull()) {
            String value = in.string("tracing.otlp_endpoint", e).trim();
            if (!value.isEmpty()) {
                try {
                    URI uri = new URI(value);
                    TracingConfig.checkEndpoint(uri);
                    endpoint = Optional.of(uri);
                } catch (URISyntaxException | IllegalArgumentException bad) {
                    throw new ConfigException(
                            "tracing.otlp_endpoint",
                            "expected http(s)://host[:port][/path] without query or user info, got \"" + value + "\"");
                }
            }
        }
        JsonNode r = t.get("sample_ratio");
        double ratio =
                r == null || r.isNull() ? TracingConfig.DEFAULT_SAMPLE_RATIO : in.fraction("tracing.sample_ratio", r);
        if (!(ratio >= 0 && ratio <= 1)) {
            throw new ConfigException("tracing.sample_ratio", "expected 0 to 1 (or 0% to 100%), got " + ratio);
        }
        JsonNode n = t.get("service_name");
        String service =
                n == null || n.isNull() ? TracingConfig.DEFAULT_SERVICE_NAME : in.string("tracing.service_name", n);
        if (service.isBlank()) throw new ConfigException("tracing.service_name", "cannot be empty");
        JsonNode d = t.get("schedule_delay");
        Duration delay = d == null || d.isNull()
                ? TracingConfig.DEFAULT_SCHEDULE_DELAY
                : in.duration("tracing.schedule_delay", d);
        if (delay.isZero() || delay.isNegative()) {
            throw new ConfigException("tracing.schedule_delay", "must be positive, got " + d.asText());
        }
        Optional<URI> configured = endpoint;
        return construct(
                "tracing",
                () -> new TracingConfig(
                        configured, ratio, service, delay, TracingConfig.enabled(configured, in.env())));
    }
}
