package io.sluice.fetch;

import io.sluice.time.TimeSource;
import io.undertow.client.ClientConnection;
import io.undertow.connector.ByteBufferPool;
import java.net.URI;
import java.time.Duration;
import java.util.ArrayDeque;
import java.util.HashMap;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import org.xnio.IoUtils;
import org.xnio.OptionMap;
import org.xnio.Options;
import org.xnio.XnioIoThread;
import org.xnio.XnioWorker;

/**
 * Cleartext HTTP/1.1 to upstreams on the data server's own IO threads, through Undertow's HTTP
 * client. A passthrough request is received, admitted, sent, answered and streamed back on one IO
 * thread, with keep-alive connections pooled per IO thread and per destination address — the shape
 * nginx has, and the reason this exists: {@code java.net.http} spends about half of a proxied
 * request's CPU in its own selector thread and hands every request across three threads (see README,
 * Performance). TLS origins stay on the shared {@code java.net.http} client (ALPN, HTTP/2).
 *
 * <p>Connections are opened to the address the guard checked, never to a name, so DNS rebinding has
 * nothing to rebind.
 */
public final class Http1Transport {
    private final XnioWorker worker;
    private final ByteBufferPool buffers;
    private final TimeSource time;
    private final OptionMap options;
    private final Duration idleTimeout;
    private final int maxIdlePerAddress;
    /** Per IO thread: idle connections by destination. Touched only by the owning thread. */
    private final Map<Thread, Map<String, ArrayDeque<Idle>>> idle = new ConcurrentHashMap<>();
    /** Origins that answered HTTP/1.1 without framing; they are sent over java.net.http instead. */
    private final Set<String> unframedOrigins = ConcurrentHashMap.newKeySet();

    record Idle(ClientConnection connection, long since) {}

    public Http1Transport(
            XnioWorker worker, ByteBufferPool buffers, TimeSource time, Duration idleTimeout, int maxIdlePerAddress) {
        if (idleTimeout.isNegative())
            throw new IllegalArgumentException("idle timeout cannot be negative: " + idleTimeout);
        if (maxIdlePerAddress < 0)
            throw new IllegalArgumentException("max idle connections cannot be negative: " + maxIdlePerAddress);
        UndertowClientLog.install();
        this.worker = worker;
        this.buffers = buffers;
        this.time = time;
        this.idleTimeout = idleTimeout;
        this.maxIdlePerAddress = maxIdlePerAddress;
        this.options = OptionMap.builder()
                .set(Options.TCP_NODELAY, true)
                .set(Options.KEEP_ALIVE, true)
                .getMap();
    }

    /** Whether this transport speaks to {@code uri}: cleartext, and not known to need close-delimited bodies. */
    boolean carries(URI uri) {
        return "http".equalsIgnoreCase(uri.getScheme()) && !unframedOrigins.contains(origin(uri));
    }

    /**
     * Sends {@code request} to {@code address} (already checked by the guard) on the call's own IO
     * thread when it has one, else on one of the worker's. Completes, on that thread, when the
     * response headers have arrived; the body streams after.
     */
    CompletableFuture<FetchResponse> send(
            FetchRequest request, java.net.InetAddress address, Call call, ResponseHeaderLimits headerLimits) {
        XnioIoThread thread = call.ioThread() != null ? call.ioThread() : worker.getIoThread();
        Http1Exchange exchange = new Http1Exchange(this, request, address, call, thread, headerLimits);
        if (Thread.currentThread() == thread) {
            exchange.start();
        } else {
            thread.execute(exchange::start);
        }
        return exchange.result();
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

    void markUnframed(URI uri) {
        unframedOrigins.add(origin(uri));
    }

    /** An open idle connection to {@code key}, or null. Call on the IO thread that owns the pool. */
    ClientConnection checkout(String key) {
        ArrayDeque<Idle> queue = pool().get(key);
        if (queue == null) return null;
        long now = time.nanoTime();
        Idle entry;
        // Most recently used first: it is the least likely to have been closed by the upstream.
        while ((entry = queue.pollLast()) != null) {
            if (entry.connection().isOpen() && now - entry.since() < idleTimeout.toNanos()) {
                return entry.connection();
            }
            IoUtils.safeClose(entry.connection());
        }
        return null;
    }

    /** Returns a connection whose exchange ended cleanly. Call on the IO thread that owns it. */
    void release(String key, ClientConnection connection) {
        if (!connection.isOpen()) return;
        ArrayDeque<Idle> queue = pool().computeIfAbsent(key, k -> new ArrayDeque<>());
        if (queue.size() >= maxIdlePerAddress) {
            IoUtils.safeClose(connection);
            return;
        }
        queue.addLast(new Idle(connection, time.nanoTime()));
    }

    private Map<String, ArrayDeque<Idle>> pool() {
        return idle.computeIfAbsent(Thread.currentThread(), t -> new HashMap<>());
    }

    private static String origin(URI uri) {
        return uri.getScheme().toLowerCase(java.util.Locale.ROOT) + "://" + uri.getHost() + ":" + uri.getPort();
    }

    @Override
    public String toString() {
        return "Http1Transport";
    }
}
