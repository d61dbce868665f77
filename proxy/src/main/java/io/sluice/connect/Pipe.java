package io.sluice.connect;

import io.undertow.conduits.BytesReceivedStreamSourceConduit;
import io.undertow.conduits.IdleTimeoutConduit;
import io.undertow.connector.ByteBufferPool;
import io.undertow.util.Transfer;
import java.io.Closeable;
import java.io.IOException;
import java.time.Duration;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.LongAdder;
import org.xnio.ChannelExceptionHandler;
import org.xnio.ChannelListener;
import org.xnio.ChannelListeners;
import org.xnio.IoUtils;
import org.xnio.StreamConnection;
import org.xnio.channels.StreamSinkChannel;

/**
 * A {@code tunnel}-mode byte pipe between the client and the upstream, built from Undertow's own
 * parts (as its {@code ConnectHandler} is): {@link Transfer} each way, an {@link IdleTimeoutConduit}
 * on the client side (bytes either way count as activity), and byte counters. An end-of-stream on
 * one side shuts the other's writes (a half-close passes through); an error closes both.
 */
final class Pipe {
    /** What a closed pipe reports: bytes from the client to the upstream and back. */
    interface Done {
        void closed(long bytesUp, long bytesDown);
    }

    private final LongAdder up = new LongAdder();
    private final LongAdder down = new LongAdder();
    private final AtomicInteger open = new AtomicInteger(2);

    private Pipe() {}

    /** Joins {@code client} and {@code upstream}; {@code done} runs once when both have closed. */
    static void join(
            StreamConnection client,
            StreamConnection upstream,
            Duration idleTimeout,
            ByteBufferPool buffers,
            Done done,
            java.util.function.Consumer<ChannelListener<StreamConnection>> onClientClose) {
        Pipe pipe = new Pipe();
        IdleTimeoutConduit idle = new IdleTimeoutConduit(client);
        client.getSourceChannel().setConduit(idle);
        client.getSinkChannel().setConduit(idle);
        idle.setIdleTimeout(Math.max(1, idleTimeout.toMillis()));
        client.getSourceChannel()
                .setConduit(new BytesReceivedStreamSourceConduit(
                        client.getSourceChannel().getConduit(), pipe.up::add));
        upstream.getSourceChannel()
                .setConduit(new BytesReceivedStreamSourceConduit(
                        upstream.getSourceChannel().getConduit(), pipe.down::add));
        // A side closed in full (both directions, or its idle timeout) takes the other with it.
        onClientClose.accept(c -> pipe.closed(upstream, done));
        upstream.setCloseListener(c -> pipe.closed(client, done));
        CloseBoth closeBoth = new CloseBoth(client, upstream);
        Transfer.initiateTransfer(
                client.getSourceChannel(),
                upstream.getSinkChannel(),
                ChannelListeners.closingChannelListener(),
                shutdownWrites(),
                closeBoth,
                closeBoth,
                buffers);
        Transfer.initiateTransfer(
                upstream.getSourceChannel(),
                client.getSinkChannel(),
                ChannelListeners.closingChannelListener(),
                shutdownWrites(),
                closeBoth,
                closeBoth,
                buffers);
    }

    private void closed(StreamConnection other, Done done) {
        IoUtils.safeClose(other);
        if (open.decrementAndGet() == 0) done.closed(up.sum(), down.sum());
    }

    private static ChannelListener<StreamSinkChannel> shutdownWrites() {
        return ChannelListeners.writeShutdownChannelListener(
                ChannelListeners.<StreamSinkChannel>flushingChannelListener(
                        ChannelListeners.closingChannelListener(), ChannelListeners.closingChannelExceptionHandler()),
                ChannelListeners.closingChannelExceptionHandler());
    }

    private record CloseBoth(Closeable a, Closeable b) implements ChannelExceptionHandler<java.nio.channels.Channel> {
        @Override
        public void handleException(java.nio.channels.Channel channel, IOException exception) {
            IoUtils.safeClose(channel);
            IoUtils.safeClose(a, b);
        }
    }
}
