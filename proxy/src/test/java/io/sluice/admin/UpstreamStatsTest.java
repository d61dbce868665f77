package io.sluice.admin;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;

import io.sluice.fetch.ErrorType;
import io.sluice.fetch.FetchFailure;
import io.sluice.fetch.FetchOutcome;
import io.sluice.fetch.FetchResponse;
import io.sluice.fetch.ResponseBody;
import io.sluice.fetch.Trace;
import io.sluice.time.FakeTimeSource;
import java.time.Duration;
import java.util.Optional;
import org.junit.jupiter.api.Test;

class UpstreamStatsTest {
    private final FakeTimeSource time = new FakeTimeSource();
    private final UpstreamStats stats = new UpstreamStats(time);

    private static FetchOutcome response(String upstream, int status, String cache) {
        Trace trace = new Trace();
        trace.upstream(upstream);
        trace.cacheStatus(cache);
        return new FetchResponse(status, io.sluice.fetch.Fields.EMPTY, ResponseBody.empty(), trace);
    }

    private static FetchOutcome refused(String upstream) {
        Trace trace = new Trace();
        trace.upstream(upstream);
        return new FetchFailure(ErrorType.RATE_LIMITED, "no token", Optional.of(Duration.ofSeconds(1)), trace);
    }

    @Test
    void percentilesComeFromTheLastMinuteWithinOneBucketStep() {
        for (int i = 1; i <= 100; i++) {
            stats.callEnd(
                    null, response("a", 200, "bypass"), Duration.ofMillis(i).toNanos());
        }
        UpstreamStats.Snapshot s = stats.snapshot("a");
        assertThat(s.requestsInWindow()).isEqualTo(100);
        assertThat(s.p50Ms()).isBetween(50.0, 50 * 1.15);
        assertThat(s.p99Ms()).isBetween(99.0, 99 * 1.15);
        assertThat(s.cacheHitRatio()).as("bypass is not a lookup").isNaN();
    }

    @Test
    void ratesAverageTheLastTenSecondsAndOldSecondsDropOut() {
        for (int second = 0; second < 20; second++) {
            stats.callEnd(null, response("a", 200, "miss"), 1_000_000);
            stats.callEnd(null, response("a", 429, "miss"), 1_000_000);
            stats.callEnd(null, refused("a"), 1_000_000);
            time.advance(Duration.ofSeconds(1));
        }
        // Now at the start of second 20: seconds 11..19 and the one just begun make the rate window.
        UpstreamStats.Snapshot s = stats.snapshot("a");
        assertThat(s.requestsPerSecond()).isCloseTo(3.0, within(0.01));
        assertThat(s.throttledPerSecond())
                .as("upstream 429s and Sluice's refusals")
                .isCloseTo(2.0, within(0.01));
        assertThat(s.requestsInWindow()).isEqualTo(60);

        time.advance(Duration.ofSeconds(61));
        assertThat(stats.snapshot("a").requestsInWindow()).isZero();
        assertThat(stats.snapshot("a").requestsPerSecond()).isZero();
        assertThat(stats.snapshot("a").p50Ms()).isNaN();
    }

    @Test
    void hitRatioCountsHitsAndStaleAmongLookups() {
        stats.callEnd(null, response("c", 200, "hit"), 1);
        stats.callEnd(null, response("c", 200, "stale"), 1);
        stats.callEnd(null, response("c", 200, "miss"), 1);
        stats.callEnd(null, response("c", 200, "revalidated"), 1);
        stats.callEnd(null, response("c", 200, "bypass"), 1);
        assertThat(stats.snapshot("c").cacheHitRatio()).isCloseTo(0.5, within(1e-9));
        assertThat(stats.snapshot("unknown").requestsInWindow()).isZero();
    }
}
