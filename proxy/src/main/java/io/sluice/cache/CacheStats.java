package io.sluice.cache;

/**
 * One upstream's cache counters since start (for metrics and the admin API).
 *
 * @param hits requests answered from a fresh stored response (or a stale one the client accepted
 *     with {@code max-stale})
 * @param misses requests forwarded because nothing usable was stored
 * @param stale requests answered with a stale response ({@code stale-while-revalidate},
 *     {@code stale-if-error})
 * @param revalidated requests answered from a stored response after the upstream confirmed it (304)
 * @param coalesced requests that waited for an identical request already on its way upstream
 *     instead of sending their own
 * @param bypassed requests the cache did not handle (method, policy, client {@code no-store})
 * @param bytesServed body bytes served from the cache
 * @param bytesStored bytes the upstream's entries occupy now (bodies, fields and overhead)
 */
public record CacheStats(
        long hits,
        long misses,
        long stale,
        long revalidated,
        long coalesced,
        long bypassed,
        long bytesServed,
        long bytesStored) {

    public static final CacheStats EMPTY = new CacheStats(0, 0, 0, 0, 0, 0, 0, 0);

    /** Hits (fresh, stale and revalidated) over all requests the cache handled; 0 when none. */
    public double hitRatio() {
        long served = hits + stale + revalidated + coalesced;
        long total = served + misses;
        return total == 0 ? 0 : (double) served / total;
    }
}
