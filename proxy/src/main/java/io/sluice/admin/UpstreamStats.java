package io.sluice.admin;

import io.sluice.fetch.Call;
import io.sluice.fetch.ErrorType;
import io.sluice.fetch.FetchFailure;
import io.sluice.fetch.FetchListener;
import io.sluice.fetch.FetchOutcome;
import io.sluice.fetch.FetchResponse;
import io.sluice.time.TimeSource;
import java.util.concurrent.ConcurrentHashMap;

/**
 * The admin's rolling view of each upstream over the last minute, in one-second slots: request and
 * throttling rates, latency percentiles and the cache hit ratio. Prometheus keeps the long history;
 * this answers "what is happening now" for the admin API and UI without a metrics backend.
 *
 * <p>Latencies go into log-spaced buckets (each 15% wider than the last), so a percentile is exact
 * to within that step; good enough to read, and constant in memory.
 */
public final class UpstreamStats implements FetchListener {
    static final int WINDOW_SECONDS = 60;
    /** Rates are averaged over about this many recent seconds, so a dashboard reacts within a poll or two. */
    static final int RATE_SECONDS = 10;

    private static final double FIRST_BUCKET_MS = 0.1;
    private static final double GROWTH = 1.15;
    private static final int BUCKETS = 110; // up to ~0.1 ms * 1.15^110 ≈ 470 s

    private final TimeSource time;
    private final long originNanos;
    private final ConcurrentHashMap<String, Window> windows = new ConcurrentHashMap<>();

    public UpstreamStats(TimeSource time) {
        this.time = time;
        this.originNanos = time.nanoTime();
    }

    @Override
    public void callEnd(Call call, FetchOutcome outcome, long elapsedNanos) {
        String upstream = outcome.trace().upstream();
        if (upstream.isEmpty()) return;
        boolean throttled = switch (outcome) {
            case FetchResponse r -> r.status() == 429;
            case FetchFailure f -> f.type() == ErrorType.RATE_LIMITED;
        };
        boolean failed = outcome instanceof FetchFailure f && f.type() != ErrorType.RATE_LIMITED;
        String cache = outcome.trace().cacheStatus();
        windows.computeIfAbsent(upstream, name -> new Window())
                .record(
                        second(),
                        elapsedNanos,
                        throttled,
                        failed,
                        cache,
                        outcome.trace().via());
    }

    /** The last minute of {@code upstream}. */
    public Snapshot snapshot(String upstream) {
        Window window = windows.get(upstream);
        return window == null ? Snapshot.EMPTY : window.snapshot(time.nanoTime() - originNanos);
    }

    /** Forgets a removed upstream (a new one of the same name starts from nothing). */
    public void forget(String upstream) {
        windows.remove(upstream);
    }

    private long second() {
        return (time.nanoTime() - originNanos) / 1_000_000_000L;
    }

    static int bucketOf(double ms) {
        if (ms <= FIRST_BUCKET_MS) return 0;
        int b = (int) Math.ceil(Math.log(ms / FIRST_BUCKET_MS) / Math.log(GROWTH));
        return Math.min(BUCKETS - 1, b);
    }

    static double upperBoundMs(int bucket) {
        return FIRST_BUCKET_MS * Math.pow(GROWTH, bucket);
    }

    /**
     * Per-second rates over the last {@value #RATE_SECONDS} s; latency percentiles and hit ratio
     * over the last {@value #WINDOW_SECONDS} s ({@code NaN} when there was nothing to measure).
     */
    public record Snapshot(
            double requestsPerSecond,
            double throttledPerSecond,
            double errorsPerSecond,
            long requestsInWindow,
            double p50Ms,
            double p99Ms,
            double cacheHitRatio,
            long interceptedInWindow,
            long tunnelsInWindow) {
        static final Snapshot EMPTY = new Snapshot(0, 0, 0, 0, Double.NaN, Double.NaN, Double.NaN, 0, 0);
    }

    private static final class Window {
        private final Slot[] slots = new Slot[WINDOW_SECONDS];

        Window() {
            for (int i = 0; i < slots.length; i++) slots[i] = new Slot();
        }

        synchronized void record(
                long second, long elapsedNanos, boolean throttled, boolean failed, String cache, String via) {
            Slot slot = slots[(int) (second % WINDOW_SECONDS)];
            if (slot.second != second) slot.reset(second);
            slot.requests++;
            if ("intercepted".equals(via)) slot.intercepted++;
            else if ("tunnel".equals(via)) slot.tunnels++;
            if (throttled) slot.throttled++;
            if (failed) slot.errors++;
            if (!"bypass".equals(cache)) {
                slot.cacheLookups++;
                if ("hit".equals(cache) || "stale".equals(cache)) slot.cacheHits++;
            }
            slot.latency[bucketOf(elapsedNanos / 1e6)]++;
        }

        synchronized Snapshot snapshot(long elapsedNanos) {
            long now = elapsedNanos / 1_000_000_000L;
            long requests = 0, recent = 0, throttled = 0, errors = 0, lookups = 0, hits = 0;
            long intercepted = 0, tunnels = 0;
            long[] latency = new long[BUCKETS];
            for (Slot slot : slots) {
                long age = now - slot.second;
                if (slot.second < 0 || age < 0 || age >= WINDOW_SECONDS) continue;
                requests += slot.requests;
                intercepted += slot.intercepted;
                tunnels += slot.tunnels;
                lookups += slot.cacheLookups;
                hits += slot.cacheHits;
                for (int b = 0; b < BUCKETS; b++) latency[b] += slot.latency[b];
                if (age < RATE_SECONDS) {
                    recent += slot.requests;
                    throttled += slot.throttled;
                    errors += slot.errors;
                }
            }
            // The current second is still filling: count it, and only the part of it that has passed.
            double fraction = (elapsedNanos % 1_000_000_000L) / 1e9;
            double span = Math.max(1.0, Math.min(RATE_SECONDS - 1, now) + fraction);
            return new Snapshot(
                    recent / span,
                    throttled / span,
                    errors / span,
                    requests,
                    percentile(latency, requests, 0.50),
                    percentile(latency, requests, 0.99),
                    lookups == 0 ? Double.NaN : (double) hits / lookups,
                    intercepted,
                    tunnels);
        }

        private static double percentile(long[] latency, long count, double q) {
            if (count == 0) return Double.NaN;
            long rank = (long) Math.ceil(q * count);
            long seen = 0;
            for (int b = 0; b < latency.length; b++) {
                seen += latency[b];
                if (seen >= rank) return upperBoundMs(b);
            }
            return upperBoundMs(latency.length - 1);
        }
    }

    private static final class Slot {
        long second = -1;
        long requests;
        long throttled;
        long errors;
        long cacheLookups;
        long cacheHits;
        long intercepted;
        long tunnels;
        final long[] latency = new long[BUCKETS];

        void reset(long second) {
            this.second = second;
            requests = throttled = errors = cacheLookups = cacheHits = intercepted = tunnels = 0;
            java.util.Arrays.fill(latency, 0);
        }
    }
}
