package io.sluice.limit;

import static org.assertj.core.api.Assertions.assertThat;

import com.code_intelligence.jazzer.junit.FuzzTest;
import io.sluice.fuzz.FuzzInputs;
import java.time.Duration;
import java.time.Instant;
import java.util.Optional;

/**
 * {@code Retry-After} and the {@code RateLimit*} family: an upstream's value is a pause or ignored,
 * never an exception, and never a negative pause.
 */
class LimitHeadersFuzzTest {
    private static final Instant NOW = Instant.parse("2026-01-01T00:00:00Z");

    @FuzzTest(maxDuration = FuzzInputs.DURATION)
    void readsAnyRetryAfterAsAPauseOrNothing(byte[] input) {
        String value = FuzzInputs.latin1(input);
        Optional<Duration> pause = RetryAfter.parse(value, NOW);
        pause.ifPresent(LimitHeadersFuzzTest::checkPause);
        assertThat(RetryAfter.parse(value, NOW)).isEqualTo(pause);
        RetryAfter.parseDate(value, NOW); // the date form alone, as RateLimit-Reset uses it
    }

    /** Lines {@code name: value}, e.g. {@code RateLimit-Remaining: 0} and {@code RateLimit-Reset: 30}. */
    @FuzzTest(maxDuration = FuzzInputs.DURATION)
    void readsAnyRateLimitHeadersAsAPauseOrNothing(byte[] input) {
        var headers = FuzzInputs.fields(FuzzInputs.lines(input));
        Optional<Duration> pause = RateLimitHeaders.exhaustedFor(headers, NOW);
        pause.ifPresent(LimitHeadersFuzzTest::checkPause);
        headers.forEach((name, values) -> values.forEach(
                value -> RateLimitHeaders.resetIn(value, NOW).ifPresent(LimitHeadersFuzzTest::checkPause)));
        RateLimitHeaders.remaining(headers).ifPresent(left -> assertThat(left).isBetween(0L, PolicyHeaders.MAX_QUOTA));
    }

    /** Never negative, and countable in nanoseconds: the retry stage and deadlines compare it so. */
    private static void checkPause(Duration pause) {
        assertThat(pause).isGreaterThanOrEqualTo(Duration.ZERO);
        assertThat(pause.toNanos()).isNotNegative();
    }
}
