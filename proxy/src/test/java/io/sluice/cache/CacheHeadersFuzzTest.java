package io.sluice.cache;

import static org.assertj.core.api.Assertions.assertThat;

import com.code_intelligence.jazzer.junit.FuzzTest;
import io.sluice.config.CachePolicy;
import io.sluice.fetch.Fields;
import io.sluice.fuzz.FuzzInputs;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;

/**
 * The cache's header parsers ({@code Cache-Control}, {@code Vary}, {@code Age}, HTTP dates): whatever
 * an upstream sends, they give an answer and never throw.
 */
class CacheHeadersFuzzTest {
    private static final Instant NOW = Instant.parse("2026-01-01T00:00:00Z");
    private static final CachePolicy POLICY = new CachePolicy(true, Duration.ofDays(1), Optional.empty());

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
        Optional<Instant> parsed = HttpDates.parse(value);
        assertThat(parsed).isEqualTo(HttpDates.parseWithFormatters(value.trim()));
        parsed.ifPresent(instant -> {
            if (instant.atOffset(java.time.ZoneOffset.UTC).getYear() <= 9999) {
                assertThat(HttpDates.parse(HttpDates.format(instant))).contains(instant);
            }
        });
    }

    /**
     * A response's header block (lines {@code name: value}; after an empty line, the request's) with
     * any {@code Cache-Control}, {@code Vary}, {@code Age}, {@code Date} and {@code Expires}: stored or
     * not, never an exception, and what is stored has sane ages and lifetimes.
     */
    @FuzzTest(maxDuration = FuzzInputs.DURATION)
    void storesAnyResponseOrDeclinesIt(byte[] input) {
        List<String> lines = FuzzInputs.lines(input);
        int blank = lines.indexOf("");
        List<String> response = blank < 0 ? lines : lines.subList(0, blank);
        List<String> request = blank < 0 ? List.of() : lines.subList(blank + 1, lines.size());
        int status = 200;
        if (!response.isEmpty() && response.get(0).matches("\\d{3}")) {
            status = Integer.parseInt(response.get(0));
            response = new ArrayList<>(response.subList(1, response.size()));
        }
        Fields responseHeaders = FuzzInputs.fields(response);
        Fields requestHeaders = FuzzInputs.fields(request);
        var exchange = new Entry.Exchange(requestHeaders, "", 1_000, 2_000_000, NOW, POLICY);

        Optional<Entry> entry = Entry.storable(status, responseHeaders, exchange, 1);

        entry.ifPresent(e -> {
            assertThat(e.initialAgeNanos).isNotNegative();
            assertThat(e.lifetimeNanos).isBetween(0L, POLICY.maxTtl().toNanos());
            assertThat(e.staleWhileRevalidateNanos).isNotNegative();
            assertThat(e.staleIfErrorNanos).isNotNegative();
            assertThat(e.vary).isNotNull();
            e.vary.keySet().forEach(name -> assertThat(name).isNotEmpty().isLowerCase());
        });
    }
}
