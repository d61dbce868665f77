package io.sluice.send;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.util.List;
import java.util.concurrent.Flow;
import org.xnio.XnioIoThread;
import org.xnio.channels.StreamSourceChannel;

/**
 * An upstream response body read from an XNIO channel, as the {@link Flow.Publisher} that
 * {@link ResponseBody} relays. Reads happen only against demand, so a slow consumer stops the
 * reads and TCP pushes back on the upstream. Every channel operation runs on the connection's IO
 * thread; {@link #request} and {@link #cancel} from another thread are queued to it.
 *
 * <p>Each buffer is freshly allocated and handed over: the consumer may keep it (the cache's tee
 * does), so nothing is recycled under it. A body of known length is read in buffers sized to what
 * is left, which for the common small JSON answer is one exact-size buffer and no copy.
 */
final class ChannelBody implements Flow.Publisher<List<ByteBuffer>>, Flow.Subscription {
    private static final int CHUNK = 16 * 1024;
    private static final int MAX_EXACT = 64 * 1024;

    /** How the exchange learns that the body ended, and whether the connection can be reused. */
    interface Ending {
        void ended(boolean complete);
    }

    private final StreamSourceChannel channel;
    private final XnioIoThread thread;
    private final long contentLength;
    private final Ending ending;
    private Flow.Subscriber<? super List<ByteBuffer>> subscriber;
    private long demand;
    private long received;
    private boolean pumping;
    private boolean done;
    /** Why the body failed before anyone subscribed: the subscriber is told as it subscribes. */
    private IOException failedUnread;

    ChannelBody(StreamSourceChannel channel, XnioIoThread thread, long contentLength, Ending ending) {
        this.channel = channel;
        this.thread = thread;
        this.contentLength = contentLength;
        this.ending = ending;
    }

    @Override
    public void subscribe(Flow.Subscriber<? super List<ByteBuffer>> s) {
        onThread(() -> {
            if (subscriber != null) {
                // Not this subscription: a second reader must not be able to pull or cancel the first's.
                s.onSubscribe(new Flow.Subscription() {
                    @Override
                    public void request(long n) {}

                    @Override
                    public void cancel() {}
                });
                s.onError(new IllegalStateException("an upstream body can be read once"));
                return;
            }
            subscriber = s;
            s.onSubscribe(this);
            if (failedUnread != null) s.onError(failedUnread);
        });
    }

    /**
     * Ends the body with {@code failure} now, read or not: the exchange learnt it cannot complete (its
     * stream was reset) before a read would have said so. On the IO thread.
     */
    void abort(IOException failure) {
        if (!done) fail(failure);
    }

    @Override
    public void request(long n) {
        onThread(() -> {
            if (done || n <= 0) return;
            demand = demand + n < 0 ? Long.MAX_VALUE : demand + n;
            pump();
        });
    }

    @Override
    public void cancel() {
        onThread(() -> {
            if (done) return;
            done = true;
            channel.suspendReads();
            // A body with nothing left (HEAD, 204, 304, or read to its length) leaves a reusable connection.
            boolean nothingLeft = contentLength >= 0 && received >= contentLength;
            ending.ended(nothingLeft && drainedToEnd());
        });
    }

    /**
     * Reads while there is demand. A consumer that writes synchronously asks for more from inside
     * {@code onNext}; the {@code pumping} flag turns that recursion into this loop, so a long body
     * cannot grow the stack.
     */
    private void pump() {
        if (pumping) return;
        pumping = true;
        try {
            while (!done && demand > 0) {
                ByteBuffer buffer = ByteBuffer.allocate(nextSize());
                int n;
                try {
                    n = channel.read(buffer);
                } catch (IOException e) {
                    fail(e);
                    return;
                }
                if (n == 0) {
                    awaitReadable();
                    return;
                }
                if (n < 0) {
                    if (contentLength >= 0 && received < contentLength) {
                        fail(new IOException("upstream closed the connection after " + received + " of " + contentLength
                                + " body bytes"));
                    } else {
                        complete();
                    }
                    return;
                }
                buffer.flip();
                received += n;
                demand--;
                subscriber.onNext(List.of(buffer));
                // The last byte of a sized body: end now rather than after one more round of demand, so
                // the connection goes back to the pool before the consumer has even written it out.
                if (!done && contentLength >= 0 && received >= contentLength) {
                    complete();
                    return;
                }
            }
        } finally {
            pumping = false;
        }
    }

    private int nextSize() {
        if (contentLength < 0) return CHUNK;
        long left = contentLength - received;
        return (int) Math.max(1, Math.min(left, left <= MAX_EXACT ? MAX_EXACT : CHUNK));
    }

    private void awaitReadable() {
        channel.getReadSetter().set(ch -> {
            ch.suspendReads();
            pump();
        });
        channel.resumeReads();
    }

    private void complete() {
        done = true;
        // Undertow hands the connection back (or closes it, for "Connection: close") once the body's
        // framing says it has ended; a read past the end is what tells a chunked body's conduit so.
        boolean reusable = drainedToEnd();
        ending.ended(reusable);
        subscriber.onComplete();
    }

    private boolean drainedToEnd() {
        try {
            int n = channel.read(ByteBuffer.allocate(1));
            if (n > 0) received += n; // past its length: the byte was taken out all the same
            return n < 0;
        } catch (IOException e) {
            return false;
        }
    }

    /** The body bytes read out of the channel so far. On the IO thread. */
    long received() {
        return received;
    }

    private void fail(IOException e) {
        done = true;
        ending.ended(false);
        if (subscriber != null) {
            subscriber.onError(e);
        } else {
            failedUnread = e;
        }
    }

    private void onThread(Runnable task) {
        if (Thread.currentThread() == thread) {
            task.run();
        } else {
            thread.execute(task);
        }
    }
}
