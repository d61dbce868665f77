package io.sluice.connect;

import io.sluice.config.Policy;
import io.sluice.fetch.CacheMode;
import io.sluice.fetch.Call;
import io.sluice.fetch.ErrorType;
import io.sluice.fetch.Failures;
import io.sluice.fetch.FetchException;
import io.sluice.fetch.FetchFailure;
import io.sluice.fetch.FetchOutcome;
import io.sluice.fetch.FetchRequest;
import io.sluice.fetch.FetchResponse;
import io.sluice.fetch.Pipeline;
import io.sluice.fetch.Trace;
import io.sluice.guard.AddressGuard;
import io.sluice.passthrough.ProxyStatus;
import io.sluice.server.Json;
import io.sluice.tls.InterceptTls;
import io.sluice.upstream.Upstream;
import io.sluice.upstream.Upstreams;
import io.undertow.connector.ByteBufferPool;
import io.undertow.server.Connectors;
import io.undertow.server.HttpHandler;
import io.undertow.server.HttpServerExchange;
import io.undertow.util.Headers;
import io.undertow.util.HttpString;
import io.undertow.util.SameThreadExecutor;
import java.net.InetSocketAddress;
import java.nio.ByteBuffer;
import java.util.List;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.Executor;
import java.util.concurrent.Flow;
import java.util.concurrent.atomic.AtomicBoolean;
import org.xnio.IoUtils;
import org.xnio.OptionMap;
import org.xnio.StreamConnection;
import org.xnio.conduits.StreamSinkConduit;

/**
 * Answers {@code CONNECT host:port} as the upstream governing {@code https://host:port} says
 * ({@code connect:}): {@code intercept} (the default), {@code tunnel} or {@code refuse}. Everything
 * that can refuse — the target's syntax, squid's {@code SSL_ports} rule (a port other than 443 needs
 * an upstream of its own), the mode, the address guard, and for a tunnel its token and concurrency
 * slot — decides before the {@code 200}, so a refusal is an HTTP answer with {@code Proxy-Status}
 * (RFC 9209), never a dropped connection.
 */
public final class ConnectHandler implements HttpHandler {
    private static final HttpString PROXY_STATUS = new HttpString("Proxy-Status");
    private static final HttpString RETRY_AFTER = new HttpString("Retry-After");

    private final Upstreams upstreams;
    private final AddressGuard guard;
    private final Interceptor interceptor;
    private final Pipeline tunnels;
    private final OpenTunnelStage openTunnel;
    private final ByteBufferPool buffers;
    /** Intercept targets the guard admitted in the last few seconds (see {@link #intercept}). */
    /** Client connections of open tunnels of both kinds, closed by {@link #closeAll} at shutdown. */
    private final Set<StreamConnection> open = ConcurrentHashMap.newKeySet();

    /**
     * @param tls interception's TLS, made when the first intercepted CONNECT asks for it (which waits
     *     for it before its {@code 200})
     * @param tunnels the pipeline {@code tunnel} mode runs (upstream, admission, concurrency), ending in
     *     {@code openTunnel}
     * @param root the data port's root handler, which requests read inside intercepted tunnels enter
     * @param serverOptions the data listener's Undertow options, applied inside intercepted tunnels too
     * @param handshakes where TLS handshakes' delegated tasks (leaf minting among them) run
     */
    public ConnectHandler(
            Upstreams upstreams,
            AddressGuard guard,
            java.util.function.Supplier<CompletableFuture<InterceptTls>> tls,
            Pipeline tunnels,
            OpenTunnelStage openTunnel,
            ByteBufferPool buffers,
            ByteBufferPool tlsBuffers,
            OptionMap serverOptions,
            Executor handshakes,
            HttpHandler root) {
        this.upstreams = upstreams;
        this.guard = guard;
        this.tunnels = tunnels;
        this.openTunnel = openTunnel;
        this.buffers = buffers;
        this.interceptor = new Interceptor(tls, buffers, tlsBuffers, serverOptions, handshakes, root);
    }

    @Override
    public void handleRequest(HttpServerExchange exchange) {
        ConnectTarget target;
        try {
            target = ConnectTarget.parse(exchange.getRequestURI());
        } catch (FetchException e) {
            refuse(exchange, 400, e);
            return;
        }
        Upstream upstream = upstreams.resolve(target.origin());
        Policy policy = upstream.policy();
        if (target.port() != 443 && !upstream.namesPortOf(target.origin())) {
            // squid's SSL_ports: an open CONNECT to any port is a generic TCP relay (SMTP, SSH, ...).
            // Only an upstream that names this origin with its port opens it; a host pattern does not.
            refuse(
                    exchange,
                    403,
                    new FetchException(
                            ErrorType.BLOCKED,
                            "CONNECT to port " + target.port() + " needs an upstream that matches https://"
                                    + target.authority() + " (only 443 is open by default)"));
            return;
        }
        switch (policy.connect()) {
            case REFUSE ->
                refuse(
                        exchange,
                        403,
                        new FetchException(
                                ErrorType.BLOCKED,
                                "CONNECT to " + target.authority() + " is refused (upstream \"" + upstream.name()
                                        + "\": connect: refuse)"));
            case INTERCEPT -> intercept(exchange, target, policy);
            case TUNNEL -> tunnel(exchange, target, policy);
        }
    }

    private void intercept(HttpServerExchange exchange, ConnectTarget target, Policy policy) {
        // The guard checks the destination now, so a refused one gets an HTTP answer rather than a
        // handshake and then one per request; each request inside is checked again when it is sent.
        // A name whose answer the guard keeps is checked on this thread, and the leaf is minted off
        // the IO thread before the 200, so the handshake finds it cached.
        CompletableFuture<?> ready = guard.admitDirect(target.origin(), policy.allowPrivate())
                .thenCompose(address -> interceptor.prepare(target));
        if (ready.isDone() && !ready.isCompletedExceptionally()) {
            acceptIntercepted(exchange, target);
            return;
        }
        exchange.dispatch(
                SameThreadExecutor.INSTANCE,
                () -> ready.whenComplete((done, error) -> {
                    onIoThread(exchange, () -> {
                        if (error != null) {
                            FetchException e = Failures.classify(error);
                            refuse(exchange, e.type().httpStatus(), e);
                            return;
                        }
                        acceptIntercepted(exchange, target);
                    });
                }));
    }

    private void acceptIntercepted(HttpServerExchange exchange, ConnectTarget target) {
        accept(exchange, client -> {
            InetSocketAddress peer = client.getPeerAddress(InetSocketAddress.class);
            exchange.getConnection().addCloseListener(c -> {
                open.remove(client);
                interceptor.closed(peer);
            });
            interceptor.intercept(client, target);
        });
    }

    private void tunnel(HttpServerExchange exchange, ConnectTarget target, Policy policy) {
        FetchRequest request = FetchRequest.builder("CONNECT", target.origin())
                .cache(CacheMode.BYPASS)
                .build();
        Call call = tunnels.newCall(request, exchange.getIoThread());
        exchange.dispatch(
                SameThreadExecutor.INSTANCE,
                () -> call.execute()
                        .thenAccept(
                                outcome -> onIoThread(exchange, () -> tunnelDecided(exchange, call, outcome, policy))));
    }

    private void tunnelDecided(HttpServerExchange exchange, Call call, FetchOutcome outcome, Policy policy) {
        OpenTunnelStage.Opened opened = openTunnel.take(call);
        switch (outcome) {
            case FetchFailure failure -> {
                failure.retryAfter()
                        .ifPresent(after -> exchange.getResponseHeaders()
                                .put(RETRY_AFTER, Long.toString((after.toMillis() + 999) / 1000)));
                exchange.getResponseHeaders().put(PROXY_STATUS, ProxyStatus.of(failure));
                Json.send(
                        exchange,
                        failure.type().httpStatus(),
                        Json.error(failure.type().wireName(), failure.message()));
            }
            case FetchResponse response -> {
                // The body completes when the tunnel closes: that is what releases the concurrency slot.
                response.body().subscribe(new Discard());
                if (opened == null) {
                    refuse(exchange, 500, new FetchException(ErrorType.INTERNAL, "tunnel opened without a connection"));
                    return;
                }
                AtomicBoolean joined = new AtomicBoolean();
                // A client gone before the 200 was flushed never reaches the pipe: end the tunnel here.
                exchange.getConnection().addCloseListener(c -> {
                    if (!joined.get()) {
                        IoUtils.safeClose(opened.upstream());
                        opened.ended().run();
                    }
                });
                accept(exchange, client -> {
                    joined.set(true);
                    Pipe.join(
                            client,
                            opened.upstream(),
                            policy.tunnelIdleTimeout(),
                            buffers,
                            (up, down) -> {
                                open.remove(client);
                                opened.ended().run();
                                call.events().tunnelEnd(call, up, down);
                            },
                            listener -> exchange.getConnection().addCloseListener(c -> listener.handleEvent(client)));
                });
            }
        }
    }

    /**
     * Sends the {@code 200} and hands the raw client connection to {@code then} once it is flushed.
     *
     * <p>After a 2xx the connection is the tunnel (RFC 9110 §9.3.6), so it stays open whatever the
     * request said about persistence: an HTTP/1.0 CONNECT (Python's http.client) and one with {@code
     * Connection: close} (Node's undici) both expect the tunnel on this connection. Undertow, framing
     * the empty response as for any request, would close it after the 200 (HTTP/1.0 without a length,
     * or {@code close} asked for) and adds {@code Content-Length: 0}, which a 2xx to CONNECT must not
     * carry. The wrapper runs once Undertow has chosen the framing and before the head is written,
     * and undoes both. A CONNECT has no content (§9.3.6), but for HTTP/1.0 Undertow reads its body to
     * the end of the connection and would swallow the client's TLS hello as that body: the request
     * is ended here instead.
     */
    private void accept(HttpServerExchange exchange, java.util.function.Consumer<StreamConnection> then) {
        if (!exchange.isRequestComplete()) Connectors.terminateRequest(exchange);
        exchange.acceptConnectRequest((client, ignored) -> {
            open.add(client);
            then.accept(client);
        });
        exchange.addResponseWrapper((factory, ex) -> {
            StreamSinkConduit framed = factory.create();
            for (HttpString framing : List.of(Headers.CONTENT_LENGTH, Headers.TRANSFER_ENCODING, Headers.CONNECTION)) {
                ex.getResponseHeaders().remove(framing);
            }
            ex.setPersistent(true);
            return framed;
        });
        exchange.setPersistent(true);
        // A length (removed again by the wrapper) makes Undertow frame the empty response itself;
        // without one an HTTP/1.0 response is delimited by closing, and the tunnel with it.
        exchange.setResponseContentLength(0);
        exchange.setStatusCode(200);
        exchange.endExchange();
    }

    private static void refuse(HttpServerExchange exchange, int status, FetchException e) {
        FetchFailure failure = new FetchFailure(e.type(), e.getMessage(), e.retryAfter(), new Trace());
        exchange.getResponseHeaders().put(PROXY_STATUS, ProxyStatus.of(failure));
        Json.send(exchange, status, Json.error(e.type().wireName(), e.getMessage()));
    }

    private static void onIoThread(HttpServerExchange exchange, Runnable task) {
        if (Thread.currentThread() == exchange.getIoThread()) task.run();
        else exchange.getIoThread().execute(task);
    }

    /** Closes every open tunnel: graceful shutdown has drained what it could. */
    public void closeAll() {
        open.forEach(IoUtils::safeClose);
        open.clear();
    }

    /** Open tunnels of both kinds, for metrics. */
    public int openTunnels() {
        return open.size();
    }

    /** Reads the tunnel's empty body to its end. */
    private static final class Discard implements Flow.Subscriber<List<ByteBuffer>> {
        @Override
        public void onSubscribe(Flow.Subscription subscription) {
            subscription.request(Long.MAX_VALUE);
        }

        @Override
        public void onNext(List<ByteBuffer> item) {}

        @Override
        public void onError(Throwable throwable) {}

        @Override
        public void onComplete() {}
    }

    @Override
    public String toString() {
        return "ConnectHandler";
    }
}
