package io.sluice.cache;

import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.atomic.AtomicLong;

/**
 * Copies a body that is streaming to its client, for storing, up to the per-entry limit and within
 * the cache-wide budget for bodies being accumulated (Caffeine weighs an entry only once it is
 * stored, so without this budget a burst of large misses could hold unbounded memory). Once either
 * limit is passed it lets go of what it holds and the body is simply not stored.
 */
final class Accumulator {
    private final long maxBytes;
    private final Budget budget;
    private List<byte[]> chunks = new ArrayList<>();
    private long size;
    private boolean abandoned;
    private boolean overLimit;

    Accumulator(long maxBytes, Budget budget) {
        this.maxBytes = maxBytes;
        this.budget = budget;
    }

    /** Copies {@code buffers} (leaving their positions alone); false once the body will not be stored. */
    synchronized boolean offer(List<ByteBuffer> buffers) {
        if (abandoned) return false;
        long n = 0;
        for (ByteBuffer b : buffers) n += b.remaining();
        if (size + n > maxBytes || !budget.tryReserve(n)) {
            overLimit = true;
            abandon();
            return false;
        }
        for (ByteBuffer b : buffers) {
            byte[] copy = new byte[b.remaining()];
            b.duplicate().get(copy);
            chunks.add(copy);
        }
        size += n;
        return true;
    }

    /** The whole body; releases the budget. */
    synchronized byte[] finish() {
        if (abandoned) throw new IllegalStateException("abandoned");
        byte[] out = new byte[(int) size];
        int at = 0;
        for (byte[] chunk : chunks) {
            System.arraycopy(chunk, 0, out, at, chunk.length);
            at += chunk.length;
        }
        release();
        return out;
    }

    synchronized void abandon() {
        if (abandoned) return;
        abandoned = true;
        release();
    }

    /** Whether it gave up because the body is too large (rather than because the body ended badly). */
    synchronized boolean overLimit() {
        return overLimit;
    }

    private void release() {
        budget.release(size);
        size = 0;
        chunks = List.of();
    }

    /** Bytes held by all accumulators at once, capped by {@code cache.max_in_flight}. */
    static final class Budget {
        private final long capacity;
        private final AtomicLong used = new AtomicLong();

        Budget(long capacity) {
            this.capacity = capacity;
        }

        boolean tryReserve(long n) {
            while (true) {
                long now = used.get();
                if (now + n > capacity) return false;
                if (used.compareAndSet(now, now + n)) return true;
            }
        }

        void release(long n) {
            used.addAndGet(-n);
        }

        long used() {
            return used.get();
        }
    }
}
