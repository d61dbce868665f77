package io.sluice.connect;

import io.sluice.fetch.ErrorType;
import io.sluice.fetch.FetchException;
import io.sluice.server.Intercepted;
import io.sluice.server.Json;
import io.sluice.server.RawRequestHeads;
import io.sluice.tls.InterceptTls;
import io.undertow.UndertowOptions;
import io.undertow.connector.ByteBufferPool;
import io.undertow.protocols.ssl.UndertowXnioSsl;
import io.undertow.server.HttpHandler;
import io.undertow.server.HttpServerExchange;
import io.undertow.server.protocol.http.AlpnOpenListener;
import io.undertow.server.protocol.http.HttpOpenListener;
import io.undertow.server.protocol.http2.Http2OpenListener;
import io.undertow.util.Headers;
import java.net.InetSocketAddress;
import java.net.URI;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.Executor;
import org.xnio.OptionMap;
import org.xnio.StreamConnection;
import org.xnio.Xnio;
import org.xnio.ssl.SslConnection;

/**
 * Terminates an accepted tunnel's TLS with a leaf certificate from Sluice's CA and hands the
 * decrypted connection to Undertow's own parsers (HTTP/2 by ALPN, else HTTP/1.1), with the data port's limits and timeouts.
 * The client's hello is read first ({@link HelloPeek}) to choose the TLS engine that answers it.
 * Every request read inside goes to the data port's root handler (so graceful shutdown counts it)
 * marked with the tunnel's origin; a request whose {@code Host} names another origin is answered
 * {@code 421} (RFC 9110 §15.5.20) and never sent anywhere.
 */
final class Interceptor {
    private static final io.undertow.util.HttpString CACHE_STATUS = new io.undertow.util.HttpString("Cache-Status");
    /** Interception's TLS, made when first asked for. */
    private final java.util.function.Supplier<CompletableFuture<InterceptTls>> tls;

    private final ByteBufferPool tlsBuffers;
    /** The server side of TLS over {@link #tls}, set up by the first intercepted CONNECT. */
    private volatile CompletableFuture<Engines> engines;

    private final long helloTimeoutMillis;
    private final ByteBufferPool buffers;
    private final OptionMap serverOptions;
    private final HttpHandler root;
    private final Executor handshakes;
    /** Only the versions JSSE enables by default: Conscrypt would also enable TLS 1.0 and 1.1. */
    private static final OptionMap SERVER_TLS = OptionMap.builder()
            .setSequence(org.xnio.Options.SSL_ENABLED_PROTOCOLS, "TLSv1.3", "TLSv1.2")
            .getMap();

    /**
     * @param serverOptions the data listener's {@link UndertowOptions}, so header and body limits and
     *     idle timeouts apply inside tunnels as they do outside
     * @param tlsBuffers the TLS layer's buffers, each large enough for a whole TLS record
     * @param handshakes runs the TLS engine's delegated tasks, leaf minting among them: never an IO thread
     */
    Interceptor(
            java.util.function.Supplier<CompletableFuture<InterceptTls>> tls,
            ByteBufferPool buffers,
            ByteBufferPool tlsBuffers,
            OptionMap serverOptions,
            Executor handshakes,
            HttpHandler root) {
        this.tls = tls;
        this.buffers = buffers;
        this.tlsBuffers = tlsBuffers;
        this.serverOptions = serverOptions;
        this.root = root;
        this.handshakes = handshakes;
        // A client that opens a tunnel and says nothing is closed like an idle connection.
        this.helloTimeoutMillis = serverOptions.get(UndertowOptions.NO_REQUEST_TIMEOUT, 60_000);
    }

    /** The engines, asking for interception's TLS (and so having it made) the first time. */
    private CompletableFuture<Engines> engines() {
        CompletableFuture<Engines> made = engines;
        if (made == null) {
            synchronized (this) {
                made = engines;
                if (made == null) {
                    made = tls.get().thenApply(ready -> {
                        Xnio xnio = Xnio.getInstance(io.undertow.Undertow.class.getClassLoader());
                        return new Engines(
                                ready,
                                new UndertowXnioSsl(xnio, OptionMap.EMPTY, tlsBuffers, ready.sslContext(), handshakes),
                                ready.choosesByHello()
                                        ? new UndertowXnioSsl(
                                                xnio, OptionMap.EMPTY, tlsBuffers, ready.fastContext(), handshakes)
                                        : null);
                    });
                    engines = made;
                }
            }
        }
        return made;
    }

    /**
     * @param ssl JSSE's: serves every client
     * @param fastSsl Conscrypt's, for the clients {@link InterceptTls#contextFor} sends to it; null with JSSE alone
     */
    private record Engines(InterceptTls tls, UndertowXnioSsl ssl, UndertowXnioSsl fastSsl) {}

    /**
     * Waits for Sluice's TLS side, then mints the leaf for the CONNECT host on the handshake executor,
     * unless cached, so that the handshake (on the IO thread with Conscrypt) finds it ready: call
     * before sending the {@code 200}. Fails as {@code tls} when the CA cannot be used.
     */
    CompletableFuture<Void> prepare(ConnectTarget target) {
        return engines()
                .handle((made, error) -> {
                    if (error == null) return made.tls().prepare(target.bareHost(), handshakes);
                    return CompletableFuture.<Void>failedFuture(unavailable(error));
                })
                .thenCompose(prepared -> prepared);
    }

    private static FetchException unavailable(Throwable error) {
        Throwable cause = error instanceof java.util.concurrent.CompletionException && error.getCause() != null
                ? error.getCause()
                : error;
        return new FetchException(ErrorType.TLS, "interception is unavailable: " + cause.getMessage());
    }

    /** Called on the IO thread once the {@code 200} is flushed; {@code client} is the raw connection. */
    void intercept(StreamConnection client, ConnectTarget target) {
        // Made: prepare() completed before the 200 was sent.
        Engines made = engines().join();
        InterceptTls tls = made.tls();
        InetSocketAddress peer = client.getPeerAddress(InetSocketAddress.class);
        // Clients that send no SNI (an IP target) get a certificate for the CONNECT host.
        if (peer != null) tls.hostHint(peer, target.bareHost());
        // The hello is read first, within the idle timeout (a client that opens a tunnel and never
        // says hello is closed), then answered by Conscrypt where it shows the client can be served
        // the prepared EC leaf, else by JSSE.
        HelloPeek.read(client, helloTimeoutMillis, hello -> {
            boolean fast = tls.contextFor(hello, target.bareHost()) != tls.sslContext();
            serve(client, target, fast ? made.fastSsl() : made.ssl());
        });
    }

    private void serve(StreamConnection client, ConnectTarget target, UndertowXnioSsl engine) {
        SslConnection secured = engine.wrapExistingConnection(client, SERVER_TLS, false);
        URI origin = target.origin();
        HttpHandler tunnelRoot = new HttpHandler() {
            /** The last authority found to match: a tunnel's requests name the same one again and again. */
            private volatile String matched;

            @Override
            public void handleRequest(HttpServerExchange exchange) throws Exception {
                String authority = exchange.isHostIncludedInRequestURI()
                        ? authorityOf(exchange.getRequestURI())
                        : exchange.getRequestHeaders().getFirst(Headers.HOST);
                if (authority == null || !authority.equals(matched)) {
                    if (target.matches(authority)) {
                        matched = authority;
                    } else {
                        refuseOtherOrigin(exchange, target, authority);
                        return;
                    }
                }
                exchange.putAttachment(Intercepted.ORIGIN, origin);
                root.handleRequest(exchange);
            }

            @Override
            public String toString() {
                return "Intercepted(" + target + ")";
            }
        };
        // HTTP/2 where the client offers it by ALPN, else HTTP/1.1: Undertow's own listeners, one pair
        // per tunnel so that each carries its tunnel's origin.
        HttpOpenListener http1 = new HttpOpenListener(buffers, serverOptions);
        AlpnOpenListener alpn = new AlpnOpenListener(buffers, serverOptions, "http/1.1", http1);
        alpn.addProtocol(Http2OpenListener.HTTP2, new Http2OpenListener(buffers, serverOptions), 10);
        alpn.setRootHandler(tunnelRoot);
        // HTTP/1.1 request heads inside are kept as they arrived, as on the data port (the root handler
        // reads them); an HTTP/2 connection's preface ends the capture at once.
        RawRequestHeads.install(
                secured, serverOptions.get(UndertowOptions.MAX_HEADER_SIZE, UndertowOptions.DEFAULT_MAX_HEADER_SIZE));
        alpn.handleEvent(secured);
    }

    /** Forgets the tunnel's certificate hint once its connection has closed. */
    void closed(InetSocketAddress peer) {
        CompletableFuture<Engines> asked = engines;
        Engines made = asked == null ? null : asked.getNow(null);
        if (peer != null && made != null) made.tls().clearHint(peer);
    }

    private static String authorityOf(String absolute) {
        int start = absolute.indexOf("//");
        if (start < 0) return null;
        int end = absolute.indexOf('/', start + 2);
        return end < 0 ? absolute.substring(start + 2) : absolute.substring(start + 2, end);
    }

    /** {@code 421} (RFC 9110 §15.5.20): the request names an origin other than the tunnel's. */
    private static void refuseOtherOrigin(HttpServerExchange exchange, ConnectTarget target, String authority) {
        exchange.getResponseHeaders().put(Headers.CACHE_CONTROL, "no-store");
        exchange.getResponseHeaders().put(CACHE_STATUS, "sluice; fwd=bypass");
        Json.send(
                exchange,
                421,
                Json.error(
                        "invalid_request",
                        "this tunnel is to " + target.authority() + "; the request names "
                                + (authority == null ? "no host" : "\"" + shorten(authority) + "\"")));
    }

    private static String shorten(String s) {
        return s.length() > 100 ? s.substring(0, 100) + "…" : s;
    }

    @Override
    public String toString() {
        return "Interceptor";
    }
}
