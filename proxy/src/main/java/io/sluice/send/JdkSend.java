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
import io.sluice.guard.AddressGuard;
import io.sluice.guard.Pin;
import io.sluice.time.TimeSource;
import io.sluice.upstream.Upstream;
import java.net.URI;
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
 * Over {@code java.net.http}: the destination is checked and pinned by the address guard, then the
 * request goes on the {@link HttpClient} of the upstream's TLS profile ({@link UpstreamClients}).
 * Cleartext origins are spoken to in HTTP/1.1 (no {@code h2c} upgrade dance); TLS origins negotiate
 * HTTP/2 by ALPN where offered.
 */
final class JdkSend implements Transport {
    private final UpstreamClients clients;
    private final AddressGuard guard;
    private final Executor executor;
    private final TimeSource time;
    private final ResponseHeaderLimits headerLimits;
    private final ProtocolErrorLog protocolErrors;

    JdkSend(
            UpstreamClients clients,
            AddressGuard guard,
            Executor executor,
            TimeSource time,
            ResponseHeaderLimits headerLimits,
            ProtocolErrorLog protocolErrors) {
        this.clients = clients;
        this.guard = guard;
        this.executor = executor;
        this.time = time;
        this.headerLimits = headerLimits;
        this.protocolErrors = protocolErrors;
    }

    /** Every request: this is the transport of last resort. */
    @Override
    public boolean carries(URI uri, Policy policy) {
        return true;
    }

    @Override
    public CompletableFuture<FetchResponse> send(Call call, FetchRequest request, Upstream upstream, int attempt) {
        Policy policy = upstream.policy();
        CompletableFuture<Pin> admitted = guard.admit(request.uri(), policy.allowPrivate());
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
                                    protocolErrors.report(call, upstream.name(), failure);
                                    throw failure;
                                }
                                FetchException tooLarge =
                                        headerLimits.check(response.headers().map());
                                if (tooLarge != null) {
                                    // Nothing of the body is wanted: cancelling it closes the stream.
                                    ResponseBody.streaming(response.body(), -1).discard();
                                    call.events().attemptEnd(call, attempt, 0, tooLarge);
                                    protocolErrors.report(call, upstream.name(), tooLarge);
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
                return headerLimits.hitBeforeCounted();
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
}
