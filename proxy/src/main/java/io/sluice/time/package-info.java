/**
 * The one source of time. Every rate limit, cooldown, backoff, deadline and cache expiry reads
 * {@link io.sluice.time.TimeSource}: a nanosecond ticker for intervals, a {@link java.time.Clock}
 * for HTTP dates, and a scheduler for timers, so that tests replace all three with fake time.
 */
package io.sluice.time;
