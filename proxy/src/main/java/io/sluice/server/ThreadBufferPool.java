package io.sluice.server;

import io.undertow.connector.ByteBufferPool;
import io.undertow.connector.PooledByteBuffer;
import java.lang.invoke.MethodHandles;
import java.lang.invoke.VarHandle;
import java.nio.ByteBuffer;
import java.util.ArrayDeque;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * The I/O buffers of the data port and of the cleartext upstream connections, kept per thread.
 *
 * <p>Undertow 2.4's {@code DefaultByteBufferPool} finds the calling thread's cache in a
 * {@code synchronized} {@code WeakHashMap} on every allocation and every free (so that the caches of
 * virtual threads can be reclaimed), and the data port's IO threads take that one lock several times
 * a request: 1.6% of Sluice's CPU in a profile of bare passthrough. The threads that touch these
 * buffers are the IO threads and, now and then, a thread of Sluice's fixed worker pool — platform
 * threads, few and as long-lived as the server — so a plain {@link ThreadLocal} holds each one's
 * free list (at most {@code perThread} buffers). A buffer freed beyond a thread's share goes to a
 * queue all threads share, and beyond that to the collector; a virtual thread keeps no list of its
 * own, since it would die with it.
 */
public final class ThreadBufferPool implements ByteBufferPool {
    private static final VarHandle BUFFER;

    static {
        try {
            BUFFER = MethodHandles.lookup().findVarHandle(Pooled.class, "buffer", ByteBuffer.class);
        } catch (ReflectiveOperationException e) {
            throw new ExceptionInInitializerError(e);
        }
    }

    private final boolean direct;
    private final int bufferSize;
    private final int perThread;
    private final int sharedMax;
    private final ThreadLocal<ArrayDeque<ByteBuffer>> local = ThreadLocal.withInitial(ArrayDeque::new);
    private final ConcurrentLinkedQueue<ByteBuffer> shared = new ConcurrentLinkedQueue<>();
    private final AtomicInteger sharedCount = new AtomicInteger();
    /** Handed out and not yet freed; a LongAdder, since every IO thread touches it on every buffer. */
    private final java.util.concurrent.atomic.LongAdder inUse = new java.util.concurrent.atomic.LongAdder();

    private final ThreadBufferPool arrayBacked;
    private volatile boolean closed;

    /**
     * @param perThread buffers a thread keeps for itself once freed
     * @param sharedMax buffers kept beyond those, for any thread
     */
    public ThreadBufferPool(boolean direct, int bufferSize, int perThread, int sharedMax) {
        if (bufferSize <= 0 || perThread < 0 || sharedMax < 0) {
            throw new IllegalArgumentException("buffer size must be positive and the counts not negative");
        }
        this.direct = direct;
        this.bufferSize = bufferSize;
        this.perThread = perThread;
        this.sharedMax = sharedMax;
        this.arrayBacked = direct ? new ThreadBufferPool(false, bufferSize, perThread, sharedMax) : this;
    }

    @Override
    public PooledByteBuffer allocate() {
        if (closed) throw new IllegalStateException("buffer pool is closed");
        ByteBuffer buffer =
                Thread.currentThread().isVirtual() ? null : local.get().pollLast();
        if (buffer == null) {
            buffer = shared.poll();
            if (buffer != null) sharedCount.decrementAndGet();
        }
        if (buffer == null) {
            buffer = direct ? ByteBuffer.allocateDirect(bufferSize) : ByteBuffer.allocate(bufferSize);
        }
        inUse.increment();
        return new Pooled(buffer);
    }

    /**
     * Buffers handed out by this pool and its array-backed twin and not freed yet: what is held by
     * open connections and exchanges now. Back to its idle level when nothing leaks
     * ({@code sluice_buffers_in_use}).
     */
    public long inUse() {
        return inUse.sum() + (arrayBacked != this ? arrayBacked.inUse() : 0);
    }

    private void free(ByteBuffer buffer) {
        inUse.decrement();
        if (closed) return;
        buffer.clear();
        if (!Thread.currentThread().isVirtual()) {
            ArrayDeque<ByteBuffer> mine = local.get();
            if (mine.size() < perThread) {
                mine.addLast(buffer);
                return;
            }
        }
        if (sharedCount.incrementAndGet() <= sharedMax) {
            shared.offer(buffer);
        } else {
            sharedCount.decrementAndGet();
        }
    }

    @Override
    public ByteBufferPool getArrayBackedPool() {
        return arrayBacked;
    }

    @Override
    public void close() {
        closed = true;
        shared.clear();
        if (arrayBacked != this) arrayBacked.close();
    }

    @Override
    public int getBufferSize() {
        return bufferSize;
    }

    @Override
    public boolean isDirect() {
        return direct;
    }

    private final class Pooled implements PooledByteBuffer {
        private volatile ByteBuffer buffer;

        Pooled(ByteBuffer buffer) {
            this.buffer = buffer;
        }

        @Override
        public ByteBuffer getBuffer() {
            ByteBuffer current = buffer;
            if (current == null) throw new IllegalStateException("buffer already freed");
            return current;
        }

        /** Frees the buffer once, however many times and from however many threads it is called. */
        @Override
        public void close() {
            ByteBuffer current = (ByteBuffer) BUFFER.getAndSet(this, null);
            if (current != null) free(current);
        }

        @Override
        public boolean isOpen() {
            return buffer != null;
        }
    }
}
