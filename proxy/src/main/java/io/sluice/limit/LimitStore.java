package io.sluice.limit;

import io.sluice.config.RateLimit;
import java.time.Instant;
import java.util.List;
import java.util.concurrent.CompletableFuture;

/** Where buckets and cooldowns live: in this process, or in Redis, shared by every sidecar of an app. */
interface LimitStore {

    /** A new bucket for {@code upstream} with {@code limits} (which is not empty). */
    TokenBucket bucket(String upstream, List<RateLimit> limits);

    /**
     * When the cooldown other sidecars recorded for {@code upstream} ends ({@link Instant#MIN}: none),
     * or {@code null} when nothing is shared and the local state is the whole truth. Never fails:
     * a store that cannot answer in time answers "none" and the local cooldown still applies.
     */
    CompletableFuture<Instant> sharedCooldownEnd(String upstream);

    /** Tells other sidecars that {@code upstream} is paused until {@code end}. */
    void shareCooldown(String upstream, Instant end);

    /** Whether {@link #shareCooldown} reaches other sidecars (false: the local state is the whole truth). */
    default boolean sharesCooldowns() {
        return false;
    }

    /** Buckets and cooldowns of this process alone: the embedded default. */
    static LimitStore local(io.sluice.time.TimeSource time) {
        return new LimitStore() {
            @Override
            public TokenBucket bucket(String upstream, List<RateLimit> limits) {
                return new LocalTokenBucket(limits, 1, time);
            }

            @Override
            public CompletableFuture<Instant> sharedCooldownEnd(String upstream) {
                return null;
            }

            @Override
            public void shareCooldown(String upstream, Instant end) {}

            @Override
            public String toString() {
                return "local";
            }
        };
    }
}
