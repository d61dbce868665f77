package io.sluice.limit;

import static org.assertj.core.api.Assertions.assertThat;

import io.sluice.fetch.ErrorType;
import io.sluice.fetch.FetchFailure;
import io.sluice.fetch.FetchOutcome;
import io.sluice.fetch.FetchResponse;
import io.sluice.time.FakeTimeSource;
import java.time.Duration;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.locks.LockSupport;

/** What the shared-mode tests against a real Redis do alike. */
final class SharedModeKit {
    private SharedModeKit() {}

    /**
     * Waits (bounded by {@code atMost}, in real time) until {@code shared} decides through Redis,
     * driving its probe timer on {@code time}.
     */
    static void awaitRedis(SharedLimits shared, FakeTimeSource time, Duration atMost) {
        long giveUpAt = System.nanoTime() + atMost.toNanos();
        while (!shared.usingRedis()) {
            assertThat(System.nanoTime()).as("sidecar decides through Redis").isLessThan(giveUpAt);
            time.advance(SharedLimits.PROBE_INTERVAL);
            LockSupport.parkNanos(TimeUnit.MILLISECONDS.toNanos(20));
        }
    }

    /** 1 if admitted and answered, 0 if refused as rate limited; fails on anything else or a hang. */
    static int admitted(CompletableFuture<FetchOutcome> outcome) throws Exception {
        FetchOutcome result = outcome.get(5, TimeUnit.SECONDS);
        if (result instanceof FetchResponse response) {
            assertThat(response.status()).isEqualTo(200);
            return 1;
        }
        assertThat(((FetchFailure) result).type()).isEqualTo(ErrorType.RATE_LIMITED);
        return 0;
    }
}
