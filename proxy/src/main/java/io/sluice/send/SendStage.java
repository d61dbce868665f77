package io.sluice.send;

import io.sluice.config.Policy;
import io.sluice.fetch.Call;
import io.sluice.fetch.ErrorType;
import io.sluice.fetch.FetchException;
import io.sluice.fetch.FetchRequest;
import io.sluice.fetch.FetchResponse;
import io.sluice.fetch.Fields;
import io.sluice.fetch.ResponseBody;
import io.sluice.fetch.Stage;
import io.sluice.guard.AddressGuard;
import io.sluice.time.TimeSource;
import io.sluice.upstream.Upstream;
import java.net.http.HttpClient;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.Executor;

/**
 * The last stage: sends the request over the {@link Transport} that carries it. {@code http://}
 * origins, and {@code https://} ones whose policy does not ask for HTTP/2, go over Undertow's HTTP/1.1
 * client on the IO threads ({@link Http1Transport}); {@code https://} ones whose policy asks for it
 * ({@code tls.http2}) over Undertow's HTTP/2 client on the same threads ({@link Http2Transport}), which
 * hands an origin that answers ALPN with HTTP/1.1 to the first. Each checks the destination address
 * first. {@code java.net.http} ({@link UpstreamClients}) is left for the one response Undertow's client
 * cannot read (a body that runs to the connection's close), and for components built without the IO
 * threads. The response comes back as soon as its headers do; the body streams through {@link ResponseBody}.
 */
public final class SendStage implements Stage {
    /** Null when everything goes over {@link #jdk}. */
    private final Transport http1;

    /** Null when HTTP/2 goes over {@link #jdk}. */
    private final Transport http2;

    private final Transport jdk;

    /** Ready once the TLS contexts are made ({@link UpstreamClients#ready}). */
    private final UpstreamClients clients;

    private final Executor executor;

    /** Everything over {@code client}, whatever the policy's TLS settings. */
    public SendStage(HttpClient client, AddressGuard guard, Executor executor, TimeSource time) {
        this(UpstreamClients.of(client), null, null, guard, executor, time, ResponseHeaderLimits.NONE);
    }

    /**
     * Cleartext and TLS origins over {@code http1}, those whose policy asks for HTTP/2 over
     * {@code http2} (both on the IO threads); {@code java.net.http}, with the client of the call's TLS
     * profile, for what either is given up on.
     */
    public SendStage(
            UpstreamClients clients,
            Http1Transport http1,
            Http2Transport http2,
            AddressGuard guard,
            Executor executor,
            TimeSource time,
            ResponseHeaderLimits headerLimits) {
        ProtocolErrorLog protocolErrors = new ProtocolErrorLog(time);
        this.http1 = http1 == null
                ? null
                : new UndertowSend(http1::carries, http1::send, guard, time, headerLimits, protocolErrors);
        this.http2 = http2 == null
                ? null
                : new UndertowSend(http2::carries, http2::send, guard, time, headerLimits, protocolErrors);
        this.jdk = new JdkSend(clients, guard, executor, time, headerLimits, protocolErrors);
        this.clients = clients;
        this.executor = executor;
    }

    /**
     * Over {@code java.net.http}, whose clients are made with the TLS side, when first needed (for an
     * {@code http://} origin too): a request that comes first waits for them on no thread.
     */
    private CompletableFuture<FetchResponse> viaJdk(Call call, FetchRequest request, Upstream upstream, int attempt) {
        CompletableFuture<?> ready = clients.ready();
        if (ready.isDone() && !ready.isCompletedExceptionally()) return jdk.send(call, request, upstream, attempt);
        return ready.handle((done, error) -> error)
                .thenComposeAsync(
                        error -> error == null
                                ? jdk.send(call, request, upstream, attempt)
                                : CompletableFuture.failedFuture(setUpFailed(error)),
                        executor);
    }

    @Override
    public CompletableFuture<FetchResponse> apply(Chain chain) {
        FetchRequest request = chain.request();
        if ("https".equalsIgnoreCase(request.uri().getScheme())) {
            CompletableFuture<?> tlsReady = clients.ready();
            if (!tlsReady.isDone() || tlsReady.isCompletedExceptionally()) {
                // The TLS contexts are made when the first https:// request needs them (asking for
                // them starts that): this request waits for them, on no thread, then goes as any
                // other; if they cannot be made, it fails as tls here rather than on an IO thread.
                return tlsReady.handle((done, error) -> error)
                        .thenComposeAsync(
                                error -> error == null
                                        ? apply(chain)
                                        : CompletableFuture.failedFuture(setUpFailed(error)),
                                executor);
            }
        }
        Call call = chain.call();
        Upstream upstream = chain.upstream();
        Policy policy = upstream.policy();
        int attempt = call.trace().countAttempt();
        Transport direct = http1 != null && http1.carries(request.uri(), policy)
                ? http1
                : http2 != null && http2.carries(request.uri(), policy) ? http2 : null;
        if (direct != null) {
            return direct.send(call, request, upstream, attempt).exceptionallyCompose(error -> {
                // A body that runs to the connection's close, which Undertow's client cannot read: this
                // request alone, if it may be repeated, goes again over java.net.http. Nothing is
                // remembered about the origin, so one odd response never changes how later ones go.
                // java.net.http writes an HTTP/1.1 request head as US-ASCII (obs-text bytes become
                // "?"), so a request whose field values hold any is not sent again altered.
                if (unwrap(error) instanceof Http1Exchange.CloseDelimited
                        && Http1Exchange.repeatable(request)
                        && asciiValues(request.headers())) {
                    call.events().transportFallback(call, "close_delimited");
                    return viaJdk(call, request, upstream, call.trace().countAttempt());
                }
                return CompletableFuture.failedFuture(error);
            });
        }
        return viaJdk(call, request, upstream, attempt);
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

    private static FetchException setUpFailed(Throwable error) {
        Throwable cause = unwrap(error);
        if (cause instanceof FetchException typed) return typed;
        return new FetchException(
                ErrorType.TLS,
                "TLS set-up failed: " + (cause.getMessage() == null ? cause.toString() : cause.getMessage()));
    }

    private static Throwable unwrap(Throwable error) {
        Throwable t = error;
        while (t instanceof java.util.concurrent.CompletionException && t.getCause() != null) t = t.getCause();
        return t;
    }

    @Override
    public String toString() {
        return "Send";
    }
}
