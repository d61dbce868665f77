package io.sluice.upstream;

/**
 * A stage that holds per-upstream runtime state (the concurrency cap's in-flight and queued calls,
 * token buckets, cooldowns, the cache) and can describe it. The admin API and the metrics gauges
 * ask every source in turn, each filling in what it knows; one that has never seen the upstream
 * fills in its idle values or nothing.
 *
 * <p>Implementations must be cheap, non-blocking and must not throw: they are read on every admin
 * poll and every Prometheus scrape.
 */
@FunctionalInterface
public interface UpstreamStateSource {
    void describe(String upstream, LiveState into);
}
