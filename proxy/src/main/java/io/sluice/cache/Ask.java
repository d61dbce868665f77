package io.sluice.cache;

import io.sluice.fetch.CacheMode;
import io.sluice.fetch.FetchRequest;
import io.sluice.http.Directives;
import java.time.Duration;
import java.util.Locale;

/**
 * What the client asked of the cache: its {@code Cache-Control} request directives (RFC 9111
 * §5.2.1), {@code Pragma: no-cache} when it sends no {@code Cache-Control} (§5.4), and the front
 * door's {@link CacheMode} (the batch item's {@code cache} field). Durations in nanoseconds; -1
 * when absent.
 */
record Ask(boolean noStore, boolean noCache, boolean onlyIfCached, long maxAge, long minFresh, long maxStale) {
    private static final long UNBOUNDED = Long.MAX_VALUE;

    static Ask of(FetchRequest request) {
        Directives cc = Directives.parse(request.headers().allValues("cache-control"));
        boolean pragmaNoCache = cc.isEmpty()
                && request.headers().allValues("pragma").stream()
                        .anyMatch(v -> v.toLowerCase(Locale.ROOT).contains("no-cache"));
        CacheMode mode = request.cache();
        long maxStale = !cc.has("max-stale")
                ? -1
                : cc.hasNoValue("max-stale") ? UNBOUNDED : nanos(cc.seconds("max-stale", 0, 0));
        return new Ask(
                cc.has("no-store") || mode == CacheMode.BYPASS,
                cc.has("no-cache") || pragmaNoCache || mode == CacheMode.REVALIDATE,
                cc.has("only-if-cached") || mode == CacheMode.ONLY_IF_CACHED,
                cc.has("max-age") ? nanos(cc.seconds("max-age", 0, 0)) : -1,
                nanos(cc.seconds("min-fresh", 0, 0)),
                maxStale);
    }

    private static long nanos(long seconds) {
        return Duration.ofSeconds(seconds).toNanos();
    }
}
