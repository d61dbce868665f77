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
 * The cache's reading of response headers ({@code Cache-Control}, {@code Vary}, {@code Age}, HTTP
 * dates) into a stored entry: whatever an upstream sends, it gives an answer and never throws. The
 * header parsers alone are fuzzed in {@code io.sluice.http.HeaderParsersFuzzTest}.
 */
class CacheHeadersFuzzTest {
    private static final Instant NOW = Instant.parse("2026-01-01T00:00:00Z");
    private static final CachePolicy POLICY = new CachePolicy(true, Duration.ofDays(1), Optional.empty());

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
