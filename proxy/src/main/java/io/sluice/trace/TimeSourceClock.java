package io.sluice.trace;

import io.opentelemetry.sdk.common.Clock;
import io.sluice.time.TimeSource;
import java.time.Instant;

/** The SDK's clock read from Sluice's one {@link TimeSource}, so span times follow fake time in tests. */
final class TimeSourceClock implements Clock {
    private final TimeSource time;

    TimeSourceClock(TimeSource time) {
        this.time = time;
    }

    @Override
    public long now() {
        Instant now = time.clock().instant();
        return now.getEpochSecond() * 1_000_000_000L + now.getNano();
    }

    @Override
    public long nanoTime() {
        return time.nanoTime();
    }
}
