package io.sluice.upstream;

/**
 * What an operator can do to an upstream's learned limits through the admin API: keep them as
 * they are ({@link #pin}), let announcements change them again ({@link #unpin}), or forget them
 * ({@link #reset}). Implemented by the stage that learns them.
 */
public interface LearnedLimitsControl {
    void pin(String upstream);

    void unpin(String upstream);

    void reset(String upstream);
}
