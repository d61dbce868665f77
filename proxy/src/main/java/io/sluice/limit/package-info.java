/**
 * Admission: whether a call may be sent to its upstream now, later, or not at all. Each limit is a
 * stage of the pipeline with per-upstream state keyed by upstream name: the token buckets and
 * cooldowns ({@link io.sluice.limit.AdmissionStage}; Bucket4j buckets, FIFO by reservation,
 * deadline-aware refusal, pauses from {@code Retry-After} and rate-limit headers), optionally
 * shared by every sidecar through Redis ({@link io.sluice.limit.SharedLimits}), and the
 * concurrency cap ({@link io.sluice.limit.ConcurrencyStage}). A {@code per: key} limit is one bucket
 * per key label ({@code KeyedBuckets}; the key's value is hashed by {@code KeyLabels} and goes no
 * further), bounded by idle expiry and {@code max_keys}. With {@code learn}, limits the upstream
 * announces ({@code PolicyHeaders}) join the configured ones ({@code LearnedLimits}); with
 * {@code free_304}, conditional requests go out on a small allowance ({@code RevalidationAllowance})
 * and pay only for answers that are not {@code 304}. Waiting is a future completed by a
 * timer or a release; no thread ever sleeps. The header values themselves ({@code Retry-After},
 * {@code RateLimit*}) are read by {@code io.sluice.http}; what they make Sluice do is decided here.
 */
package io.sluice.limit;
