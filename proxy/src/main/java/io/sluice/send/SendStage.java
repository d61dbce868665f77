package io.sluice.send;

import io.sluice.config.Interpolated;
import io.sluice.config.Policy;
import io.sluice.fetch.Call;
import io.sluice.fetch.ErrorType;
import io.sluice.fetch.Failures;
import io.sluice.fetch.FetchException;
import io.sluice.fetch.FetchRequest;
import io.sluice.fetch.FetchResponse;
import io.sluice.fetch.Fields;
import io.sluice.fetch.HopByHop;
import io.sluice.fetch.ResponseBody;
import io.sluice.fetch.Stage;
import io.sluice.guard.AddressGuard;
import io.sluice.guard.Pin;
import io.sluice.time.TimeSource;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.ByteBuffer;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.Executor;
import java.util.concurrent.Flow;

/**
 * The last stage: checks and pins the destination address, then sends the request on the
 * {@link HttpClient} of the upstream's TLS profile ({@link UpstreamClients}). The response comes back as soon as its headers do; the body streams
 * through {@link ResponseBody}. Cleartext origins are spoken to in HTTP/1.1 (no {@code h2c} upgrade
 * dance); TLS origins negotiate HTTP/2 by ALPN where offered.
 */
public final class SendStage implements Stage {
    private final UpstreamClients clients;
    private final Http1Transport http1;
    private final AddressGuard guard;
    private final Executor executor;
    private final TimeSource time;
    private final ResponseHeaderLimits headerLimits;
    private final ProtocolErrorLog protocolErrors;

    /** Everything over {@code client}, whatever the policy's TLS settings. */
    public SendStage(HttpClient client, AddressGuard guard, Executor executor, TimeSource time) {
        this(UpstreamClients.of(client), null, guard, executor, time, ResponseHeaderLimits.NONE);
    }

    /**
     * Cleartext origins over {@code http1} (on the IO threads), TLS origins over the client of the
     * call's TLS profile.
     */
    public SendStage(
            UpstreamClients clients,
            Http1Transport http1,
            AddressGuard guard,
            Executor executor,
            TimeSource time,
            ResponseHeaderLimits headerLimits) {
        this.clients = clients;
        this.headerLimits = headerLimits;
        this.protocolErrors = new ProtocolErrorLog(time);
        this.http1 = http1;
        this.guard = guard;
        this.executor = executor;
        this.time = time;
    }

    @Override
    public CompletableFuture<FetchResponse> apply(Chain chain) {
        Call call = chain.call();
        FetchRequest request = chain.request();
        Policy policy = chain.upstream().policy();
        int attempt = call.trace().countAttempt();
        if (http1 != null && http1.carries(request.uri(), policy.tls())) {
            // Connected to the checked address itself, so no pin: with the name's answer kept, this
            // goes on without leaving the IO thread.
            return guard.admitDirect(request.uri(), policy.allowPrivate())
                    .thenCompose(address -> {
                        long sentAt = time.nanoTime();
                        call.events().attemptStart(call, attempt);
                        return http1.send(
                                        request,
                                        policy,
                                        address,
                                        call,
                                        headerLimits,
                                        bad -> reportProtocolError(call, bad))
                                .whenComplete((response, error) -> {
                                    call.trace().addUpstream(time.nanoTime() - sentAt);
                                    call.events()
                                            .attemptEnd(call, attempt, response == null ? 0 : response.status(), error);
                                    if (error != null) reportProtocolError(call, error);
                                });
                    })
                    .exceptionallyCompose(error -> {
                        // A body that runs to the connection's close, which Undertow's client cannot read: this
                        // request alone, if it may be repeated, goes again over java.net.http. Nothing is
                        // remembered about the origin, so one odd response never changes how later ones go.
                        // java.net.http writes an HTTP/1.1 request head as US-ASCII (obs-text bytes become
                        // "?"), so a request whose field values hold any is not sent again altered.
                        if (unwrap(error) instanceof Http1Exchange.CloseDelimited
                                && Http1Exchange.repeatable(request)
                                && asciiValues(request.headers())) {
                            call.events().transportFallback(call, "close_delimited");
                            return overJdk(
                                    call,
                                    request,
                                    policy,
                                    guard.admit(request.uri(), policy.allowPrivate()),
                                    call.trace().countAttempt());
                        }
                        return CompletableFuture.failedFuture(error);
                    });
        }
        return overJdk(call, request, policy, guard.admit(request.uri(), policy.allowPrivate()), attempt);
    }

    /** Whether every field value is US-ASCII, so java.net.http's HTTP/1.1 sends it unchanged. */
    static boolean asciiValues(Fields fields) {
        for (int i = 0; i < fields.size(); i++) {
            for (String value : fields.values(i)) {
                for (int c = 0; c < value.length(); c++) {
                    if (value.charAt(c) > 0x7f) return false;
                }
            }
        }
        return true;
    }

    private static Throwable unwrap(Throwable error) {
        Throwable t = error;
        while (t instanceof java.util.concurrent.CompletionException && t.getCause() != null) t = t.getCause();
        return t;
    }

    private CompletableFuture<FetchResponse> overJdk(
            Call call, FetchRequest request, Policy policy, CompletableFuture<Pin> admitted, int attempt) {
        // An admission already decided (an IP literal: no DNS) is sent from this thread, since sendAsync
        // does not block; one that waited for DNS moves off the lookup pool to the workers first.
        Executor sendOn = admitted.isDone() ? Runnable::run : executor;
        return admitted.thenComposeAsync(
                pin -> {
                    HttpRequest outbound;
                    HttpClient client;
                    call.events().attemptStart(call, attempt);
                    try {
                        outbound = toHttpRequest(request, policy, call.traceHeaders());
                        client = clients.clientFor(policy);
                    } catch (IllegalArgumentException e) {
                        pin.close();
                        FetchException failure =
                                new FetchException(ErrorType.INVALID_REQUEST, "cannot send request: " + e.getMessage());
                        call.events().attemptEnd(call, attempt, 0, failure);
                        throw failure;
                    } catch (FetchException e) {
                        pin.close();
                        call.events().attemptEnd(call, attempt, 0, e);
                        throw e;
                    }
                    long sentAt = time.nanoTime();
                    CompletableFuture<HttpResponse<Flow.Publisher<List<ByteBuffer>>>> exchange =
                            client.sendAsync(outbound, HttpResponse.BodyHandlers.ofPublisher());
                    call.onCancel(reason -> exchange.cancel(true));
                    // Back onto our executor: sendAsync completes through the JDK's own hop to
                    // CompletableFuture's default executor (the common pool), and no stage of ours
                    // runs there (design, "Things that bite"). It costs one hand-off per request.
                    return exchange.handleAsync(
                            (response, error) -> {
                                pin.close();
                                call.trace().addUpstream(time.nanoTime() - sentAt);
                                if (error != null) {
                                    FetchException failure = jdkFailure(error);
                                    call.events().attemptEnd(call, attempt, 0, failure);
                                    reportProtocolError(call, failure);
                                    throw failure;
                                }
                                FetchException tooLarge =
                                        headerLimits.check(response.headers().map());
                                if (tooLarge != null) {
                                    // Nothing of the body is wanted: cancelling it closes the stream.
                                    ResponseBody.streaming(response.body(), -1).discard();
                                    call.events().attemptEnd(call, attempt, 0, tooLarge);
                                    reportProtocolError(call, tooLarge);
                                    throw tooLarge;
                                }
                                call.events().attemptEnd(call, attempt, response.statusCode(), null);
                                return toFetchResponse(response, call);
                            },
                            executor);
                },
                sendOn);
    }

    /**
     * The JDK client's own header bound ({@code jdk.http.maxHeaderSize}, set from
     * {@code server.max_response_header_size} at startup) reports a {@link java.net.ProtocolException}
     * naming no setting of ours; it is the same refusal as {@link ResponseHeaderLimits}'.
     */
    private FetchException jdkFailure(Throwable error) {
        for (Throwable c = error; c != null; c = c.getCause()) {
            if (c instanceof java.net.ProtocolException p
                    && p.getMessage() != null
                    && p.getMessage().contains("size too big")) {
                return headerLimits.jdkLimitHit();
            }
            if (c instanceof java.net.ProtocolException p
                    && p.getMessage() != null
                    && p.getMessage().startsWith("Invalid status line")) {
                // Typed as over Undertow's client, so the transport never changes what a client reads.
                return ProtocolError.INVALID_STATUS_LINE.failure(
                        "upstream sent an invalid status line (" + p.getMessage() + ")");
            }
        }
        return Failures.classify(error);
    }

    private void reportProtocolError(Call call, Throwable error) {
        FetchException failure = Failures.classify(error);
        ProtocolError kind = ProtocolError.of(failure);
        if (kind != null) protocolErrors.report(call, kind, failure.getMessage());
    }

    private static HttpRequest toHttpRequest(FetchRequest request, Policy policy, Map<String, String> traceHeaders) {
        Map<String, List<String>> headers = HopByHop.forwardable(request.headers());
        for (Map.Entry<String, Interpolated> header : policy.headers().entrySet()) {
            headers.put(header.getKey(), List.of(header.getValue().value()));
        }
        if (traceHeaders != null) traceHeaders.forEach((name, value) -> headers.put(name, List.of(value)));
        HttpRequest.Builder builder = HttpRequest.newBuilder(request.uri())
                .method(request.method(), request.body().publisher())
                .timeout(policy.timeouts().response())
                .version(
                        "https".equalsIgnoreCase(request.uri().getScheme())
                                ? HttpClient.Version.HTTP_2
                                : HttpClient.Version.HTTP_1_1);
        headers.forEach((name, values) -> values.forEach(value -> builder.header(name, value)));
        builder.header("Via", HopByHop.via(request.headers()));
        return builder.build();
    }

    private static FetchResponse toFetchResponse(HttpResponse<Flow.Publisher<List<ByteBuffer>>> response, Call call) {
        Fields headers = Fields.of(HopByHop.endToEnd(response.headers().map()));
        long length = response.headers()
                .firstValue("content-length")
                .map(Long::parseLong)
                .orElse(-1L);
        if ("HEAD".equalsIgnoreCase(response.request().method())
                || response.statusCode() == 204
                || response.statusCode() == 304) {
            length = 0;
        }
        ResponseBody body = ResponseBody.streaming(response.body(), length);
        return new FetchResponse(response.statusCode(), headers, body, call.trace());
    }

    @Override
    public String toString() {
        return "Send";
    }
}
