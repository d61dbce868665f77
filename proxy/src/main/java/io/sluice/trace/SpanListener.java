package io.sluice.trace;

import io.opentelemetry.api.OpenTelemetry;
import io.opentelemetry.api.common.AttributeKey;
import io.opentelemetry.api.trace.Span;
import io.opentelemetry.api.trace.SpanContext;
import io.opentelemetry.api.trace.SpanKind;
import io.opentelemetry.api.trace.StatusCode;
import io.opentelemetry.api.trace.Tracer;
import io.opentelemetry.context.Context;
import io.opentelemetry.context.propagation.TextMapGetter;
import io.opentelemetry.context.propagation.TextMapPropagator;
import io.opentelemetry.sdk.common.Clock;
import io.sluice.config.Priority;
import io.sluice.fetch.Call;
import io.sluice.fetch.Failures;
import io.sluice.fetch.FetchFailure;
import io.sluice.fetch.FetchListener;
import io.sluice.fetch.FetchOutcome;
import io.sluice.fetch.FetchRequest;
import io.sluice.fetch.FetchResponse;
import io.sluice.fetch.Fields;
import java.net.URI;
import java.time.Duration;
import java.util.HashMap;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.TimeUnit;

/**
 * Records each call as spans, from the pipeline's events: the call's span (kind {@code SERVER} for
 * a request Sluice received, {@code INTERNAL} for a batch item), a {@code CLIENT} span per attempt
 * whose context goes upstream as {@code traceparent}, and a child span per admission wait and retry
 * backoff. Attributes follow the OpenTelemetry HTTP semantic conventions and carry no header value
 * and no query string: URLs are recorded as scheme, host, port and path.
 *
 * <p>Every span is ended: an attempt at its {@link #attemptEnd}, a backoff when the next attempt
 * starts, and whatever is still open at {@link #callEnd}, which comes for every call (response,
 * typed failure, cancellation, shutdown).
 */
final class SpanListener implements FetchListener {
    static final AttributeKey<String> METHOD = AttributeKey.stringKey("http.request.method");
    static final AttributeKey<String> METHOD_ORIGINAL = AttributeKey.stringKey("http.request.method_original");
    static final AttributeKey<Long> STATUS = AttributeKey.longKey("http.response.status_code");
    static final AttributeKey<Long> RESEND_COUNT = AttributeKey.longKey("http.request.resend_count");
    static final AttributeKey<String> ERROR_TYPE = AttributeKey.stringKey("error.type");
    static final AttributeKey<String> SERVER_ADDRESS = AttributeKey.stringKey("server.address");
    static final AttributeKey<Long> SERVER_PORT = AttributeKey.longKey("server.port");
    static final AttributeKey<String> URL_FULL = AttributeKey.stringKey("url.full");
    static final AttributeKey<String> URL_PATH = AttributeKey.stringKey("url.path");
    static final AttributeKey<String> URL_SCHEME = AttributeKey.stringKey("url.scheme");
    static final AttributeKey<String> UPSTREAM = AttributeKey.stringKey("sluice.upstream");
    static final AttributeKey<String> CACHE = AttributeKey.stringKey("sluice.cache.status");
    static final AttributeKey<Long> ATTEMPT = AttributeKey.longKey("sluice.attempt");
    static final AttributeKey<Long> ATTEMPTS = AttributeKey.longKey("sluice.attempts");
    static final AttributeKey<Boolean> ADMITTED = AttributeKey.booleanKey("sluice.admitted");
    static final AttributeKey<String> RETRY_REASON = AttributeKey.stringKey("sluice.retry.reason");
    static final AttributeKey<Long> RETRY_DELAY_MS = AttributeKey.longKey("sluice.retry.delay_ms");

    /** RFC 9110's methods and PATCH; any other is recorded as {@code _OTHER} (semantic conventions). */
    private static final Set<String> KNOWN_METHODS =
            Set.of("GET", "HEAD", "POST", "PUT", "DELETE", "CONNECT", "OPTIONS", "TRACE", "PATCH");

    private static final TextMapGetter<Fields> FIELDS = new TextMapGetter<>() {
        @Override
        public Iterable<String> keys(Fields carrier) {
            return carrier.map().keySet();
        }

        @Override
        public String get(Fields carrier, String key) {
            return carrier == null ? null : carrier.firstValue(key).orElse(null);
        }
    };

    private final Tracer tracer;
    private final TextMapPropagator propagator;
    private final Clock clock;

    SpanListener(OpenTelemetry otel, Clock clock) {
        this.tracer = otel.getTracer("io.sluice");
        this.propagator = otel.getPropagators().getTextMapPropagator();
        this.clock = clock;
    }

    /** One call's spans; a call's events come one after another, never at once. */
    private static final class State {
        final Span span;
        final Context context;
        /** What goes upstream while the call's span is not recorded: its own context, for every attempt. */
        volatile Map<String, String> unrecordedHeaders;

        volatile Span attempt;
        volatile Span backoff;

        State(Span span, Context context) {
            this.span = span;
            this.context = context;
        }
    }

    @Override
    public void callStart(Call call) {
        FetchRequest request = call.request();
        // The call's own headers first (a batch item's traceparent wins), else its batch's.
        Context parent = propagator.extract(Context.root(), request.headers(), FIELDS);
        Fields outer = call.parentHeaders();
        if (outer != null && !Span.fromContext(parent).getSpanContext().isValid()) {
            parent = propagator.extract(Context.root(), outer, FIELDS);
        }
        String method = request.method();
        boolean known = KNOWN_METHODS.contains(method);
        Span span = tracer.spanBuilder(known ? method : "HTTP")
                .setParent(parent)
                .setSpanKind(outer != null ? SpanKind.INTERNAL : SpanKind.SERVER)
                .startSpan();
        State state = new State(span, parent.with(span));
        String traceparent = null;
        if (span.isRecording()) {
            // Attributes only on spans that are kept: an unsampled call allocates no attribute map.
            URI uri = request.uri();
            span.setAttribute(METHOD, known ? method : "_OTHER");
            if (!known) span.setAttribute(METHOD_ORIGINAL, method);
            if (uri.getScheme() != null) span.setAttribute(URL_SCHEME, uri.getScheme());
            String path = uri.getRawPath();
            if (path != null && !path.isEmpty()) span.setAttribute(URL_PATH, path);
        } else {
            // What every attempt of an unsampled call sends, made once; its traceparent is the call's.
            state.unrecordedHeaders = inject(state.context);
            traceparent = state.unrecordedHeaders.get("traceparent");
        }
        if (traceparent == null) {
            SpanContext ids = span.getSpanContext();
            traceparent = "00-" + ids.getTraceId() + "-" + ids.getSpanId() + "-"
                    + ids.getTraceFlags().asHex();
        }
        call.trace().traceparent(traceparent);
        call.span(state);
    }

    @Override
    public void attemptStart(Call call, int attempt) {
        if (!(call.span() instanceof State state)) return;
        endBackoff(state);
        if (!state.span.isRecording()) {
            // Not sampled: the upstream still continues this trace (sampled flag clear), through the call's span.
            call.traceHeaders(state.unrecordedHeaders);
            return;
        }
        FetchRequest request = call.request();
        String method = request.method();
        boolean known = KNOWN_METHODS.contains(method);
        URI uri = request.uri();
        int port = port(uri);
        var builder = tracer.spanBuilder(known ? method : "HTTP")
                .setParent(state.context)
                .setSpanKind(SpanKind.CLIENT)
                .setAttribute(METHOD, known ? method : "_OTHER")
                .setAttribute(SERVER_ADDRESS, uri.getHost())
                .setAttribute(SERVER_PORT, (long) port)
                .setAttribute(URL_FULL, withoutQuery(uri, port))
                .setAttribute(ATTEMPT, (long) attempt);
        if (!known) builder.setAttribute(METHOD_ORIGINAL, method);
        if (attempt > 1) builder.setAttribute(RESEND_COUNT, (long) attempt - 1);
        Span span = builder.startSpan();
        endAttempt(state, "superseded");
        state.attempt = span;
        call.traceHeaders(inject(state.context.with(span)));
    }

    @Override
    public void attemptEnd(Call call, int attempt, int status, Throwable error) {
        if (!(call.span() instanceof State state) || state.attempt == null) return;
        Span span = state.attempt;
        state.attempt = null;
        if (status > 0) {
            span.setAttribute(STATUS, (long) status);
            // A client span is an error from 400 on (semantic conventions), its error.type the status.
            if (status >= 400) {
                span.setAttribute(ERROR_TYPE, Integer.toString(status));
                span.setStatus(StatusCode.ERROR);
            }
        } else if (error != null) {
            span.setAttribute(ERROR_TYPE, Failures.classify(error).type().wireName());
            span.setStatus(StatusCode.ERROR);
        }
        span.end();
    }

    @Override
    public void admissionEnd(Call call, Admission cause, Priority priority, long waitedNanos, boolean admitted) {
        if (waitedNanos <= 0 || !(call.span() instanceof State state) || !state.span.isRecording()) return;
        long end = clock.now();
        tracer.spanBuilder(cause.tag() + " wait")
                .setParent(state.context)
                .setStartTimestamp(end - waitedNanos, TimeUnit.NANOSECONDS)
                .setAttribute(ADMITTED, admitted)
                .startSpan()
                .end(end, TimeUnit.NANOSECONDS);
    }

    @Override
    public void retry(Call call, int nextAttempt, String reason, Duration delay) {
        if (!(call.span() instanceof State state) || !state.span.isRecording()) return;
        endBackoff(state);
        state.backoff = tracer.spanBuilder("retry backoff")
                .setParent(state.context)
                .setAttribute(ATTEMPT, (long) nextAttempt)
                .setAttribute(RETRY_REASON, reason)
                .setAttribute(RETRY_DELAY_MS, delay.toMillis())
                .startSpan();
    }

    @Override
    public void cacheCoalesced(Call call) {
        if (call.span() instanceof State state) state.span.addEvent("cache coalesced");
    }

    @Override
    public void callEnd(Call call, FetchOutcome outcome, long elapsedNanos) {
        if (!(call.span() instanceof State state)) return;
        endBackoff(state);
        endAttempt(state, "cancelled");
        Span span = state.span;
        if (span.isRecording()) {
            var trace = outcome.trace();
            if (!trace.upstream().isEmpty()) span.setAttribute(UPSTREAM, trace.upstream());
            span.setAttribute(ATTEMPTS, (long) trace.attempts());
            span.setAttribute(CACHE, trace.cacheStatus());
            if (trace.cacheNanos() > 0) {
                span.addEvent(
                        "cache lookup",
                        io.opentelemetry.api.common.Attributes.of(
                                CACHE,
                                trace.cacheStatus(),
                                AttributeKey.doubleKey("sluice.cache.ms"),
                                trace.cacheNanos() / 1e6));
            }
            boolean server = call.parentHeaders() == null;
            switch (outcome) {
                case FetchResponse r -> {
                    span.setAttribute(STATUS, (long) r.status());
                    // A server span is an error only from 500 on; a batch item's like a client's.
                    if (r.status() >= (server ? 500 : 400)) {
                        span.setAttribute(ERROR_TYPE, Integer.toString(r.status()));
                        span.setStatus(StatusCode.ERROR);
                    }
                }
                case FetchFailure f -> {
                    if (server) span.setAttribute(STATUS, (long) f.type().httpStatus());
                    // The type, not the message: a message may quote a URL and its query.
                    span.setAttribute(ERROR_TYPE, f.type().wireName());
                    span.setStatus(StatusCode.ERROR);
                }
            }
        }
        span.end();
    }

    private static void endBackoff(State state) {
        if (state.backoff != null) {
            state.backoff.end();
            state.backoff = null;
        }
    }

    private static void endAttempt(State state, String why) {
        if (state.attempt != null) {
            state.attempt.setAttribute(ERROR_TYPE, why);
            state.attempt.setStatus(StatusCode.ERROR);
            state.attempt.end();
            state.attempt = null;
        }
    }

    private Map<String, String> inject(Context context) {
        Map<String, String> headers = new HashMap<>(4);
        propagator.inject(context, headers, Map::put);
        return headers;
    }

    private static int port(URI uri) {
        if (uri.getPort() != -1) return uri.getPort();
        return "https".equalsIgnoreCase(uri.getScheme()) ? 443 : 80;
    }

    /** {@code url.full} without query or fragment (they may carry keys) and without user info. */
    private static String withoutQuery(URI uri, int port) {
        String scheme = uri.getScheme() == null ? "http" : uri.getScheme().toLowerCase(Locale.ROOT);
        String path = uri.getRawPath() == null || uri.getRawPath().isEmpty() ? "/" : uri.getRawPath();
        boolean defaultPort = port == ("https".equals(scheme) ? 443 : 80);
        String host = uri.getHost().contains(":") && !uri.getHost().startsWith("[")
                ? "[" + uri.getHost() + "]"
                : uri.getHost();
        return scheme + "://" + host + (defaultPort ? "" : ":" + port) + path;
    }

    @Override
    public String toString() {
        return "SpanListener";
    }
}
