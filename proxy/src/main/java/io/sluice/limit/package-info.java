/**
 * Admission: whether a call may be sent to its upstream now, later, or not at all. Each limit is a
 * stage of the pipeline with a per-upstream state object: the concurrency cap (in-flight requests,
 * FIFO waiters bounded by the call's wait budget), and the token buckets and cooldowns. Waiting is
 * a future completed by a release or a timer; no thread ever sleeps.
 */
package io.sluice.limit;
