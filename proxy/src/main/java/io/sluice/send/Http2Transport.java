package io.sluice.send;

import io.sluice.config.Policy;
import io.sluice.config.UpstreamTls;
import io.sluice.fetch.Call;
import io.sluice.fetch.FetchException;
import io.sluice.fetch.FetchRequest;
import io.sluice.fetch.FetchResponse;
import io.sluice.time.TimeSource;
import io.undertow.UndertowOptions;
import io.undertow.client.ALPNClientSelector;
import io.undertow.client.ClientCallback;
import io.undertow.client.ClientConnection;
import io.undertow.client.http2.Http2ClientConnection;
import io.undertow.connector.ByteBufferPool;
import io.undertow.protocols.http2.Http2Channel;
import java.io.IOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.URI;
import java.time.Duration;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.function.Consumer;
import org.xnio.IoFuture;
import org.xnio.IoUtils;
import org.xnio.OptionMap;
import org.xnio.XnioIoThread;
import org.xnio.XnioWorker;
import org.xnio.ssl.SslConnection;

/**
 * HTTP/2 to {@code https://} origins whose policy asks for it ({@code tls.http2}), through Undertow's
 * HTTP/2 client on the data server's own IO threads: per IO thread and per destination address one
 * connection, which carries every request to that destination as a stream of its own, up to the
 * origin's {@code SETTINGS_MAX_CONCURRENT_STREAMS}; requests past that wait in line for a stream
 * instead of being refused (RFC 9113 §5.1.2). It replaced {@code java.net.http} for these origins
 * once measured (docs/decisions.md): 1.39x the requests per second at about a third of the CPU per
 * request, and no burst of connections opened while the first handshake is under way.
 *
 * <p>Connections are opened to the address the guard checked, with the TLS of {@link Http1Transport}
 * (the profile's context, SNI and host-name verification, the handshake's failure reason), offering
 * {@code h2} and {@code http/1.1} by ALPN. An origin that answers {@code http/1.1} gets this
 * connection handed to {@link Http1Transport}'s pool and its requests sent there, until the idle
 * timeout has passed and ALPN is asked again.
 */
public final class Http2Transport {
    /** Streams a new connection carries before the origin's SETTINGS are known (one is always allowed). */
    static final int STREAMS_BEFORE_SETTINGS = 1;

    /**
     * The receive window of each stream unless the policy's {@code tls.http2_window} says otherwise: 1
     * MiB, announced in Sluice's SETTINGS (Undertow's default is RFC 9113's 65,535 bytes). A stream is
     * sent at most a window per round trip: through a relay adding 20 ms of round trip to an nginx origin,
     * a 10 MiB download took 6.1 to 6.8 s with 64 KiB, 1.7 to 2.4 s with 256 KiB and 0.5 to 1.2 s with 1
     * MiB, against 0.12 s over HTTP/1.1. What a stream holds unread is bounded by it: 1 MiB for a client
     * that stops reading.
     */
    static final int STREAM_WINDOW = UpstreamTls.DEFAULT_HTTP2_WINDOW.toIntExact();

    /** RFC 9113 §6.9.2: every connection starts with a window of 65,535 bytes, whatever the SETTINGS. */
    static final int INITIAL_CONNECTION_WINDOW = 65_535;

    /** Streams that may stop being read before the others of their connection are sent nothing. */
    static final int WINDOWS_PER_CONNECTION = UpstreamTls.HTTP2_WINDOWS_PER_CONNECTION;

    /**
     * The receive window of a whole connection, 32 MiB by default: {@link #WINDOWS_PER_CONNECTION} streams'
     * windows. Undertow's would be one stream's, so a single client that stops reading its download (the
     * stream keeps what it was sent, up to its window, until it is read or reset) would leave every other
     * stream of the connection, and every new one, waiting. It is also what a connection may hold unread
     * at most, and only while that many clients do not read.
     */
    static final int CONNECTION_WINDOW = connectionWindow(STREAM_WINDOW);

    /** The receive window of a connection whose streams each get {@code streamWindow}. */
    static int connectionWindow(int streamWindow) {
        return WINDOWS_PER_CONNECTION * streamWindow;
    }

    /**
     * Streams that may each hold part of a read buffer: a buffer is held until every stream with bytes in
     * it has read them. Twice nginx's default of 128 concurrent streams.
     */
    private static final int BUFFER_SHARING_STREAMS = 256;

    private final XnioWorker worker;
    private final ByteBufferPool buffers;
    private final Http1Transport http1;
    private final TimeSource time;
    private final Duration idleTimeout;
    private final OptionMap http2Options;
    private final int bufferSize;
    /** Per IO thread: each destination's connection and line. Touched only by the owning thread. */
    private final Map<Thread, Map<DestinationKey, Destination>> pools = new ConcurrentHashMap<>();

    /**
     * Over {@code http1}'s TLS set-up and, for origins that do not speak HTTP/2, its connections.
     * Frames are read into {@code buffers} (16 KiB holds a frame of the default maximum size); a
     * connection idle for {@code idleTimeout} is closed when next looked at, as HTTP/1.1's are.
     */
    public Http2Transport(
            XnioWorker worker,
            ByteBufferPool buffers,
            Http1Transport http1,
            TimeSource time,
            Duration idleTimeout,
            ResponseHeaderLimits headerLimits) {
        if (idleTimeout.isNegative())
            throw new IllegalArgumentException("idle timeout cannot be negative: " + idleTimeout);
        this.worker = worker;
        this.buffers = buffers;
        this.http1 = http1;
        this.time = time;
        this.idleTimeout = idleTimeout;
        this.http2Options = OptionMap.builder()
                .set(UndertowOptions.ENABLE_HTTP2, true)
                // Pushed responses would be refused one by one; say so once instead (RFC 9113 §8.4).
                .set(UndertowOptions.HTTP2_SETTINGS_ENABLE_PUSH, false)
                // Undertow refuses a header block past this as a connection error, failing every stream on
                // the connection: far enough above Sluice's own limits that a response is refused alone.
                .set(UndertowOptions.MAX_HEADER_SIZE, http2HeaderListSize(headerLimits))
                // Undertow's rapid-reset guard (CVE-2023-44487) counts the resets a channel receives and
                // sends, 200 in 30 s by default, and past that goes away (ENHANCE_YOUR_CALM) failing every
                // stream in flight. It defends a server from its clients; towards an origin every reset is
                // legitimate (one per POST that nginx answers without reading the body, one per request
                // Sluice gives up), so on the client side it is off.
                .set(UndertowOptions.MAX_RST_FRAMES_PER_WINDOW, Integer.MAX_VALUE)
                .getMap();
        this.bufferSize = buffers.getBufferSize();
    }

    /** The options of a connection whose streams each get {@code streamWindow} bytes of window. */
    private OptionMap http2Options(int streamWindow) {
        return OptionMap.builder()
                .addAll(http2Options)
                .set(UndertowOptions.HTTP2_SETTINGS_INITIAL_WINDOW_SIZE, streamWindow)
                // Undertow stops reading a whole connection while this many of its read buffers are held,
                // and a buffer is held until every stream with bytes in it has read them: by default 16,
                // so 16 streams whose clients read slowly held up every other stream, their response
                // heads included. Raised to what the connection's window can fill, plus a buffer part
                // held by each of many streams; still a bound against an origin that ignores flow control
                // (Undertow does not enforce it), at 36 MiB with 16 KiB buffers and the default window.
                .set(
                        UndertowOptions.MAX_QUEUED_READ_BUFFERS,
                        connectionWindow(streamWindow) / bufferSize + BUFFER_SHARING_STREAMS)
                .getMap();
    }

    /**
     * The header-list bound for Undertow's HTTP/2 (its {@code MAX_HEADER_SIZE}, capped JVM-wide by
     * {@code io.undertow.http2-max-header-size}): four times Sluice's own limit (Undertow counts 32
     * bytes more per field), at least 1 MiB, so that {@link ResponseHeaderLimits} refuses an oversized
     * response as {@code too_large} on its stream before Undertow would drop the connection.
     */
    public static int http2HeaderListSize(ResponseHeaderLimits limits) {
        return (int) Math.min(Integer.MAX_VALUE, Math.max(1 << 20, 4 * limits.jdkMaxHeaderSize()));
    }

    /** {@code Http2Channel.continuationParser}: set while a header block waits for CONTINUATION frames. */
    private static final java.lang.reflect.Field CONTINUATION = continuationField();

    private static java.lang.reflect.Field continuationField() {
        try {
            java.lang.reflect.Field field = Http2Channel.class.getDeclaredField("continuationParser");
            field.setAccessible(true);
            return field;
        } catch (ReflectiveOperationException | RuntimeException e) {
            return null;
        }
    }

    /**
     * Whether the header block just handed over by {@code channel} goes on in CONTINUATION frames not
     * read yet (Undertow 2.4 keeps that state private; an Undertow without the field is taken to join
     * them itself).
     */
    static boolean headerBlockContinues(Http2Channel channel) {
        if (CONTINUATION == null) return false;
        try {
            return CONTINUATION.get(channel) != null;
        } catch (IllegalAccessException e) {
            return false;
        }
    }

    /** Whether this transport speaks to {@code uri}: TLS origins whose policy asks for HTTP/2. */
    boolean carries(URI uri, UpstreamTls tls) {
        return "https".equalsIgnoreCase(uri.getScheme()) && tls.http2();
    }

    /**
     * Sends {@code request} to {@code address} (already checked by the guard) on the call's own IO
     * thread when it has one; completes there when the response headers have arrived.
     */
    CompletableFuture<FetchResponse> send(
            FetchRequest request,
            Policy policy,
            InetAddress address,
            Call call,
            ResponseHeaderLimits headerLimits,
            Consumer<FetchException> bodyProtocolError) {
        XnioIoThread thread = IoThreads.of(call, worker);
        Http2Exchange exchange =
                new Http2Exchange(this, request, policy, address, call, thread, headerLimits, bodyProtocolError);
        IoThreads.run(thread, exchange::start);
        return exchange.result();
    }

    /** What one read of a connection holds (a buffer of {@code buffers}). */
    int readBufferSize() {
        return buffers.getBufferSize();
    }

    Http1Transport http1() {
        return http1;
    }

    TimeSource time() {
        return time;
    }

    /** One connection and the streams on it. Touched only by its IO thread. */
    static final class Connection {
        final Http2ClientConnection client;
        final Http2Channel channel;
        /** Which of its streams the origin did not process (refused, or above a GOAWAY's last stream). */
        final Http2FrameTap frames;
        /**
         * Why its TLS handshake failed, if it did: ALPN can settle on {@code h2} before the origin's
         * certificate has been checked, so a connection is made, and may carry a stream, before that.
         */
        final HandshakeWitness witness;
        /** Streams this side holds on it (sent and not yet ended). */
        int active;
        /** The exchanges whose streams those are. */
        final List<Http2Exchange> streams = new ArrayList<>();
        /** The origin's SETTINGS have been read: a PING sent with the preface came back, or a response. */
        boolean settled;
        /** Undertow refused a stream Sluice counted as free: no new ones; closed when the last ends. */
        boolean retired;
        /** Streams let go of with a body frame still in Undertow's queue ({@link #stranded}). */
        int stranded;

        long idleSince;

        Connection(
                Http2ClientConnection client,
                Http2Channel channel,
                Http2FrameTap frames,
                HandshakeWitness witness,
                long now) {
            this.client = client;
            this.channel = channel;
            this.frames = frames;
            this.witness = witness;
            this.idleSince = now;
        }

        /** The origin's {@code SETTINGS_MAX_CONCURRENT_STREAMS} as last announced; 0 while none was. */
        private int originLimit;

        /** Streams it may carry at once: the origin's {@code SETTINGS_MAX_CONCURRENT_STREAMS}, if any. */
        int limit() {
            if (!settled) return STREAMS_BEFORE_SETTINGS;
            int announced = channel.getSendMaxConcurrentStreams();
            if (announced > 0 && announced != Integer.MAX_VALUE) {
                // Sluice keeps the count from here, and Undertow's check is moved out of the way (a
                // later SETTINGS from the origin sets it again, and is taken here the same way):
                // Undertow 2.4's own count of open streams does not come down for a stream whose
                // response ends with its HEADERS frame (HEAD, 204, 304), so it would refuse streams
                // the origin allows, two bodiless responses apart at a limit of two.
                originLimit = announced;
                channel.setSendMaxConcurrentStreams(Integer.MAX_VALUE);
            }
            return originLimit > 0 ? originLimit : Integer.MAX_VALUE;
        }

        /** Resets {@code streamId} (RFC 9113 §8.7: {@code CANCEL}), which frees it on both sides. */
        void reset(int streamId) {
            channel.sendRstStream(streamId, Http2Channel.ERROR_CANCEL);
        }
    }

    /** One destination's share of an IO thread's connections. */
    static final class Destination {
        final Http1Transport.PoolKey key;
        /** Each stream's receive window ({@code tls.http2_window}); destinations differ by it. */
        final int streamWindow;

        final XnioIoThread thread;
        /** Exchanges waiting for a stream, oldest first; those already over are skipped when reached. */
        final ArrayDeque<Http2Exchange> waiting = new ArrayDeque<>();

        Connection connection;
        boolean opening;
        /** ALPN chose HTTP/1.1: until then ({@link TimeSource#nanoTime}) requests go to {@link Http1Transport}. */
        long http1Until;

        /** {@link #http1Until} holds (ALPN chose HTTP/1.1 at least once). */
        boolean http1Known;

        private boolean pumping;
        private boolean again;

        Destination(Http1Transport.PoolKey key, int streamWindow, XnioIoThread thread) {
            this.key = key;
            this.streamWindow = streamWindow;
            this.thread = thread;
        }
    }

    /** Puts {@code exchange} in its destination's line (first, when it is being sent again) and serves the line. */
    void enqueue(Http2Exchange exchange, boolean first) {
        Destination destination = destination(exchange);
        if (first) {
            destination.waiting.addFirst(exchange);
        } else {
            destination.waiting.addLast(exchange);
        }
        pump(destination);
    }

    /**
     * Serves the line of {@code destination}: to HTTP/1.1 if ALPN chose it, else onto the connection's
     * free streams, opening the connection if there is none. Re-entrant calls (a stream refused at
     * once) loop here instead of recursing.
     */
    private void pump(Destination destination) {
        if (destination.pumping) {
            destination.again = true;
            return;
        }
        destination.pumping = true;
        try {
            do {
                destination.again = false;
                serve(destination);
            } while (destination.again);
        } finally {
            destination.pumping = false;
        }
    }

    private void serve(Destination destination) {
        long now = time.nanoTime();
        if (destination.http1Known && now - destination.http1Until < 0) {
            Http2Exchange next;
            while ((next = nextWaiting(destination)) != null) next.viaHttp1();
            return;
        }
        destination.http1Known = false;
        Connection connection = destination.connection;
        if (connection != null && !usable(connection, now)) {
            destination.connection = null;
            if (connection.active == 0) IoUtils.safeClose(connection.client);
            connection = null;
        }
        if (peekWaiting(destination) == null) return;
        if (connection == null) {
            if (!destination.opening) open(destination, peekWaiting(destination).policy());
            return;
        }
        Http2Exchange next;
        while (!connection.retired
                && connection.active < connection.limit()
                && (next = nextWaiting(destination)) != null) {
            connection.active++;
            connection.streams.add(next);
            next.sendOn(connection);
        }
    }

    private boolean usable(Connection connection, long now) {
        return connection.client.isOpen()
                && !connection.retired
                && !(connection.active == 0 && now - connection.idleSince >= idleTimeout.toNanos());
    }

    /** A stream of {@code connection} ended (answered and read, failed or reset): the next in line may have it. */
    void streamEnded(Http2Exchange exchange, Connection connection) {
        connection.active--;
        connection.streams.remove(exchange);
        if (connection.active == 0) {
            connection.idleSince = time.nanoTime();
            if (connection.retired) IoUtils.safeClose(connection.client);
        }
        pump(destination(exchange));
    }

    /**
     * Undertow refused to open a stream on {@code connection} though Sluice counted one free (its own
     * count had not come down yet): the exchange was never sent, so it goes first in line again, and
     * the connection takes no new streams.
     */
    void refused(Http2Exchange exchange, Connection connection) {
        connection.retired = true;
        Destination destination = destination(exchange);
        if (destination.connection == connection) destination.connection = null;
        streamEnded(exchange, connection);
        enqueue(exchange, true);
    }

    /**
     * The origin sent a GOAWAY (hidden from Undertow's client by {@link Http2FrameTap}): the connection
     * takes no new streams and is closed once its last stream ends; streams above {@code lastStream}
     * will not be answered and go again, those up to it are left to finish.
     */
    private void goneAway(Destination destination, Connection connection, int lastStream) {
        connection.retired = true;
        if (destination.connection == connection) destination.connection = null;
        for (Http2Exchange exchange : List.copyOf(connection.streams)) exchange.goneAway(connection, lastStream);
        retire(destination, connection);
    }

    /**
     * {@code connection} takes no new streams (its origin went away, or it can no longer be written to)
     * and is closed once its last stream ends; the line goes to another.
     */
    private void retire(Destination destination, Connection connection) {
        connection.retired = true;
        if (destination.connection == connection) destination.connection = null;
        if (connection.active == 0) IoUtils.safeClose(connection.client);
        pump(destination);
    }

    /**
     * A stream of {@code connection} was let go of (answered, reset, timed out) while a frame of its
     * request body still waited in Undertow's queue for flow-control window: Undertow keeps such a frame,
     * and its 16 KiB buffer, until the connection closes, and an origin that answers uploads early and
     * resets them (RFC 9113 §8.1) grants no more window to those streams. Past {@link #STRANDED_LIMIT}
     * of them the connection takes no new streams and is closed when its last one ends, which frees
     * them all: at most ~1 MiB held per connection, where it grew by one buffer per such upload.
     */
    void stranded(Http2Exchange exchange, Connection connection) {
        if (++connection.stranded < STRANDED_LIMIT || connection.retired) return;
        retire(destination(exchange), connection);
    }

    /**
     * Credits {@code connection}'s receive window with {@code bytes} the origin sent that no reader took
     * out of a stream: Undertow credits only what is read (RFC 9113 §6.9; {@link Http2FrameTap}).
     */
    void credit(Connection connection, long bytes) {
        try {
            for (long left = bytes; left > 0; left -= Integer.MAX_VALUE) {
                connection.channel.updateReceiveFlowControlWindow((int) Math.min(left, Integer.MAX_VALUE));
            }
        } catch (IOException e) {
            IoUtils.safeClose(connection.client); // the WINDOW_UPDATE could not be written: the connection is gone
        }
    }

    /** Streams a connection may strand before it is replaced ({@link #stranded}). */
    static final int STRANDED_LIMIT = 64;

    /** The origin's SETTINGS are in: as many streams as it allows may be used. */
    void settled(Http2Exchange exchange, Connection connection) {
        if (connection.settled) return;
        connection.settled = true;
        pump(destination(exchange));
    }

    /**
     * Opens the destination's connection: TCP to the checked address, TLS as {@link Http1Transport}
     * sets it up, then ALPN. {@code policy} (the first waiting request's) bounds the opening by its
     * {@code timeouts.connect}; each waiting request also has its own timer.
     */
    private void open(Destination destination, Policy policy) {
        destination.opening = true;
        Http1Transport.PoolKey key = destination.key;
        HandshakeWitness witness = new HandshakeWitness();
        OptionMap tlsOptions = http1.tlsOptions(key.host(), key.tls());
        Opening opening = new Opening();
        Consumer<Throwable> failed = error -> onThread(destination, () -> {
            if (!opening.end()) return;
            destination.opening = false;
            // Undertow reports a failed TLS handshake as a closed channel; the reason is the witness's.
            Throwable reason = witness.failure() != null && !(error instanceof javax.net.ssl.SSLException)
                    ? witness.failure()
                    : error;
            // Closed once connected and past the handshake, before anything was sent: the line may wait
            // for one more connection.
            boolean nothingSent = opening.connected && witness.failure() == null;
            ArrayDeque<Http2Exchange> again = new ArrayDeque<>();
            Http2Exchange waiting;
            while ((waiting = nextWaiting(destination)) != null) {
                if (waiting.openingFailed(reason, nothingSent)) again.addLast(waiting);
            }
            if (!again.isEmpty()) {
                destination.waiting.addAll(again);
                pump(destination);
            }
        });
        IoFuture<SslConnection> future;
        try {
            future = http1.ssl(key.tls(), witness)
                    .openSslConnection(
                            destination.thread,
                            new InetSocketAddress(key.address(), key.port()),
                            raw -> {
                                if (opening.over) {
                                    IoUtils.safeClose(raw);
                                    return;
                                }
                                opening.connected = true;
                                negotiate(destination, raw, tlsOptions, witness, opening, failed);
                            },
                            tlsOptions);
        } catch (RuntimeException e) {
            failed.accept(e);
            return;
        }
        opening.timer = time.schedule(
                policy.timeouts().connect(),
                () -> onThread(destination, () -> {
                    if (opening.over) return;
                    future.cancel();
                    failed.accept(
                            ExchangeTimer.connectTimedOut(policy.timeouts().connect()));
                }));
        future.addNotifier(
                (done, ignored) -> {
                    if (done.getStatus() == IoFuture.Status.FAILED) failed.accept(done.getException());
                },
                null);
    }

    /** One connection being opened: over once made or failed, whichever is heard of first. */
    private static final class Opening {
        boolean over;
        /** TCP is connected (the TLS handshake may still fail). */
        boolean connected;

        TimeSource.Timer timer;

        /** Whether this call ended it (it was not over yet). */
        boolean end() {
            if (over) return false;
            over = true;
            if (timer != null) timer.cancel();
            return true;
        }
    }

    /** ALPN on a new TLS connection: {@code h2} becomes the destination's connection, {@code http/1.1} goes to the HTTP/1.1 pool. */
    private void negotiate(
            Destination destination,
            SslConnection raw,
            OptionMap tlsOptions,
            HandshakeWitness witness,
            Opening opening,
            Consumer<Throwable> failed) {
        ClientCallback<ClientConnection> onFailure = new ClientCallback<>() {
            @Override
            public void completed(ClientConnection result) {}

            @Override
            public void failed(IOException e) {
                IoUtils.safeClose(raw);
                failed.accept(e);
            }
        };
        org.xnio.ChannelListener<SslConnection> http11 = connection -> onThread(destination, () -> {
            if (!opening.end()) {
                IoUtils.safeClose(connection);
                return;
            }
            destination.opening = false;
            destination.http1Known = true;
            destination.http1Until = time.nanoTime() + idleTimeout.toNanos();
            // The handshake is done: the connection goes to the HTTP/1.1 pool as if it had opened it.
            HeadCapture capture = new HeadCapture(connection.getSourceChannel().getConduit());
            connection.getSourceChannel().setConduit(capture);
            ClientConnection client = http1.opened(
                    io.undertow.client.http.SluiceHttp1Connections.over(connection, tlsOptions, http1.buffers()));
            http1.release(destination.key, client, capture);
            pump(destination);
        });
        org.xnio.ChannelListener<SslConnection> h2 = connection -> onThread(destination, () -> {
            if (!opening.end()) {
                IoUtils.safeClose(connection);
                return;
            }
            destination.opening = false;
            // Under the channel: what the origin says of streams it did not process (Http2FrameTap).
            Http2FrameTap frames =
                    new Http2FrameTap(connection.getSourceChannel().getConduit());
            connection.getSourceChannel().setConduit(frames);
            // Over the writes: none once the origin's close_notify is read, which would take down the
            // answers read before it (Http2WriteGuard).
            javax.net.ssl.SSLEngine engine = engineOf(connection);
            Http2WriteGuard writes = new Http2WriteGuard(
                    connection.getSinkChannel().getConduit(), () -> engine != null && engine.isInboundDone());
            connection.getSinkChannel().setConduit(writes);
            Http2Channel channel = new Http2Channel(
                    connection, null, buffers, null, true, false, http2Options(destination.streamWindow));
            Http2ClientConnection client =
                    new Http2ClientConnection(channel, false, destination.key.host(), null, true);
            Connection made = new Connection(client, channel, frames, witness, time.nanoTime());
            // Read inside the channel's read: acted on once that read is over, but no new stream from now
            // on (tasks queued before that one may serve the line); one would be written after the
            // origin's close, which may already be in hand.
            frames.onGoAway(last -> {
                made.retired = true;
                destination.thread.execute(() -> goneAway(destination, made, last));
            });
            // Counted inside the channel's read: credited once that read is over.
            frames.onUncredited(bytes -> destination.thread.execute(() -> {
                if (made.client.isOpen()) credit(made, bytes);
            }));
            // Over a copy: the exchange that acts on it ends its stream, which takes it out of the list.
            frames.onOpenStreamReset(stream -> destination.thread.execute(() -> {
                for (Http2Exchange exchange : List.copyOf(made.streams)) exchange.resetByOrigin(made, stream);
            }));
            // Seen inside a write: acted on once that write is over.
            writes.onOriginClosed(() -> destination.thread.execute(() -> retire(destination, made)));
            http1.opened(client);
            client.addCloseListener(closed -> onThread(destination, () -> {
                if (destination.connection != made) return;
                destination.connection = null;
                if (witness.failure() != null) {
                    // The handshake failed after all: the next connection would fail the same way.
                    Http2Exchange waiting;
                    while ((waiting = nextWaiting(destination)) != null) waiting.fail(witness.failure());
                }
                pump(destination);
            }));
            destination.connection = made;
            // After the preface and SETTINGS the channel has queued: the rest of the connection's window.
            // Undertow keeps its own account starting at one stream's window, which the origin's view then
            // stays the connection's window less one stream's above.
            try {
                channel.sendUpdateWindowSize(0, connectionWindow(destination.streamWindow) - INITIAL_CONNECTION_WINDOW);
            } catch (IOException e) {
                IoUtils.safeClose(client); // its close listener serves the line
            }
            // The origin's SETTINGS are its first frame, so the answer to a PING sent now comes after
            // them: from then on its MAX_CONCURRENT_STREAMS is known, and one stream is used until then.
            client.sendPing(
                    new ClientConnection.PingListener() {
                        @Override
                        public void acknowledged() {
                            onThread(destination, () -> {
                                if (made.settled) return;
                                made.settled = true;
                                pump(destination);
                            });
                        }

                        @Override
                        public void failed(IOException e) {
                            // The connection failed; its close listener serves the line.
                        }
                    },
                    0,
                    java.util.concurrent.TimeUnit.MILLISECONDS);
            pump(destination);
        });
        ALPNClientSelector.runAlpn(
                raw,
                http11,
                onFailure,
                new ALPNClientSelector.ALPNProtocol(h2, "h2"),
                new ALPNClientSelector.ALPNProtocol(http11, "http/1.1"));
    }

    /** The TLS engine of {@code connection}, or null where its TLS is not Undertow's (none is then watched). */
    private static javax.net.ssl.SSLEngine engineOf(SslConnection connection) {
        try {
            return io.undertow.protocols.ssl.UndertowXnioSsl.getSslEngine(connection);
        } catch (RuntimeException notUndertows) {
            return null;
        }
    }

    private static Http2Exchange nextWaiting(Destination destination) {
        Http2Exchange next;
        while ((next = destination.waiting.pollFirst()) != null) {
            if (!next.isOver()) return next;
        }
        return null;
    }

    private static Http2Exchange peekWaiting(Destination destination) {
        Http2Exchange next;
        while ((next = destination.waiting.peekFirst()) != null && next.isOver()) {
            destination.waiting.pollFirst();
        }
        return next;
    }

    private Destination destination(Http2Exchange exchange) {
        return pools.computeIfAbsent(Thread.currentThread(), t -> new HashMap<>())
                .computeIfAbsent(
                        new DestinationKey(exchange.poolKey(), exchange.streamWindow()),
                        k -> new Destination(k.key(), k.streamWindow(), exchange.ioThread()));
    }

    /**
     * A destination: where its connection goes and as whom (the key HTTP/1.1's pool would use, so that a
     * connection ALPN made HTTP/1.1 goes there), and the stream window its connection announces.
     */
    private record DestinationKey(Http1Transport.PoolKey key, int streamWindow) {}

    private static void onThread(Destination destination, Runnable task) {
        IoThreads.run(destination.thread, task);
    }

    @Override
    public String toString() {
        return "Http2Transport";
    }
}
