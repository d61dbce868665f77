package io.sluice.passthrough;

import io.sluice.config.Priority;
import io.sluice.fetch.CacheMode;
import io.sluice.fetch.Call;
import io.sluice.fetch.ErrorType;
import io.sluice.fetch.Failures;
import io.sluice.fetch.FetchException;
import io.sluice.fetch.FetchFailure;
import io.sluice.fetch.FetchOutcome;
import io.sluice.fetch.FetchRequest;
import io.sluice.fetch.FetchResponse;
import io.sluice.fetch.Fields;
import io.sluice.fetch.HopByHop;
import io.sluice.fetch.Pipeline;
import io.sluice.fetch.RequestBody;
import io.sluice.fetch.UnknownUpstreamException;
import io.sluice.server.ClientDisconnect;
import io.sluice.server.Intercepted;
import io.sluice.server.InterimResponses;
import io.sluice.server.Json;
import io.sluice.server.RawRequestHeads;
import io.sluice.server.RequestBodyPublisher;
import io.sluice.server.ResponseStreamer;
import io.sluice.server.StrictFramingHandler;
import io.sluice.upstream.Upstream;
import io.sluice.upstream.Upstreams;
import io.undertow.server.HttpHandler;
import io.undertow.server.HttpServerExchange;
import io.undertow.server.protocol.http.HttpServerConnection;
import io.undertow.util.HeaderMap;
import io.undertow.util.HeaderValues;
import io.undertow.util.HttpString;
import io.undertow.util.SameThreadExecutor;
import java.net.URI;
import java.net.URISyntaxException;
import java.time.Duration;
import java.util.Locale;
import java.util.Optional;

/** Forwards one client request through the pipeline and streams the answer back. */
public final class PassthroughHandler implements HttpHandler {
    private static final HttpString CACHE_STATUS = new HttpString("Cache-Status");
    private static final HttpString PROXY_STATUS = new HttpString("Proxy-Status");
    private static final HttpString SERVER_TIMING = new HttpString("Server-Timing");
    private static final HttpString VIA = new HttpString("Via");
    private static final HttpString RETRY_AFTER = new HttpString("Retry-After");
    private static final HttpString RATELIMIT_REMAINING = new HttpString("RateLimit-Remaining");
    private static final HttpString RATELIMIT_RESET = new HttpString("RateLimit-Reset");

    private final Pipeline pipeline;
    private final Upstreams upstreams;
    private final long maxRequestBody;

    public PassthroughHandler(Pipeline pipeline, Upstreams upstreams, long maxRequestBody) {
        this.pipeline = pipeline;
        this.upstreams = upstreams;
        this.maxRequestBody = maxRequestBody;
    }

    @Override
    public void handleRequest(HttpServerExchange exchange) {
        FetchRequest request;
        try {
            request = toFetchRequest(exchange);
        } catch (FetchException e) {
            int status = e instanceof UnknownUpstreamException
                    ? 404
                    : e.type() == ErrorType.TOO_LARGE ? 413 : e.type().httpStatus();
            exchange.getResponseHeaders().put(CACHE_STATUS, "sluice; fwd=bypass");
            Json.send(exchange, status, Json.error(e.type().wireName(), e.getMessage()));
            return;
        }
        if (request.body().length() == 0) keepReadsRegistered(exchange);
        Call call = pipeline.newCall(request, exchange.getIoThread());
        if (exchange.getAttachment(Intercepted.ORIGIN) != null) call.trace().via("intercepted");
        ClientDisconnect.whileInProgress(
                exchange, () -> call.cancel(new FetchException(ErrorType.CANCELLED, "client closed the connection")));
        exchange.dispatch(
                SameThreadExecutor.INSTANCE,
                () -> call.execute().thenAccept(outcome -> {
                    // A cleartext upstream answers on this exchange's own IO thread: respond at once.
                    if (Thread.currentThread() == exchange.getIoThread()) {
                        respond(exchange, outcome);
                    } else {
                        exchange.getIoThread().execute(() -> respond(exchange, outcome));
                    }
                }));
    }

    /**
     * Undertow suspends a connection's reads while its request is handled and resumes them when the
     * exchange ends. With the JDK's epoll selector each is a syscall ({@code epoll_ctl} DEL, then ADD)
     * on every keep-alive request. For a request with no body, reads stay registered instead, with a
     * listener that suspends them only if the client sends something (its next request, or its close)
     * before this answer is out; Undertow takes the connection back when the exchange ends, as before.
     */
    private static void keepReadsRegistered(HttpServerExchange exchange) {
        if (!(exchange.getConnection() instanceof HttpServerConnection http)) return;
        var source = http.getChannel().getSourceChannel();
        source.getReadSetter().set(channel -> channel.suspendReads());
        source.resumeReads();
    }

    private FetchRequest toFetchRequest(HttpServerExchange exchange) {
        URI target;
        Optional<Upstream> upstream = Optional.empty();
        String query = exchange.getQueryString();
        String suffix = query == null || query.isEmpty() ? "" : "?" + query;
        URI intercepted = exchange.getAttachment(Intercepted.ORIGIN);
        if (intercepted != null) {
            // Inside a CONNECT tunnel: always to the tunnel's origin (its Host was checked against it).
            String path = exchange.getRequestURI();
            if (exchange.isHostIncludedInRequestURI()) path = pathOf(path);
            target = parse(intercepted + path + suffix);
        } else if (exchange.isHostIncludedInRequestURI()) {
            target = parse(exchange.getRequestURI() + suffix);
        } else {
            String path = exchange.getRequestURI();
            int slash = path.indexOf('/', 1);
            String name = slash < 0 ? path.substring(1) : path.substring(1, slash);
            String rest = slash < 0 ? "" : RoutePath.resolve(path.substring(slash));
            Upstream named = upstreams
                    .get(name)
                    .filter(u -> u.baseUrl().isPresent())
                    .orElseThrow(() -> new UnknownUpstreamException(
                            name, " (route form needs an upstream with base_url; or send an absolute-form request)"));
            target = parse(named.baseUrl().get() + rest + suffix);
            upstream = Optional.of(named);
        }
        HeaderMap in = exchange.getRequestHeaders();
        // Values byte for byte as the client sent them, where the head's bytes were kept and agree with
        // Undertow's reading (which collapses whitespace runs inside values); else Undertow's map,
        // which holds each name once whatever its case.
        Fields headers = RawRequestHeads.fields(exchange);
        if (headers == null) {
            Fields.Builder parsed = Fields.builder(in.size());
            for (HeaderValues values : in) parsed.add(values.getHeaderName().toString(), values);
            headers = parsed.build();
        }

        long length = exchange.getRequestContentLength();
        if (length > maxRequestBody) {
            throw new FetchException(
                    ErrorType.TOO_LARGE,
                    "request body of " + length + " bytes exceeds " + maxRequestBody + " (server.max_request_body)");
        }
        boolean chunked = in.contains(io.undertow.util.Headers.TRANSFER_ENCODING);
        RequestBody body = length > 0 || chunked
                ? RequestBody.streaming(new RequestBodyPublisher(exchange, maxRequestBody), length)
                : RequestBody.empty();
        return FetchRequest.builder(exchange.getRequestMethod().toString(), target)
                .headers(headers)
                .body(body)
                .upstream(upstream)
                .maxWait(maxWait(in.getFirst("Sluice-Max-Wait")))
                .cache(cacheMode(in.get(io.undertow.util.Headers.CACHE_CONTROL)))
                .priority(priority(in.getFirst("Sluice-Priority")))
                .build();
    }

    /**
     * The class named by {@code Sluice-Priority} (interactive when absent). Like every
     * {@code Sluice-*} field it is Sluice's own control and is not sent upstream.
     */
    private static Optional<Priority> priority(String header) {
        if (header == null) return Optional.empty();
        try {
            return Optional.of(Priority.parse(header));
        } catch (IllegalArgumentException e) {
            throw new FetchException(ErrorType.INVALID_REQUEST, "Sluice-Priority: " + e.getMessage());
        }
    }

    /** The path of an absolute-form target ({@code https://host/a?b} gives {@code /a}); the query is added apart. */
    private static String pathOf(String absolute) {
        int authority = absolute.indexOf("//");
        int slash = authority < 0 ? -1 : absolute.indexOf('/', authority + 2);
        return slash < 0 ? "/" : absolute.substring(slash);
    }

    private static URI parse(String uri) {
        try {
            URI parsed = new URI(uri);
            String scheme = parsed.getScheme() == null ? "" : parsed.getScheme().toLowerCase(Locale.ROOT);
            if (!scheme.equals("http") && !scheme.equals("https")) {
                throw new FetchException(ErrorType.BLOCKED, "unsupported scheme \"" + scheme + "\"");
            }
            if (parsed.getHost() == null) throw new FetchException(ErrorType.INVALID_REQUEST, "missing host in " + uri);
            return parsed;
        } catch (URISyntaxException e) {
            throw new FetchException(ErrorType.INVALID_REQUEST, "invalid URL: " + e.getMessage());
        }
    }

    private static Optional<Duration> maxWait(String header) {
        if (header == null) return Optional.empty();
        try {
            long ms = Long.parseLong(header.trim());
            if (ms < 0) throw new NumberFormatException();
            return Optional.of(Duration.ofMillis(ms));
        } catch (NumberFormatException e) {
            throw new FetchException(
                    ErrorType.INVALID_REQUEST,
                    "Sluice-Max-Wait must be a whole number of milliseconds, got \"" + header + "\"");
        }
    }

    /** RFC 9111 §5.2.1 request directives, strongest first. */
    private static CacheMode cacheMode(HeaderValues cacheControl) {
        if (cacheControl == null) return CacheMode.DEFAULT;
        String all = String.join(",", cacheControl).toLowerCase(Locale.ROOT);
        if (all.contains("only-if-cached")) return CacheMode.ONLY_IF_CACHED;
        if (all.contains("no-store")) return CacheMode.BYPASS;
        if (all.contains("no-cache")) return CacheMode.REVALIDATE;
        return CacheMode.DEFAULT;
    }

    private static void respond(HttpServerExchange exchange, FetchOutcome outcome) {
        HeaderMap out = exchange.getResponseHeaders();
        out.put(SERVER_TIMING, outcome.trace().serverTiming());
        switch (outcome) {
            case FetchResponse response -> {
                if (exchange.isResponseStarted()) {
                    response.body().discard();
                    return;
                }
                // The upstream's 1xx (103 Early Hints) go first, to HTTP/1.1 clients (RFC 9110 §15.2).
                InterimResponses.send(exchange, response.interim(), () -> respondFinal(exchange, response));
            }
            case FetchFailure failure
            when RequestBodyPublisher.exceededLimit(exchange) -> {
                // A chunked upload ran past server.max_request_body on its way through: the same 413
                // a declared Content-Length over the limit gets before anything is sent.
                out.put(CACHE_STATUS, "sluice; fwd=bypass");
                Json.send(exchange, 413, Json.error(failure.type().wireName(), failure.message()));
            }
            case FetchFailure failure
            when StrictFramingHandler.malformedBody(exchange) != null -> {
                // The client's chunked body broke its framing on the way through; the upstream request
                // was aborted, and the connection closes after this answer.
                out.put(CACHE_STATUS, "sluice; fwd=bypass");
                out.put(io.undertow.util.Headers.CONNECTION, "close");
                Json.send(
                        exchange,
                        400,
                        Json.error(
                                ErrorType.INVALID_REQUEST.wireName(),
                                "malformed chunked body: " + StrictFramingHandler.malformedBody(exchange)));
            }
            case FetchFailure failure -> {
                out.put(
                        CACHE_STATUS,
                        "sluice; fwd=" + ("bypass".equals(failure.trace().cacheStatus()) ? "bypass" : "miss"));
                out.put(PROXY_STATUS, ProxyStatus.of(failure));
                failure.retryAfter().ifPresent(after -> {
                    // RFC 9110 §10.2.3 takes whole seconds: round up, so a client that waits exactly
                    // this long is not refused again for the fraction left over.
                    String seconds = Long.toString((after.toMillis() + 999) / 1000);
                    out.put(RETRY_AFTER, seconds);
                    // The IETF RateLimit fields (draft-ietf-httpapi-ratelimit-headers): nothing left
                    // now, more after the reset; clients that read X-RateLimit-* style headers cope.
                    out.put(RATELIMIT_REMAINING, "0");
                    out.put(RATELIMIT_RESET, seconds);
                });
                // Cut off by a shutdown past its grace: the client may retry elsewhere (RFC 9110 §15.6.4).
                boolean shuttingDown = failure.type() == ErrorType.CANCELLED
                        && failure.message().equals(io.sluice.fetch.Pipeline.SHUTTING_DOWN);
                Json.send(
                        exchange,
                        shuttingDown ? 503 : failure.type().httpStatus(),
                        Json.error(failure.type().wireName(), failure.message()));
            }
        }
    }

    /** The final response, once any interim ones are out. */
    private static void respondFinal(HttpServerExchange exchange, FetchResponse response) {
        HeaderMap out = exchange.getResponseHeaders();
        exchange.setStatusCode(response.status());
        // Well-known names map to Undertow's own constants: no HttpString made per field.
        response.headers().forEach((name, values) -> out.putAll(HttpString.tryFromString(name), values));
        out.put(VIA, HopByHop.via(response.headers()));
        if (!out.contains(CACHE_STATUS)) out.put(CACHE_STATUS, "sluice; fwd=" + fwd(response));
        long length = response.body().contentLength();
        if (length >= 0) {
            out.put(io.undertow.util.Headers.CONTENT_LENGTH, length);
        }
        if (exchange.getRequestMethod().equalToString("HEAD")) {
            response.body().discard();
            exchange.endExchange();
            return;
        }
        if (length < 0
                && exchange.isHttp11()
                && response.status() >= 200
                && response.status() != 204
                && response.status() != 304) {
            // Chunked even when the connection closes after it (Undertow would otherwise end the
            // body by closing): RFC 9112 §8 counts a close-delimited body as complete however
            // early it stops, so an upstream body cut off midway would reach the client as a
            // valid, shorter response. Without its last chunk, a client sees it is incomplete.
            out.put(io.undertow.util.Headers.TRANSFER_ENCODING, "chunked");
        }
        response.body().subscribe(new ResponseStreamer(exchange, error -> {
            // Nothing was sent yet (the body failed at its first read): an answer is still possible.
            out.clear();
            respond(exchange, Failures.toFailure(error, response.trace()));
        }));
    }

    private static String fwd(FetchResponse response) {
        return switch (response.trace().cacheStatus()) {
            case "bypass" -> "bypass";
            case "stale" -> "stale";
            default -> "miss";
        };
    }

    @Override
    public String toString() {
        return "PassthroughHandler";
    }
}
