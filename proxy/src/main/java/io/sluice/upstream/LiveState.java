package io.sluice.upstream;

import java.time.Duration;
import java.util.Optional;
import java.util.OptionalDouble;
import java.util.OptionalInt;
import java.util.OptionalLong;

/**
 * One upstream's live state, filled in by the {@link UpstreamStateSource}s for one read (an admin
 * request or a scrape). A value no source supplied stays empty and is shown as {@code null}, so a
 * missing capability (no cache, no buckets) is visible rather than reported as zero.
 */
public final class LiveState {
    private OptionalInt inFlight = OptionalInt.empty();
    private OptionalInt queued = OptionalInt.empty();
    private final java.util.EnumMap<io.sluice.config.Priority, Integer> queuedByPriority =
            new java.util.EnumMap<>(io.sluice.config.Priority.class);
    private OptionalDouble tokensAvailable = OptionalDouble.empty();
    private Optional<Duration> cooldownRemaining = Optional.empty();
    private OptionalLong cacheEntries = OptionalLong.empty();
    private OptionalLong cacheBytes = OptionalLong.empty();
    private Optional<LearnedLimit> learned = Optional.empty();
    private Optional<KeyUsage> keys = Optional.empty();

    /** Asks each of {@code sources} about {@code upstream}; a source that throws is skipped. */
    public static LiveState of(String upstream, java.util.List<UpstreamStateSource> sources) {
        LiveState state = new LiveState();
        for (UpstreamStateSource source : sources) {
            try {
                source.describe(upstream, state);
            } catch (RuntimeException e) {
                System.getLogger(LiveState.class.getName())
                        .log(System.Logger.Level.WARNING, "state source " + source + " failed", e);
            }
        }
        return state;
    }

    /** Calls holding one of the upstream's {@code max_concurrency} slots. */
    public LiveState inFlight(int calls) {
        inFlight = OptionalInt.of(calls);
        return this;
    }

    /** Calls waiting for admission (a slot, a token or a cooldown's end). Sources add up. */
    public LiveState queued(int calls) {
        queued = OptionalInt.of(queued.orElse(0) + calls);
        return this;
    }

    /**
     * Tokens available now in the upstream's buckets. With several buckets, the scarcest one
     * decides admission, so the smallest value reported wins.
     */
    public LiveState tokensAvailable(double tokens) {
        tokensAvailable = OptionalDouble.of(
                tokensAvailable.isPresent() ? Math.min(tokensAvailable.getAsDouble(), tokens) : tokens);
        return this;
    }

    /** Time until the upstream's cooldown ends; {@link Duration#ZERO} when it is not cooling down. */
    public LiveState cooldownRemaining(Duration remaining) {
        cooldownRemaining = Optional.of(remaining.isNegative() ? Duration.ZERO : remaining);
        return this;
    }

    public LiveState cacheEntries(long entries) {
        cacheEntries = OptionalLong.of(entries);
        return this;
    }

    public LiveState cacheBytes(long bytes) {
        cacheBytes = OptionalLong.of(bytes);
        return this;
    }

    /** The limits learned from the upstream's headers ({@code learn}). */
    public LiveState learned(LearnedLimit limits) {
        learned = Optional.of(limits);
        return this;
    }

    public Optional<LearnedLimit> learned() {
        return learned;
    }

    /** The {@code per: key} budgets: live keys and the busiest by label. */
    public LiveState keys(KeyUsage usage) {
        keys = Optional.of(usage);
        return this;
    }

    public Optional<KeyUsage> keys() {
        return keys;
    }

    public OptionalInt inFlight() {
        return inFlight;
    }

    public OptionalInt queued() {
        return queued;
    }

    /** Of the calls waiting for a token or a cooldown's end, how many are of class {@code priority}. */
    public LiveState queued(io.sluice.config.Priority priority, int calls) {
        queuedByPriority.merge(priority, calls, Integer::sum);
        return this;
    }

    /** Waiting calls by class; empty when the upstream does not set {@code priority}. */
    public java.util.Map<io.sluice.config.Priority, Integer> queuedByPriority() {
        return java.util.Collections.unmodifiableMap(queuedByPriority);
    }

    public OptionalDouble tokensAvailable() {
        return tokensAvailable;
    }

    public Optional<Duration> cooldownRemaining() {
        return cooldownRemaining;
    }

    public OptionalLong cacheEntries() {
        return cacheEntries;
    }

    public OptionalLong cacheBytes() {
        return cacheBytes;
    }
}
