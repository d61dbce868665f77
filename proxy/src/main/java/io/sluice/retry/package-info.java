/**
 * Retries: a failed attempt that is likely transient (connect error, reset, 429, 502, 503, 504) is
 * sent again after an exponential backoff with full jitter, if the method is idempotent or the
 * request carries an {@code Idempotency-Key}, its body can be replayed, the deadline leaves room,
 * and the upstream's retry budget (a share of its requests) allows it. Each retry passes admission
 * again, so it spends a token and respects any cooldown like any other request.
 */
package io.sluice.retry;
