/**
 * The response cache: an RFC 9111 cache private to the app Sluice serves, placed in the pipeline
 * before admission so that a hit spends no token and a burst of identical misses makes one upstream
 * call. {@link io.sluice.cache.CacheStage} is the stage (and the purge and statistics surface for the
 * admin API and metrics); storage is Caffeine, bounded by bytes, keyed by upstream and URL, with the
 * variants of one URL ({@code Vary}, credentials) kept together so that invalidating a URL is one
 * operation. Freshness, age, revalidation, {@code stale-while-revalidate}, {@code stale-if-error}
 * and request coalescing are kept by this package's own bookkeeping on the injected
 * {@link io.sluice.time.TimeSource}. Header values ({@code Cache-Control}, {@code Vary}, HTTP
 * dates) are read by {@code io.sluice.http}.
 */
package io.sluice.cache;
