package io.sluice.send;

import io.sluice.config.UpstreamTls;
import io.sluice.fetch.Call;
import io.sluice.fetch.FetchException;
import io.sluice.fetch.FetchRequest;
import io.sluice.fetch.FetchResponse;
import io.sluice.time.TimeSource;
import io.undertow.UndertowOptions;
import io.undertow.client.ClientConnection;
import io.undertow.connector.ByteBufferPool;
import io.undertow.protocols.ssl.UndertowXnioSsl;
import java.net.URI;
import java.time.Duration;
import java.util.ArrayDeque;
import java.util.HashMap;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.Executor;
import java.util.function.Function;
import javax.net.ssl.SSLContext;
import org.xnio.IoUtils;
import org.xnio.OptionMap;
import org.xnio.Options;
import org.xnio.XnioIoThread;
import org.xnio.XnioWorker;
import org.xnio.ssl.XnioSsl;

/**
 * Cleartext HTTP/1.1 to upstreams on the data server's own IO threads, through Undertow's HTTP
 * client. A passthrough request is received, admitted, sent, answered and streamed back on one IO
 * thread, with keep-alive connections pooled per IO thread and per destination address — the shape
 * nginx has, and the reason this exists: {@code java.net.http} spends about half of a proxied
 * request's CPU in its own selector thread and hands every request across three threads (see
 * docs/performance.md). TLS origins come here too, over Undertow's SSL with the profile's context, unless
 * their policy asks for HTTP/2 ({@code tls.http2}): those go over {@link Http2Transport}, which uses
 * this transport's TLS set-up and hands it the origins whose ALPN answer is HTTP/1.1.
 *
 * <p>Connections are opened to the address the guard checked, never to a name, so DNS rebinding has
 * nothing to rebind.
 */
public final class Http1Transport {
    private final XnioWorker worker;
    private final ByteBufferPool buffers;
    private final ByteBufferPool tlsBuffers;
    private final TimeSource time;
    private final OptionMap options;
    private final Duration idleTimeout;
    private final int maxIdlePerAddress;
    /** Per IO thread: each destination's idle connections and openings. Touched only by the owning thread. */
    private final Map<Thread, Map<PoolKey, Destination>> pools = new ConcurrentHashMap<>();

    private final Function<UpstreamTls, SSLContext> tlsContexts;
    private final Executor handshakes;
    /** Upstream connections opened and not closed yet, in use or idle ({@code sluice_upstream_connections_open}). */
    private final java.util.concurrent.atomic.AtomicInteger open = new java.util.concurrent.atomic.AtomicInteger();

    record Idle(ClientConnection connection, HeadCapture capture, long since) {}

    /**
     * New connections one IO thread may be opening to one destination at once. A request that finds
     * no idle connection opens one at once only if fewer than this many are being opened, nobody is
     * waiting, and no connection came free in the last {@link #OPEN_WHEN_NONE_FREED_FOR}; else it
     * waits for the first connection to come free. Waiting requests that have waited that long open
     * connections of their own, the next batch of at most this many, once the last batch is open. Without this, a burst after an idle
     * spell (pool emptied by {@code server.upstream_idle_timeout}) opened one connection per waiting request,
     * each a full TLS handshake with certificate checks on two cores: measured, 32 handshakes at once
     * held every tunnel on the thread for 50-150 ms (deploy/bench/README-tls.md, "Where the tail came
     * from"). A fast upstream's burst is served by the few connections opened first; a slow one still
     * gets a connection per request in flight, opened this many at a time.
     */
    static final int MAX_OPENING_PER_DESTINATION = 4;

    /** How long a request waits for a busy connection to come free before it may open one of its own. */
    static final Duration OPEN_WHEN_NONE_FREED_FOR = Duration.ofMillis(5);

    /** One destination's share of an IO thread's pool. */
    static final class Destination {
        final ArrayDeque<Idle> idle = new ArrayDeque<>();
        /** Exchanges waiting for a connection, oldest first; those already over are skipped when reached. */
        final ArrayDeque<Http1Exchange> waiting = new ArrayDeque<>();

        int opening;
        /** When a connection to this destination last came free ({@link TimeSource#nanoTime}). */
        long lastFreed;
        /** A check for the waiting requests is scheduled ({@link #checkLater}). */
        boolean checking;
    }

    public Http1Transport(
            XnioWorker worker, ByteBufferPool buffers, TimeSource time, Duration idleTimeout, int maxIdlePerAddress) {
        this(worker, buffers, null, time, idleTimeout, maxIdlePerAddress, null, Runnable::run);
    }

    /**
     * Also speaks HTTP/1.1 over TLS to {@code https://} origins whose policy does not ask for HTTP/2,
     * with each TLS profile's context from {@code tlsContexts}; handshake tasks run on {@code handshakes}.
     * The TLS layer takes its buffers from {@code tlsBuffers}, which must hold a whole TLS record
     * ({@code SSLSession.getPacketBufferSize()}): Undertow's {@code SslConduit} reads one record into
     * one pooled buffer and, unlike when it writes, does not grow a buffer too small for it, so a
     * 16 KiB buffer waits forever for the rest of a full-size (16 KiB of plaintext) record.
     */
    public Http1Transport(
            XnioWorker worker,
            ByteBufferPool buffers,
            ByteBufferPool tlsBuffers,
            TimeSource time,
            Duration idleTimeout,
            int maxIdlePerAddress,
            Function<UpstreamTls, SSLContext> tlsContexts,
            Executor handshakes) {
        if (idleTimeout.isNegative())
            throw new IllegalArgumentException("idle timeout cannot be negative: " + idleTimeout);
        if (maxIdlePerAddress < 0)
            throw new IllegalArgumentException("max idle connections cannot be negative: " + maxIdlePerAddress);
        UndertowClientLog.install();
        this.worker = worker;
        this.buffers = buffers;
        this.tlsBuffers = tlsBuffers;
        this.time = time;
        this.idleTimeout = idleTimeout;
        this.maxIdlePerAddress = maxIdlePerAddress;
        this.tlsContexts = tlsContexts;
        this.handshakes = handshakes;
        this.options = OptionMap.builder()
                .set(Options.TCP_NODELAY, true)
                .set(Options.KEEP_ALIVE, true)
                .getMap();
    }

    /**
     * Whether this transport speaks to {@code uri}: cleartext, or TLS when it has TLS contexts and
     * {@code tls} does not ask for HTTP/2. Nothing an origin answered changes this: a response this
     * transport cannot read is sent again over {@code java.net.http} for that request alone ({@link SendStage}).
     */
    boolean carries(URI uri, UpstreamTls tls) {
        String scheme = uri.getScheme();
        return "http".equalsIgnoreCase(scheme)
                || ("https".equalsIgnoreCase(scheme) && tlsContexts != null && !tls.http2());
    }

    /**
     * The TLS side of one new connection: Undertow's SSL over {@code tls}'s profile context, whose
     * engine tells {@code witness} why a handshake failed; handshake tasks (certificate checks) run
     * off the IO threads. Made per connection, which is cheap next to a handshake.
     */
    XnioSsl ssl(UpstreamTls tls, HandshakeWitness witness) {
        return new UndertowXnioSsl(
                worker.getXnio(), OptionMap.EMPTY, tlsBuffers, witness.context(tlsContexts.apply(tls)), handshakes);
    }

    /**
     * Connection options for a TLS connection to {@code host} at a checked address: the name is sent
     * as SNI (unless it is an address) and the certificate is checked against it (RFC 9110 §4.3.4),
     * whatever address was connected to; only {@code tls}'s protocol versions are offered.
     */
    OptionMap tlsOptions(String uriHost, UpstreamTls tls) {
        String host = uriHost.startsWith("[") ? uriHost.substring(1, uriHost.length() - 1) : uriHost;
        OptionMap.Builder builder = OptionMap.builder()
                .addAll(options)
                .set(Options.SSL_PEER_HOST_NAME, host)
                .set(UndertowOptions.ENDPOINT_IDENTIFICATION_ALGORITHM, "HTTPS")
                .setSequence(Options.SSL_ENABLED_PROTOCOLS, tls.protocols().toArray(String[]::new));
        if (!isAddressLiteral(host)) builder.set(UndertowOptions.SSL_SNI_HOSTNAME, host);
        return builder.getMap();
    }

    private static boolean isAddressLiteral(String host) {
        return host.indexOf(':') >= 0
                || host.startsWith("[")
                || host.chars().allMatch(c -> c == '.' || (c >= '0' && c <= '9'));
    }

    /**
     * Sends {@code request} to {@code address} (already checked by the guard) on the call's own IO
     * thread when it has one, else on one of the worker's. Completes, on that thread, when the
     * response headers have arrived; the body streams after. {@code bodyProtocolError} hears of a
     * body refused as malformed after the headers were delivered (the body's reader gets the error).
     */
    CompletableFuture<FetchResponse> send(
            FetchRequest request,
            io.sluice.config.Policy policy,
            java.net.InetAddress address,
            Call call,
            ResponseHeaderLimits headerLimits,
            java.util.function.Consumer<FetchException> bodyProtocolError) {
        XnioIoThread thread = IoThreads.of(call, worker);
        Http1Exchange exchange =
                new Http1Exchange(this, request, policy, address, call, thread, headerLimits, bodyProtocolError);
        IoThreads.run(thread, exchange::start);
        return exchange.result();
    }

    /**
     * Upstream connections open now over Undertow's clients, in use or idle, HTTP/2 ones
     * ({@link Http2Transport}) included: back to its idle level when nothing leaks.
     */
    public int openConnections() {
        return open.get();
    }

    /** Counts {@code connection} as open until it closes, however it closes. Call on its IO thread. */
    ClientConnection opened(ClientConnection connection) {
        open.incrementAndGet();
        java.util.concurrent.atomic.AtomicBoolean counted = new java.util.concurrent.atomic.AtomicBoolean(true);
        Runnable closed = () -> {
            if (counted.compareAndSet(true, false)) open.decrementAndGet();
        };
        connection.addCloseListener(c -> closed.run());
        if (!connection.isOpen()) closed.run();
        return connection;
    }

    ByteBufferPool buffers() {
        return buffers;
    }

    OptionMap options() {
        return options;
    }

    TimeSource time() {
        return time;
    }

    /**
     * What an idle connection can be reused for: the address and port it is connected to and, for
     * TLS, the name its certificate was checked for and the TLS profile it was made with (null for
     * cleartext). A record rather than a string built per request (that string held the profile's
     * {@code toString}).
     */
    record PoolKey(java.net.InetAddress address, int port, String host, io.sluice.config.UpstreamTls tls) {}

    /** An open idle connection to {@code key}, or null. Call on the IO thread that owns the pool. */
    Idle checkout(PoolKey key) {
        Destination destination = pool().get(key);
        if (destination == null) return null;
        ArrayDeque<Idle> queue = destination.idle;
        long now = time.nanoTime();
        Idle entry;
        // Most recently used first: it is the least likely to have been closed by the upstream.
        while ((entry = queue.pollLast()) != null) {
            if (entry.connection().isOpen() && now - entry.since() < idleTimeout.toNanos()) {
                return entry;
            }
            IoUtils.safeClose(entry.connection());
        }
        return null;
    }

    /**
     * Whether an exchange that found no idle connection to {@code key} may open one now; if so it
     * counts as opening until {@link #openingEnded}. If not, it is queued and is later handed a
     * released connection ({@link Http1Exchange#takeOver}), or told to open one
     * ({@link Http1Exchange#openOwn}). Call on the IO thread that owns the pool.
     */
    boolean openOrWait(PoolKey key, Http1Exchange exchange) {
        Destination destination = destination(key);
        // A request that arrives while others wait joins the line, and so does one that finds every
        // connection busy while they are coming free: one will be its in a moment.
        if (destination.opening < MAX_OPENING_PER_DESTINATION
                && destination.waiting.isEmpty()
                && time.nanoTime() - destination.lastFreed >= OPEN_WHEN_NONE_FREED_FOR.toNanos()) {
            destination.opening++;
            return true;
        }
        exchange.queued(time.nanoTime());
        destination.waiting.addLast(exchange);
        checkLater(destination, exchange.thread());
        return false;
    }

    /**
     * While anyone waits for a connection to {@code destination}, every
     * {@link #OPEN_WHEN_NONE_FREED_FOR}: should the next batch be opened? One timer per destination,
     * not one per waiting request (a slow upstream can have thousands waiting).
     */
    private void checkLater(Destination destination, java.util.concurrent.Executor thread) {
        if (destination.checking) return;
        destination.checking = true;
        time.schedule(
                OPEN_WHEN_NONE_FREED_FOR,
                () -> thread.execute(() -> {
                    destination.checking = false;
                    openForWaiting(destination);
                    Http1Exchange oldest;
                    while ((oldest = destination.waiting.peekFirst()) != null && oldest.isOver()) {
                        destination.waiting.pollFirst();
                    }
                    if (oldest != null) checkLater(destination, thread);
                }));
    }

    /** Counts one more connection being opened to {@code key}, past the bound (a stale connection's retry). */
    void openingStarted(PoolKey key) {
        destination(key).opening++;
    }

    /** An opening to {@code key} ended, made or failed: a waiting exchange may open one. */
    void openingEnded(PoolKey key) {
        Destination destination = destination(key);
        destination.opening--;
        openForWaiting(destination);
    }

    /**
     * The next batch of openings, for the oldest waiting exchanges: once no opening is under way,
     * those that have waited {@link #OPEN_WHEN_NONE_FREED_FOR} (the connections coming free did not
     * keep up), oldest first, up to {@link #MAX_OPENING_PER_DESTINATION}, open a connection each.
     * While a batch is being opened no other starts: the connections it brings may well serve
     * everyone waiting.
     */
    private void openForWaiting(Destination destination) {
        if (destination.opening > 0) return;
        long now = time.nanoTime();
        long quiet = OPEN_WHEN_NONE_FREED_FOR.toNanos();
        Http1Exchange oldest;
        while (destination.opening < MAX_OPENING_PER_DESTINATION) {
            while ((oldest = destination.waiting.peekFirst()) != null && oldest.isOver()) {
                destination.waiting.pollFirst();
            }
            if (oldest == null || now - oldest.queuedAt() < quiet) return;
            destination.waiting.pollFirst();
            destination.opening++;
            oldest.openOwn();
        }
    }

    /** Returns a connection whose exchange ended cleanly. Call on the IO thread that owns it. */
    void release(PoolKey key, ClientConnection connection, HeadCapture capture) {
        if (!connection.isOpen()) return;
        Destination destination = destination(key);
        destination.lastFreed = time.nanoTime();
        Http1Exchange next = nextWaiting(destination);
        if (next != null) {
            next.takeOver(connection, capture);
            return;
        }
        ArrayDeque<Idle> queue = destination.idle;
        if (queue.size() >= maxIdlePerAddress) {
            IoUtils.safeClose(connection);
            return;
        }
        queue.addLast(new Idle(connection, capture, time.nanoTime()));
    }

    private static Http1Exchange nextWaiting(Destination destination) {
        Http1Exchange next;
        while ((next = destination.waiting.pollFirst()) != null) {
            if (!next.isOver()) return next;
        }
        return null;
    }

    private Destination destination(PoolKey key) {
        return pool().computeIfAbsent(key, k -> {
            Destination d = new Destination();
            d.lastFreed = time.nanoTime() - OPEN_WHEN_NONE_FREED_FOR.toNanos();
            return d;
        });
    }

    private Map<PoolKey, Destination> pool() {
        return pools.computeIfAbsent(Thread.currentThread(), t -> new HashMap<>());
    }

    @Override
    public String toString() {
        return "Http1Transport";
    }
}
