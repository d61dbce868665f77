package io.sluice;

import io.sluice.limit.SharedLimits;
import java.util.Optional;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.function.BooleanSupplier;

/**
 * Ready once the listeners are up and, in shared mode, Redis has answered once: a replica that
 * starts without Redis would spend a local share of the budget while the others share one. A later
 * Redis outage does not unready it; it falls back to its local share (see docs/limits.md, "Shared
 * mode").
 */
final class Readiness implements BooleanSupplier {
    private final AtomicBoolean up = new AtomicBoolean();
    private final Optional<SharedLimits> shared;
    private volatile boolean redisReached;

    Readiness(Optional<SharedLimits> shared) {
        this.shared = shared;
    }

    /** Whether the listeners are up (and not draining). */
    void listening(boolean up) {
        this.up.set(up);
    }

    @Override
    public boolean getAsBoolean() {
        if (!up.get()) return false;
        if (shared.isEmpty() || redisReached) return true;
        redisReached = shared.get().usingRedis();
        return redisReached;
    }
}
