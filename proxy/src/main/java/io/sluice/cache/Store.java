package io.sluice.cache;

import com.github.benmanes.caffeine.cache.Cache;
import com.github.benmanes.caffeine.cache.Caffeine;
import com.github.benmanes.caffeine.cache.Expiry;
import io.sluice.cache.Keys.ResourceKey;
import io.sluice.fetch.Fields;
import io.sluice.time.TimeSource;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import java.util.Map;
import java.util.TreeSet;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.AtomicLongArray;
import java.util.function.Predicate;

/**
 * The stored responses: a Caffeine cache bounded by bytes, one value per resource holding all its
 * variants (one per credential and {@code Vary} selection), so that invalidating a URL (RFC 9111
 * §4.4) is a single removal. Caffeine's expiry follows each resource's last useful instant; whether
 * an entry is fresh is this package's bookkeeping, not Caffeine's.
 */
final class Store {
    /** Variants kept per resource; beyond it the oldest go, so one URL cannot crowd out the rest. */
    static final int MAX_VARIANTS = 32;

    private static final int INVALIDATION_STRIPES = 1024;

    private final Cache<ResourceKey, Variants> cache;
    private final ConcurrentHashMap<String, Counters> counters = new ConcurrentHashMap<>();
    private final TimeSource time;
    /** Bumped by purges: a response fetched before a purge is not stored after it. */
    private final AtomicLong purges = new AtomicLong();
    /**
     * Bumped when a URL is invalidated, one counter per stripe of keys: a response fetched before
     * an unsafe request changed its resource is not stored after it. Stripes share counters, so an
     * invalidation may also keep another URL's in-flight response from being stored; that costs a
     * miss, never a wrong answer.
     */
    private final AtomicLongArray invalidations = new AtomicLongArray(INVALIDATION_STRIPES);

    private final AtomicLong sequence = new AtomicLong();

    Store(long maxBytes, TimeSource time) {
        this.time = time;
        this.cache = Caffeine.newBuilder()
                .ticker(time::nanoTime)
                // Maintenance (eviction, expiry) runs amortised on the writing thread. Handed to a pool, a
                // cache filling with misses woke a worker for nearly every write: ~2 context switches
                // per request and a p99 of 50-100 ms in the limits+cache benchmark. Nothing Caffeine
                // runs here blocks: the eviction listener only adjusts a counter.
                .executor(Runnable::run)
                .maximumWeight(maxBytes)
                .weigher((ResourceKey key, Variants value) -> (int) Math.min(Integer.MAX_VALUE, value.weight()))
                .expireAfter(new Expiry<ResourceKey, Variants>() {
                    @Override
                    public long expireAfterCreate(ResourceKey key, Variants value, long currentTime) {
                        return Math.max(0, Entry.saturatedAdd(value.retainUntilNanos(), -currentTime));
                    }

                    @Override
                    public long expireAfterUpdate(
                            ResourceKey key, Variants value, long currentTime, long currentDuration) {
                        return Math.max(0, Entry.saturatedAdd(value.retainUntilNanos(), -currentTime));
                    }

                    @Override
                    public long expireAfterRead(
                            ResourceKey key, Variants value, long currentTime, long currentDuration) {
                        return currentDuration;
                    }
                })
                // Runs inside the atomic eviction, so the byte count never drifts.
                .evictionListener(
                        (ResourceKey key, Variants value, com.github.benmanes.caffeine.cache.RemovalCause c) -> {
                            if (key != null && value != null)
                                counters(key.upstream()).bytesStored.add(-value.weight());
                        })
                .build();
    }

    Counters counters(String upstream) {
        return counters.computeIfAbsent(upstream, name -> new Counters());
    }

    Map<String, Counters> allCounters() {
        return counters;
    }

    /** A number that orders validations; see {@link Entry#sequence}. */
    long nextSequence() {
        return sequence.incrementAndGet();
    }

    long currentSequence() {
        return sequence.get();
    }

    /**
     * A value that changes whenever {@code key} may have been invalidated or purged; taken when a
     * request arrives and checked again when its response would be stored.
     */
    long stamp(ResourceKey key) {
        return purges.get() + invalidations.get(stripe(key));
    }

    private static int stripe(ResourceKey key) {
        return (key.hashCode() & 0x7fffffff) % INVALIDATION_STRIPES;
    }

    /** The newest variant of {@code key} that may answer this request and is still of some use. */
    Entry select(ResourceKey key, String credential, Fields requestHeaders, long now) {
        Variants variants = cache.getIfPresent(key);
        if (variants == null) return null;
        for (Entry e : variants.entries()) {
            if (e.retainUntilNanos() > now && e.matches(credential, requestHeaders)) return e;
        }
        return null;
    }

    /**
     * The fields all variants of {@code key} select on, for coalescing requests before anything is
     * known: requests that differ in them may get different answers and are not collapsed.
     */
    String varyFingerprint(ResourceKey key, Fields requestHeaders) {
        Variants variants = cache.getIfPresent(key);
        if (variants == null) return "";
        TreeSet<String> fields = new TreeSet<>();
        for (Entry e : variants.entries()) fields.addAll(e.vary.keySet());
        if (fields.isEmpty()) return "";
        StringBuilder out = new StringBuilder();
        for (String field : fields)
            out.append(field)
                    .append('=')
                    .append(Keys.varyValue(requestHeaders, field))
                    .append('\n');
        return out.toString();
    }

    /**
     * Stores {@code entry} as the variant for the request that produced it, replacing whatever that
     * request would have selected. Nothing is stored if {@code key} was purged or invalidated since
     * {@code stamp} was taken.
     */
    void put(ResourceKey key, Entry entry, Fields requestHeaders, long stamp) {
        long now = time.nanoTime();
        if (entry.retainUntilNanos() <= now) return;
        Counters c = counters(key.upstream());
        cache.asMap().compute(key, (k, old) -> {
            if (stamp(k) != stamp) return old;
            List<Entry> next = new ArrayList<>();
            next.add(entry);
            if (old != null) {
                for (Entry e : old.entries()) {
                    if (next.size() >= MAX_VARIANTS) break;
                    if (e.retainUntilNanos() > now && !e.matches(entry.credential, requestHeaders)) next.add(e);
                }
            }
            Variants updated = new Variants(next);
            c.bytesStored.add(updated.weight() - (old == null ? 0 : old.weight()));
            return updated;
        });
    }

    /** Removes the variant this request would select (the origin no longer lets it be stored). */
    void remove(ResourceKey key, String credential, Fields requestHeaders) {
        Counters c = counters(key.upstream());
        cache.asMap().computeIfPresent(key, (k, old) -> {
            List<Entry> next = new ArrayList<>();
            for (Entry e : old.entries()) if (!e.matches(credential, requestHeaders)) next.add(e);
            Variants updated = next.isEmpty() ? null : new Variants(next);
            c.bytesStored.add((updated == null ? 0 : updated.weight()) - old.weight());
            return updated;
        });
    }

    /** Removes every variant of {@code key}; returns how many there were. */
    int invalidate(ResourceKey key) {
        invalidations.incrementAndGet(stripe(key));
        Variants removed = cache.asMap().remove(key);
        if (removed == null) return 0;
        counters(key.upstream()).bytesStored.add(-removed.weight());
        return removed.entries().size();
    }

    /** Resources (URLs, each with its variants) stored for {@code upstream}; walks the map, for scrapes. */
    long resources(String upstream) {
        return cache.asMap().keySet().stream()
                .filter(k -> k.upstream().equals(upstream))
                .count();
    }

    /** Removes every resource {@code which} selects; returns how many stored responses went. */
    long purge(Predicate<ResourceKey> which) {
        purges.incrementAndGet();
        long count = 0;
        for (Iterator<ResourceKey> it = cache.asMap().keySet().iterator(); it.hasNext(); ) {
            ResourceKey key = it.next();
            if (which.test(key)) count += invalidate(key);
        }
        return count;
    }

    /** Bytes stored now (Caffeine's weighted size, after pending maintenance). */
    long weightedSize() {
        cache.cleanUp();
        return cache.policy().eviction().map(e -> e.weightedSize().orElse(0)).orElse(0L);
    }

    long resources() {
        cache.cleanUp();
        return cache.estimatedSize();
    }

    /** A resource's variants, newest first; immutable. */
    record Variants(List<Entry> entries, long weight, long retainUntilNanos) {
        Variants(List<Entry> entries) {
            this(List.copyOf(entries), weightOf(entries), retainUntil(entries));
        }

        private static long weightOf(List<Entry> entries) {
            long w = 0;
            for (Entry e : entries) w += e.weight();
            return w;
        }

        private static long retainUntil(List<Entry> entries) {
            long until = Long.MIN_VALUE;
            for (Entry e : entries) until = Math.max(until, e.retainUntilNanos());
            return until;
        }
    }
}
