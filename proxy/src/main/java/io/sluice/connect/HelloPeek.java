package io.sluice.connect;

import io.sluice.tls.ClientHello;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.util.concurrent.TimeUnit;
import java.util.function.Consumer;
import org.xnio.Buffers;
import org.xnio.ChannelListener;
import org.xnio.IoUtils;
import org.xnio.StreamConnection;
import org.xnio.XnioExecutor;
import org.xnio.conduits.ConduitStreamSourceChannel;
import org.xnio.conduits.PushBackStreamSourceConduit;

/**
 * Reads a tunnel's TLS ClientHello off the raw connection, on its IO thread, then puts the bytes
 * back in front of the connection's source so the TLS engine chosen reads them as if first. A
 * client that sends no whole hello within {@code timeoutMillis}, or closes, is closed; one whose
 * bytes cannot be read as a hello (or run past {@link ClientHello#MAX_BYTES}) is handed on as
 * {@link ClientHello.Unreadable}, for JSSE to answer as it would have.
 */
final class HelloPeek implements ChannelListener<ConduitStreamSourceChannel> {
    private static final System.Logger LOG = System.getLogger(HelloPeek.class.getName());
    /** The message and the headers of the records carrying it. */
    private static final int CAPACITY = ClientHello.MAX_BYTES + 1024;

    private final StreamConnection client;
    private final Consumer<ClientHello.Peek> then;
    private ByteBuffer buffer = ByteBuffer.allocate(2048);
    private XnioExecutor.Key timeout;

    private HelloPeek(StreamConnection client, Consumer<ClientHello.Peek> then) {
        this.client = client;
        this.then = then;
    }

    /** Starts reading; {@code then} runs on the IO thread with the hello's bytes pushed back. */
    static void read(StreamConnection client, long timeoutMillis, Consumer<ClientHello.Peek> then) {
        HelloPeek peek = new HelloPeek(client, then);
        peek.timeout = client.getIoThread()
                .executeAfter(() -> IoUtils.safeClose(client), timeoutMillis, TimeUnit.MILLISECONDS);
        var source = client.getSourceChannel();
        source.setReadListener(peek);
        peek.handleEvent(source);
    }

    @Override
    public void handleEvent(ConduitStreamSourceChannel source) {
        try {
            while (true) {
                if (!buffer.hasRemaining()) {
                    if (buffer.capacity() >= CAPACITY) {
                        done(new ClientHello.Unreadable("hello longer than " + ClientHello.MAX_BYTES + " bytes"));
                        return;
                    }
                    ByteBuffer bigger = ByteBuffer.allocate(Math.min(CAPACITY, buffer.capacity() * 4));
                    buffer.flip();
                    bigger.put(buffer);
                    buffer = bigger;
                }
                int read = source.read(buffer);
                if (read < 0) {
                    cancelTimeout();
                    IoUtils.safeClose(client);
                    return;
                }
                if (read == 0) break;
            }
            ClientHello.Peek peek = ClientHello.read(buffer.duplicate().flip());
            if (peek instanceof ClientHello.Incomplete) {
                source.resumeReads();
                return;
            }
            done(peek);
        } catch (IOException e) {
            cancelTimeout();
            IoUtils.safeClose(client);
        }
    }

    private void done(ClientHello.Peek peek) {
        cancelTimeout();
        ConduitStreamSourceChannel source = client.getSourceChannel();
        source.suspendReads();
        source.setReadListener(null);
        buffer.flip();
        // A hello cut into several records goes on as one: Undertow's TLS layer stalls on the other.
        ByteBuffer bytes = peek instanceof ClientHello.Hello ? ClientHello.asOneRecord(buffer) : buffer;
        var pushBack = new PushBackStreamSourceConduit(source.getConduit());
        pushBack.pushBack(Buffers.pooledWrapper(bytes));
        source.setConduit(pushBack);
        try {
            then.accept(peek);
        } catch (RuntimeException e) {
            // Nothing else holds this connection yet: close it rather than leave it open, unserved.
            LOG.log(System.Logger.Level.WARNING, "cannot start TLS on an intercepted tunnel", e);
            IoUtils.safeClose(client);
        }
    }

    private void cancelTimeout() {
        if (timeout != null) timeout.remove();
    }

    @Override
    public String toString() {
        return "HelloPeek(" + buffer.position() + " bytes)";
    }
}
