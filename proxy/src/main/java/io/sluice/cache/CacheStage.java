package io.sluice.cache;

import io.sluice.config.CacheConfig;
import io.sluice.fetch.FetchResponse;
import io.sluice.fetch.Stage;
import io.sluice.fetch.Trace;
import io.sluice.time.TimeSource;
import io.sluice.upstream.LiveState;
import io.sluice.upstream.UpstreamStateSource;
import java.net.URI;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.Executor;

/**
 * The response cache stage: answers from stored responses when RFC 9111 allows, collapses
 * identical concurrent misses into one upstream call, revalidates, serves stale where the upstream
 * permits, stores what may be stored while it streams to the client, and invalidates on unsafe
 * methods. Every response it returns carries a {@code Cache-Status} member (RFC 9211) and sets
 * {@link Trace#cacheStatus}.
 *
 * <p>It sits after the upstream is resolved and before admission, so a hit spends no token and
 * takes no concurrency slot. It also serves the admin API ({@link #purgeAll}, {@link
 * #purgeUpstream}, {@link #purgePrefix}) and metrics ({@link #stats}).
 */
public final class CacheStage implements Stage, UpstreamStateSource {
    /** The cache's name in {@code Cache-Status} (RFC 9211 §2). */
    public static final String CACHE_NAME = "sluice";

    final Store store;
    final Flights flights = new Flights();
    final Sightings sightings = new Sightings();
    final Accumulator.Budget inFlight;
    final long maxEntryBytes;
    final TimeSource time;
    final Executor executor;

    /**
     * @param config the byte budgets ({@code cache.max_size}, {@code max_entry_size}, {@code max_in_flight})
     * @param time the ticker for freshness and Caffeine's expiry, and the clock for HTTP dates
     * @param executor where followers of a coalesced request resume and background revalidations
     *     start (Caffeine's maintenance runs on the writing thread)
     */
    public CacheStage(CacheConfig config, TimeSource time, Executor executor) {
        this.time = Objects.requireNonNull(time, "time");
        this.executor = Objects.requireNonNull(executor, "executor");
        this.store = new Store(config.maxSize().bytes(), time);
        this.maxEntryBytes = config.maxEntrySize().bytes();
        this.inFlight = new Accumulator.Budget(config.maxInFlight().bytes());
    }

    @Override
    public CompletableFuture<FetchResponse> apply(Chain chain) {
        return new CacheExchange(this, chain).run();
    }

    /** Stored URLs (each with its {@code Vary} variants) and their bytes, for the admin API and gauges. */
    @Override
    public void describe(String upstream, LiveState into) {
        into.cacheEntries(store.resources(upstream)).cacheBytes(stats(upstream).bytesStored());
    }

    /** Removes every stored response; returns how many there were. */
    public long purgeAll() {
        return purge(Optional.empty(), Optional.empty());
    }

    /** Removes the stored responses of one upstream; returns how many there were. */
    public long purgeUpstream(String upstream) {
        return purge(Optional.of(upstream), Optional.empty());
    }

    /** Removes the stored responses whose URL starts with {@code urlPrefix}, in any upstream. */
    public long purgePrefix(String urlPrefix) {
        return purge(Optional.empty(), Optional.of(urlPrefix));
    }

    /**
     * Removes the stored responses of {@code upstream} (any, if empty) whose URL starts with
     * {@code urlPrefix} (any, if empty), compared after the same normalisation as keys: scheme and
     * host lower case, default port dropped. Returns how many there were.
     *
     * @throws IllegalArgumentException if {@code urlPrefix} is not an absolute http(s) URL
     */
    public long purge(Optional<String> upstream, Optional<String> urlPrefix) {
        Optional<String> prefix = urlPrefix.map(CacheStage::normalisedPrefix);
        return store.purge(key -> upstream.map(key.upstream()::equals).orElse(true)
                && prefix.map(key.url()::startsWith).orElse(true));
    }

    private static String normalisedPrefix(String urlPrefix) {
        URI uri;
        try {
            uri = new URI(urlPrefix);
        } catch (java.net.URISyntaxException e) {
            throw new IllegalArgumentException("invalid URL prefix \"" + urlPrefix + "\": " + e.getReason());
        }
        if (uri.getHost() == null
                || !("http".equalsIgnoreCase(uri.getScheme()) || "https".equalsIgnoreCase(uri.getScheme()))) {
            throw new IllegalArgumentException("URL prefix must be an absolute http(s) URL: \"" + urlPrefix + "\"");
        }
        // An origin alone ("https://h") normalises to "https://h/", which every URL of that origin
        // starts with and no other origin's ("https://h.example/...") does.
        return Keys.url(uri);
    }

    /** One upstream's counters ({@link CacheStats#EMPTY} if it has seen no request). */
    public CacheStats stats(String upstream) {
        Counters c = store.allCounters().get(upstream);
        return c == null ? CacheStats.EMPTY : c.snapshot();
    }

    /** Every upstream's counters, by name. */
    public Map<String, CacheStats> stats() {
        Map<String, CacheStats> out = new LinkedHashMap<>();
        store.allCounters().forEach((name, c) -> out.put(name, c.snapshot()));
        return out;
    }

    /** Bytes the cache holds now, all upstreams together. */
    public long sizeBytes() {
        return store.weightedSize();
    }

    /**
     * A {@code Cache-Status} member for a response Sluice made itself after this stage ran (a
     * failure such as {@code rate_limited} or {@code timeout}), from the trace alone. Responses that
     * come out of this stage already carry a precise one.
     */
    public static String cacheStatus(Trace trace) {
        return switch (trace.cacheStatus()) {
            case "hit" -> CACHE_NAME + "; hit";
            case "miss" -> CACHE_NAME + "; fwd=miss";
            case "stale" -> CACHE_NAME + "; hit; detail=stale";
            case "revalidated" -> CACHE_NAME + "; fwd=stale; fwd-status=304";
            default -> CACHE_NAME + "; fwd=bypass";
        };
    }

    @Override
    public String toString() {
        return "CacheStage";
    }
}
