package io.sluice.limit;

import io.sluice.config.RateLimit;
import java.util.List;
import java.util.concurrent.CompletableFuture;

/**
 * One upstream's token buckets (all its limits at once), held locally or in Redis. Tokens are
 * taken by reservation: a request takes its token at once, going into debt if the bucket is empty,
 * and learns how long until the token is really there. Later requests go further into debt, so
 * waiters are served first-come first-served without any queue of their own, and the wait of
 * the next request is known exactly, which is what makes refusing at once possible.
 */
interface TokenBucket {

    /** Takes one token now; the result says when it is due, and can return it. */
    CompletableFuture<Reservation> reserve();

    /**
     * Takes one token only if it is there now: never goes into debt, never waits. For allowances
     * such as {@link RevalidationAllowance}, which ask and move on.
     */
    default CompletableFuture<Boolean> tryTake() {
        throw new UnsupportedOperationException(this + " takes tokens by reservation only");
    }

    /** Applies changed limits, keeping each limit's tokens (capped at its new burst). */
    void reconfigure(List<RateLimit> limits);

    /**
     * Tokens available now (negative: owed to waiting requests), for the admin API; empty when
     * only a round trip to Redis could tell.
     */
    java.util.OptionalLong availableTokens();

    /** A token taken from a bucket. */
    interface Reservation {
        /** Nanoseconds until the token is due (0: now). */
        long waitNanos();

        /** Puts the token back: the request will not use it (refused or cancelled before its turn). */
        void release();
    }
}
