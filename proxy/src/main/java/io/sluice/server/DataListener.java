package io.sluice.server;

import io.undertow.UndertowOptions;
import io.undertow.connector.ByteBufferPool;
import io.undertow.server.HttpHandler;
import io.undertow.server.protocol.http.HttpOpenListener;
import io.undertow.server.protocol.http2.Http2UpgradeHandler;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import org.xnio.ChannelListener;
import org.xnio.ChannelListeners;
import org.xnio.IoUtils;
import org.xnio.OptionMap;
import org.xnio.Options;
import org.xnio.StreamConnection;
import org.xnio.XnioWorker;
import org.xnio.channels.AcceptingChannel;

/**
 * The data port's HTTP listener: what {@code Undertow.start()} sets up for one HTTP listener (its
 * socket options, {@link HttpOpenListener}, h2c upgrade when HTTP/2 is on), with one step of Sluice's
 * own before Undertow sees a new connection: {@link RawRequestHeads#install}, so that request heads
 * are kept as they arrived. {@code Undertow.Builder} has no hook between accepting a connection and
 * handing it to the open listener, hence this class rather than the builder.
 */
public final class DataListener {
    private final XnioWorker worker;
    private final InetSocketAddress bind;
    private final OptionMap socketOptions;
    private final HttpOpenListener open;
    private final ChannelListener<StreamConnection> accepted;
    private AcceptingChannel<StreamConnection> channel;

    /**
     * @param root the handler every request reaches, wrapped in {@code heads} (which must be the
     *     outermost handler that sees every request)
     * @param serverOptions Undertow's options (limits, timeouts, HTTP/2)
     * @param socketOptions added to Undertow's defaults for a listener
     */
    public DataListener(
            XnioWorker worker,
            String host,
            int port,
            ByteBufferPool buffers,
            OptionMap serverOptions,
            OptionMap socketOptions,
            RawRequestHeads heads) {
        this.worker = worker;
        try {
            this.bind = new InetSocketAddress(InetAddress.getByName(host), port);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        // Undertow.start()'s defaults, then the caller's.
        this.socketOptions = OptionMap.builder()
                .set(Options.WORKER_IO_THREADS, worker.getIoThreadCount())
                .set(Options.TCP_NODELAY, true)
                .set(Options.REUSE_ADDRESSES, true)
                .set(Options.BALANCING_TOKENS, 1)
                .set(Options.BALANCING_CONNECTIONS, 2)
                .set(Options.BACKLOG, 1000)
                .addAll(socketOptions)
                .getMap();
        OptionMap undertowOptions = OptionMap.builder()
                .set(UndertowOptions.NO_REQUEST_TIMEOUT, 60 * 1000)
                .set(UndertowOptions.BUFFER_PIPELINED_DATA, true)
                .addAll(serverOptions)
                .getMap();
        this.open = new HttpOpenListener(buffers, undertowOptions);
        HttpHandler handler = heads;
        if (undertowOptions.get(UndertowOptions.ENABLE_HTTP2, UndertowOptions.DEFAULT_ENABLE_HTTP2)) {
            handler = new Http2UpgradeHandler(handler);
        }
        open.setRootHandler(handler);
        this.accepted = connection -> {
            heads.install(connection);
            open.handleEvent(connection);
        };
    }

    public synchronized void start() {
        try {
            channel = worker.createStreamConnectionServer(
                    bind, ChannelListeners.openListenerAdapter(accepted), socketOptions);
        } catch (IOException e) {
            throw new UncheckedIOException("cannot listen on " + bind + ": " + e.getMessage(), e);
        }
        channel.resumeAccepts();
    }

    /** Where it listens (the port chosen, when asked for port 0); null before {@link #start}. */
    public synchronized InetSocketAddress address() {
        return channel == null ? null : (InetSocketAddress) channel.getLocalAddress();
    }

    /** Stops accepting, as {@code Undertow.stop()} does with a worker it does not own. */
    public synchronized void stop() {
        IoUtils.safeClose(channel);
        channel = null;
    }

    @Override
    public String toString() {
        return "DataListener(" + bind + ")";
    }
}
