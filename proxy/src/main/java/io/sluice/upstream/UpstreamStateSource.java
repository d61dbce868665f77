package io.sluice.upstream;

/**
 * A stage that holds per-upstream runtime state (the concurrency cap's in-flight and queued calls,
 * token buckets, cooldowns, the cache): it describes that state, and is told when an operator
 * changes an upstream's policy so the change applies at once (a raised cap admits waiters now, a
 * bucket gets {@code replaceConfiguration}) rather than at the upstream's next request. The admin API and the metrics gauges
 * ask every source in turn, each filling in what it knows; one that has never seen the upstream
 * fills in its idle values or nothing.
 *
 * <p>Implementations must be cheap, non-blocking and must not throw: they are read on every admin
 * poll and every Prometheus scrape.
 */
@FunctionalInterface
public interface UpstreamStateSource {
    void describe(String upstream, LiveState into);

    /** {@code upstream} now has a new policy (called after the swap in {@link Upstreams}). */
    default void policyChanged(Upstream upstream) {}
}
