package io.sluice.time;

import java.util.concurrent.atomic.AtomicReferenceArray;
import java.util.function.Function;
import org.xnio.XnioIoThread;

/**
 * A value of each XNIO IO thread's own, found by the thread's number instead of by a {@link ThreadLocal}'s
 * hash lookup. The IO threads' timers ({@link SystemTimeSource}) and I/O buffers ({@code
 * server/ThreadBufferPool}) are looked up several times a request, and a profile of HTTPS passthrough
 * had the {@code ThreadLocal} lookups alone at ~3 % of the IO threads' samples: a thread's map of thread
 * locals is a table that other work keeps pushing out of the cache. A slot here is one array element,
 * read next to the thread object the caller already has.
 *
 * <p>A slot is taken by the first IO thread of its number to ask (IO threads are numbered from 0 within
 * their XNIO worker) and handed on once that thread has ended, as when a server stops and another
 * starts in the same process. An IO thread whose number another live thread holds (a second worker's),
 * and one numbered past the slots, get their value from a {@code ThreadLocal} instead: slower, never
 * shared. Threads that are not IO threads get null.
 */
public final class IoThreadLocal<T> {
    private static final int SLOTS = 64;

    private record Slot<T>(Thread owner, T value) {}

    private final Function<XnioIoThread, T> initial;
    private final AtomicReferenceArray<Slot<T>> slots = new AtomicReferenceArray<>(SLOTS);
    private final ThreadLocal<T> others = new ThreadLocal<>();

    /** {@code initial} makes an IO thread's value the first time that thread asks, on that thread. */
    public IoThreadLocal(Function<XnioIoThread, T> initial) {
        this.initial = initial;
    }

    /** The calling IO thread's value (made on its first call), or null on any other thread. */
    public T get() {
        if (!(Thread.currentThread() instanceof XnioIoThread io)) return null;
        int number = io.getNumber();
        if (number >= 0 && number < SLOTS) {
            Slot<T> slot = slots.getPlain(number);
            if (slot != null && slot.owner() == io) return slot.value();
            return claim(io, number, slot);
        }
        return other(io);
    }

    private T claim(XnioIoThread io, int number, Slot<T> seen) {
        if (seen == null || !seen.owner().isAlive()) {
            Slot<T> mine = new Slot<>(io, initial.apply(io));
            if (slots.compareAndSet(number, seen, mine)) return mine.value();
        }
        return other(io);
    }

    private T other(XnioIoThread io) {
        T value = others.get();
        if (value == null) {
            value = initial.apply(io);
            others.set(value);
        }
        return value;
    }
}
