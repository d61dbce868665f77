/**
 * Upstreams: named policies bound to origins. {@link io.sluice.upstream.Upstreams} resolves a
 * request's URL to the most specific upstream (exact origin, then exact host, then the longest
 * {@code *.domain} wildcard, else {@code default}) and holds the live set, which the admin API
 * replaces atomically. An {@link io.sluice.upstream.Upstream} is an immutable snapshot; per-upstream
 * runtime state (buckets, cooldowns, in-flight counts) lives in the stage that owns it, keyed by name;
 * such a stage implements {@link io.sluice.upstream.UpstreamStateSource} to describe that state
 * ({@link io.sluice.upstream.LiveState}) to the admin API and the metrics, and to apply an
 * operator's policy change at once.
 */
package io.sluice.upstream;
