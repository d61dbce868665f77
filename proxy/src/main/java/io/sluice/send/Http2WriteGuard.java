package io.sluice.send;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.util.function.BooleanSupplier;
import org.xnio.channels.StreamSourceChannel;
import org.xnio.conduits.AbstractStreamSinkConduit;
import org.xnio.conduits.ConduitWritableByteChannel;
import org.xnio.conduits.Conduits;
import org.xnio.conduits.StreamSinkConduit;

/**
 * The writes of an HTTP/2 connection to an origin, dropped once the origin has closed its side of the
 * TLS connection ({@code close_notify}), so that they cannot take down the answers it sent before.
 *
 * <p>Undertow's TLS conduit unwraps one TLS record a read, and its HTTP/2 parser reads again before each
 * frame it parses, so the origin's {@code close_notify} is unwrapped while frames the origin sent before
 * it (answers, typically) still wait in the parser's buffer. Over TLS 1.2 (the highest nginx offers by
 * default before 1.23.4) the JDK's engine closes its own sending side on reading it (RFC 5246 §7.2.1: respond with a
 * close_notify "and close down the connection immediately, discarding any pending writes"), so the next
 * write on the connection fails: Undertow's TLS conduit then closes the whole connection, read side
 * included, and its HTTP/2 client fails every open stream with a {@code ClosedChannelException}, the
 * ones whose answers are in that buffer unparsed included. Writes do come in between the frames:
 * Undertow parses one per turn of the IO thread, and a request body still being sent (nginx answers
 * before it reads one), a new request, or a PING's acknowledgement goes out in between. nginx ends every
 * connection so after {@code keepalive_requests}; {@code Http2OriginCloseTest} shows it on one stream.
 *
 * <p>After the origin's {@code close_notify} nothing written can be read, nor answered (TLS 1.3 keeps
 * the sending side open, but the origin will not answer), so such writes are taken and dropped here. The
 * parser goes on with the frames it holds, delivers those answers, then reads the end of the stream and
 * closes the connection as it always does, failing the streams still unanswered, as before. A write that
 * fails below for another reason fails as before.
 */
final class Http2WriteGuard extends AbstractStreamSinkConduit<StreamSinkConduit> {
    private final BooleanSupplier originClosed;
    private Runnable closed = () -> {};
    private boolean dropping;

    /** Over {@code next}; {@code originClosed} says whether the origin's {@code close_notify} was read. */
    Http2WriteGuard(StreamSinkConduit next, BooleanSupplier originClosed) {
        super(next);
        this.originClosed = originClosed;
    }

    /** Told, once, on the IO thread and from inside a write, when writes are first dropped. */
    void onOriginClosed(Runnable closed) {
        this.closed = closed;
    }

    private boolean dropping() {
        if (!dropping && originClosed.getAsBoolean()) {
            dropping = true;
            closed.run();
        }
        return dropping;
    }

    @Override
    public int write(ByteBuffer src) throws IOException {
        if (!dropping()) return next.write(src);
        int n = src.remaining();
        src.position(src.limit());
        return n;
    }

    @Override
    public long write(ByteBuffer[] srcs, int offs, int len) throws IOException {
        if (!dropping()) return next.write(srcs, offs, len);
        long n = 0;
        for (int i = offs; i < offs + len; i++) {
            n += srcs[i].remaining();
            srcs[i].position(srcs[i].limit());
        }
        return n;
    }

    @Override
    public int writeFinal(ByteBuffer src) throws IOException {
        return Conduits.writeFinalBasic(this, src);
    }

    @Override
    public long writeFinal(ByteBuffer[] srcs, int offs, int len) throws IOException {
        return Conduits.writeFinalBasic(this, srcs, offs, len);
    }

    @Override
    public long transferFrom(FileChannel src, long position, long count) throws IOException {
        return src.transferTo(position, count, new ConduitWritableByteChannel(this));
    }

    @Override
    public long transferFrom(StreamSourceChannel source, long count, ByteBuffer throughBuffer) throws IOException {
        return Conduits.transfer(source, count, throughBuffer, this);
    }

    @Override
    public boolean flush() throws IOException {
        return dropping() || next.flush();
    }
}
