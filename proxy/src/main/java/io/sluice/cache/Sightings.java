package io.sluice.cache;

import io.sluice.cache.Keys.ResourceKey;
import java.util.concurrent.atomic.AtomicLongArray;

/**
 * Roughly how often each resource was asked for lately, to tell a URL that comes back from one
 * that is asked for once (TinyLFU's "doorkeeper"). A fixed table of slots, each holding a hash tag
 * of the last resource that landed there and a count up to 3; a resource that lands on a taken slot
 * takes it over. So the table forgets, and it can confuse two resources: either mistake only moves
 * the moment a response is first stored by one request, never what is served.
 *
 * <p>Counts are read and written without locking; a race loses a count, with the same harmless effect.
 */
final class Sightings {
    private static final int SLOTS = 1 << 16;
    private static final long COUNT = 3;

    private final AtomicLongArray slots = new AtomicLongArray(SLOTS);

    /** Notes one request for {@code key}. */
    void record(ResourceKey key) {
        long hash = hash(key);
        int slot = slot(hash);
        long tag = hash & ~COUNT;
        long old = slots.getPlain(slot);
        long count = (old & ~COUNT) == tag ? Math.min(COUNT, (old & COUNT) + 1) : 1;
        slots.setPlain(slot, tag | count);
    }

    /** How often {@code key} was recorded (up to 3) since its slot was last taken over. */
    int count(ResourceKey key) {
        long hash = hash(key);
        long value = slots.getPlain(slot(hash));
        return (value & ~COUNT) == (hash & ~COUNT) ? (int) (value & COUNT) : 0;
    }

    private static long hash(ResourceKey key) {
        // Spread the 32-bit hash over 64 bits (Fibonacci hashing): the top bits pick the slot.
        return (key.hashCode() & 0xFFFF_FFFFL) * 0x9E37_79B9_7F4A_7C15L;
    }

    private static int slot(long hash) {
        return (int) (hash >>> 48) & (SLOTS - 1);
    }
}
