package io.sluice.limit;

import com.github.benmanes.caffeine.cache.Cache;
import com.github.benmanes.caffeine.cache.Caffeine;
import com.github.benmanes.caffeine.cache.Expiry;
import io.sluice.time.TimeSource;

/**
 * With {@code cooldown: key}: when each cooling key's pause ends, by key label (never by value).
 *
 * <p>Bounded like {@link KeyedBuckets}: an entry expires the moment its pause ends (Caffeine on the
 * injected ticker), and at most {@code max_keys} keys cool down at once. A pause that finds the
 * table full is not recorded here: the caller pauses the whole upstream instead, the stricter
 * reading of what the upstream asked for, so a flood of keys can neither grow memory nor make
 * Sluice ignore a {@code Retry-After}.
 */
final class KeyCooldowns {
    /** What {@link #extend} did. */
    enum Outcome {
        /** The key's pause now ends at the instant asked for. */
        EXTENDED,
        /** The key was already paused at least that long. */
        ALREADY,
        /** {@code max_keys} other keys are cooling down; nothing was recorded. */
        FULL
    }

    private final TimeSource time;
    /** Label to the monotonic instant its pause ends. */
    private final Cache<String, Long> until;

    KeyCooldowns(TimeSource time) {
        this.time = time;
        this.until = Caffeine.newBuilder()
                .ticker(time::nanoTime)
                .executor(Runnable::run)
                .expireAfter(new Expiry<String, Long>() {
                    @Override
                    public long expireAfterCreate(String label, Long end, long now) {
                        return Math.max(0, end - now);
                    }

                    @Override
                    public long expireAfterUpdate(String label, Long end, long now, long current) {
                        return Math.max(0, end - now);
                    }

                    @Override
                    public long expireAfterRead(String label, Long end, long now, long current) {
                        return current;
                    }
                })
                .build();
    }

    /** Whether no key is (or was, until maintenance runs) cooling down: the hot path's one check. */
    boolean isEmpty() {
        return until.estimatedSize() == 0;
    }

    /** The monotonic instant {@code label}'s pause ends; {@code now} or earlier when it has none. */
    long end(String label, long now) {
        Long end = until.getIfPresent(label);
        return end == null ? now : end;
    }

    /** Pauses {@code label} until {@code end} (extending, never shortening, its current pause). */
    synchronized Outcome extend(String label, long end, int maxKeys) {
        Long current = until.getIfPresent(label);
        if (current != null) {
            if (end - current <= 0) return Outcome.ALREADY;
            until.put(label, end);
            return Outcome.EXTENDED;
        }
        if (until.estimatedSize() >= maxKeys) {
            until.cleanUp(); // pauses that ended still count until maintenance runs
            if (until.estimatedSize() >= maxKeys) return Outcome.FULL;
        }
        until.put(label, end);
        return Outcome.EXTENDED;
    }

    /** Keys cooling down now. */
    int size() {
        until.cleanUp();
        return (int) until.estimatedSize();
    }

    @Override
    public String toString() {
        return "KeyCooldowns{" + until.estimatedSize() + " keys, now " + time.nanoTime() + "}";
    }
}
