package io.sluice.limit;

import io.github.bucket4j.TimeMeter;
import io.sluice.time.TimeSource;
import java.time.Instant;

/** Bucket4j reads time only through these, so buckets run on the injected (and in tests, fake) time. */
final class TimeMeters {
    private TimeMeters() {}

    /** The monotonic ticker: right for a bucket that lives in this process only. */
    static TimeMeter monotonic(TimeSource time) {
        return new TimeMeter() {
            @Override
            public long currentTimeNanos() {
                return time.nanoTime();
            }

            @Override
            public boolean isWallClockBased() {
                return false;
            }

            @Override
            public String toString() {
                return "monotonic(" + time + ")";
            }
        };
    }

    /**
     * The wall clock in epoch nanoseconds: a bucket stored in Redis is updated by several
     * processes, whose monotonic tickers have unrelated origins.
     */
    static TimeMeter wallClock(TimeSource time) {
        return new TimeMeter() {
            @Override
            public long currentTimeNanos() {
                Instant now = time.clock().instant();
                return now.getEpochSecond() * 1_000_000_000L + now.getNano();
            }

            @Override
            public boolean isWallClockBased() {
                return true;
            }

            @Override
            public String toString() {
                return "wallClock(" + time + ")";
            }
        };
    }
}
