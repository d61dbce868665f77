package io.sluice.http;

import static org.assertj.core.api.Assertions.assertThat;

import com.code_intelligence.jazzer.junit.FuzzTest;
import io.sluice.fuzz.FuzzInputs;
import java.time.Duration;
import java.time.Instant;
import java.time.ZoneOffset;
import java.util.List;
import java.util.Optional;

/**
 * Whatever an upstream sends, each header parser gives an answer and never throws: HTTP dates read
 * by hand agree with the formatters, {@code Cache-Control} seconds stay in range, and
 * {@code Retry-After} and the {@code RateLimit*} family are a pause or ignored, never a negative one.
 */
class HeaderParsersFuzzTest {
    private static final Instant NOW = Instant.parse("2026-01-01T00:00:00Z");

    /** Each line is one {@code Cache-Control} field line. */
    @FuzzTest(maxDuration = FuzzInputs.DURATION)
    void readsAnyCacheControl(byte[] input) {
        Directives directives = Directives.parse(FuzzInputs.lines(input));
        for (String name : List.of("max-age", "s-maxage", "stale-while-revalidate", "stale-if-error", "max-stale")) {
            long seconds = directives.seconds(name, -1, -2);
            assertThat(seconds).isBetween(-2L, Directives.MAX_DELTA_SECONDS);
            if (seconds >= 0) assertThat(directives.has(name)).isTrue();
        }
    }

    /** The hand-written IMF-fixdate reader agrees with the formatters, as its comment promises. */
    @FuzzTest(maxDuration = FuzzInputs.DURATION)
    void readsAnyHttpDateAsTheFormattersDo(byte[] input) {
        String value = FuzzInputs.latin1(input);
        Optional<Instant> parsed = HttpDates.parse(value, NOW);
        assertThat(parsed).isEqualTo(HttpDates.parseWithFormatters(value.trim(), NOW));
        parsed.ifPresent(instant -> {
            if (instant.atOffset(ZoneOffset.UTC).getYear() <= 9999) {
                assertThat(HttpDates.parse(HttpDates.format(instant), NOW)).contains(instant);
            }
        });
    }

    /** Each line is one {@code Vary} field line: names lower-cased and not empty, or no match at all. */
    @FuzzTest(maxDuration = FuzzInputs.DURATION)
    void readsAnyVary(byte[] input) {
        Vary.fieldNames(FuzzInputs.lines(input))
                .ifPresent(names ->
                        names.forEach(name -> assertThat(name).isNotEmpty().isLowerCase()));
    }

    @FuzzTest(maxDuration = FuzzInputs.DURATION)
    void readsAnyRetryAfterAsAPauseOrNothing(byte[] input) {
        String value = FuzzInputs.latin1(input);
        Optional<Duration> pause = RetryAfter.parse(value, NOW);
        pause.ifPresent(HeaderParsersFuzzTest::checkPause);
        assertThat(RetryAfter.parse(value, NOW)).isEqualTo(pause);
        HttpDates.parse(value, NOW); // the date form alone, as RateLimit-Reset uses it
    }

    /** Lines {@code name: value}, e.g. {@code RateLimit-Remaining: 0} and {@code RateLimit-Reset: 30}. */
    @FuzzTest(maxDuration = FuzzInputs.DURATION)
    void readsAnyRateLimitHeadersAsAPauseOrNothing(byte[] input) {
        var headers = FuzzInputs.fields(FuzzInputs.lines(input));
        Optional<Duration> pause = RateLimitHeaders.exhaustedFor(headers, NOW);
        pause.ifPresent(HeaderParsersFuzzTest::checkPause);
        headers.forEach((name, values) -> values.forEach(
                value -> RateLimitHeaders.resetIn(value, NOW).ifPresent(HeaderParsersFuzzTest::checkPause)));
        RateLimitHeaders.remaining(headers)
                .ifPresent(left -> assertThat(left).isBetween(0L, RateLimitHeaders.MAX_QUOTA));
        RateLimitPolicy.read(headers, NOW).ifPresent(reading -> {
            if (reading instanceof RateLimitPolicy.Announced a) {
                a.quotas().forEach(q -> {
                    assertThat(q.quota()).isBetween(1L, RateLimitHeaders.MAX_QUOTA);
                    assertThat(q.windowSeconds()).isBetween(1L, RateLimitPolicy.MAX_WINDOW_SECONDS);
                });
            }
        });
    }

    /** Never negative, and countable in nanoseconds: the retry stage and deadlines compare it so. */
    private static void checkPause(Duration pause) {
        assertThat(pause).isGreaterThanOrEqualTo(Duration.ZERO);
        assertThat(pause.toNanos()).isNotNegative();
    }
}
