package io.sluice.cache;

import java.util.concurrent.atomic.LongAdder;

/** One upstream's cache counters; {@link CacheStats} is their snapshot. */
final class Counters {
    final LongAdder hits = new LongAdder();
    final LongAdder misses = new LongAdder();
    final LongAdder stale = new LongAdder();
    final LongAdder revalidated = new LongAdder();
    final LongAdder coalesced = new LongAdder();
    final LongAdder bypassed = new LongAdder();
    final LongAdder bytesServed = new LongAdder();
    final LongAdder bytesStored = new LongAdder();

    CacheStats snapshot() {
        return new CacheStats(
                hits.sum(),
                misses.sum(),
                stale.sum(),
                revalidated.sum(),
                coalesced.sum(),
                bypassed.sum(),
                bytesServed.sum(),
                bytesStored.sum());
    }
}
