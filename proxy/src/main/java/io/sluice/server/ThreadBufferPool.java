package io.sluice.server;

import io.sluice.time.IoThreadLocal;
import io.undertow.connector.ByteBufferPool;
import io.undertow.connector.PooledByteBuffer;
import java.lang.invoke.MethodHandles;
import java.lang.invoke.VarHandle;
import java.nio.ByteBuffer;
import java.util.ArrayDeque;
import java.util.Queue;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.LongAdder;

/**
 * The I/O buffers of the data port and of the cleartext upstream connections, kept per thread.
 *
 * <p>Undertow 2.4's {@code DefaultByteBufferPool} finds the calling thread's cache in a
 * {@code synchronized} {@code WeakHashMap} on every allocation and every free (so that the caches of
 * virtual threads can be reclaimed), and the data port's IO threads take that one lock several times
 * a request: 1.6% of Sluice's CPU in a profile of bare passthrough. The threads that touch these
 * buffers are the IO threads and, now and then, a thread of Sluice's fixed worker pool — platform
 * threads, few and as long-lived as the server — so each keeps a free list of its own (at most {@code
 * perThread} buffers): an IO thread's is found by its number ({@link IoThreadLocal}), with its count of
 * buffers out, which only it writes; any other thread's in a plain {@link ThreadLocal}. A buffer freed
 * beyond a thread's share goes to a queue all threads share, and beyond that to the collector; a
 * virtual thread keeps no list of its own, since it would die with it.
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
    /** The IO threads' lists and counts, each registered in {@link #ioLists} for {@link #inUse}. */
    private final IoThreadLocal<IoList> io = new IoThreadLocal<>(thread -> register(new IoList()));

    private final Queue<IoList> ioLists = new ConcurrentLinkedQueue<>();
    private final ThreadLocal<ArrayDeque<ByteBuffer>> local = ThreadLocal.withInitial(ArrayDeque::new);
    private final ConcurrentLinkedQueue<ByteBuffer> shared = new ConcurrentLinkedQueue<>();
    private final AtomicInteger sharedCount = new AtomicInteger();
    /** Taken less freed by threads other than IO threads (a buffer may be freed on another thread). */
    private final LongAdder othersOut = new LongAdder();

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
        IoList mine = io.get();
        ByteBuffer buffer;
        if (mine != null) {
            mine.count(1);
            buffer = mine.buffers.pollLast();
        } else {
            othersOut.increment();
            buffer = Thread.currentThread().isVirtual() ? null : local.get().pollLast();
        }
        if (buffer == null) {
            buffer = shared.poll();
            if (buffer != null) sharedCount.decrementAndGet();
        }
        if (buffer == null) {
            buffer = direct ? ByteBuffer.allocateDirect(bufferSize) : ByteBuffer.allocate(bufferSize);
        }
        return new Pooled(buffer);
    }

    /**
     * Buffers handed out by this pool and its array-backed twin and not freed yet: what is held by
     * open connections and exchanges now. Back to its idle level when nothing leaks
     * ({@code sluice_buffers_in_use}).
     */
    public long inUse() {
        long out = othersOut.sum();
        for (IoList list : ioLists) out += list.out();
        return out + (arrayBacked != this ? arrayBacked.inUse() : 0);
    }

    private void free(ByteBuffer buffer) {
        IoList mine = io.get();
        ArrayDeque<ByteBuffer> list;
        if (mine != null) {
            mine.count(-1);
            list = mine.buffers;
        } else {
            othersOut.decrement();
            list = Thread.currentThread().isVirtual() ? null : local.get();
        }
        if (closed) return;
        buffer.clear();
        if (list != null && list.size() < perThread) {
            list.addLast(buffer);
            return;
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

    private IoList register(IoList list) {
        ioLists.add(list);
        return list;
    }

    /** An IO thread's free buffers and its count of buffers taken less those it freed: only it writes them. */
    private static final class IoList {
        private static final VarHandle OUT;

        static {
            try {
                OUT = MethodHandles.lookup().findVarHandle(IoList.class, "out", long.class);
            } catch (ReflectiveOperationException e) {
                throw new ExceptionInInitializerError(e);
            }
        }

        final ArrayDeque<ByteBuffer> buffers = new ArrayDeque<>();

        @SuppressWarnings("unused") // through OUT
        private long out;

        /** On the owning thread: no other thread writes, so an opaque store (no fence) is enough. */
        void count(long delta) {
            OUT.setOpaque(this, (long) OUT.getOpaque(this) + delta);
        }

        /** From any thread: the last count written, or one a little older. */
        long out() {
            return (long) OUT.getOpaque(this);
        }
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
