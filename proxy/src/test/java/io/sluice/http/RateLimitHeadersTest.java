package io.sluice.http;

import static org.assertj.core.api.Assertions.assertThat;

import io.sluice.fetch.Fields;
import java.time.Duration;
import java.time.Instant;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

class RateLimitHeadersTest {
    private static final Instant NOW = Instant.parse("2026-01-01T00:00:00Z");

    private static Fields headers(String... pairs) {
        Map<String, List<String>> map = new LinkedHashMap<>();
        for (int i = 0; i < pairs.length; i += 2) map.put(pairs[i], List.of(pairs[i + 1]));
        return Fields.of(map);
    }

    @Test
    void pausesUntilResetWhenRateLimitRemainingIsZero() {
        assertThat(RateLimitHeaders.exhaustedFor(headers("RateLimit-Remaining", "0", "RateLimit-Reset", "30"), NOW))
                .contains(Duration.ofSeconds(30));
    }

    @Test
    void readsXRateLimitResetAsEpochSeconds() {
        long reset = NOW.getEpochSecond() + 42;
        assertThat(RateLimitHeaders.exhaustedFor(
                        headers("X-RateLimit-Remaining", "0", "X-RateLimit-Reset", Long.toString(reset)), NOW))
                .contains(Duration.ofSeconds(42));
    }

    @Test
    void readsXRateLimitResetAsDeltaSeconds() {
        assertThat(RateLimitHeaders.exhaustedFor(headers("X-RateLimit-Remaining", "0", "X-RateLimit-Reset", "7"), NOW))
                .contains(Duration.ofSeconds(7));
    }

    @Test
    void readsResetAsEpochMilliseconds() {
        long reset = NOW.toEpochMilli() + 1500;
        assertThat(RateLimitHeaders.exhaustedFor(
                        headers("X-RateLimit-Remaining", "0", "X-RateLimit-Reset", Long.toString(reset)), NOW))
                .contains(Duration.ofMillis(1500));
    }

    @Test
    void readsStructuredRateLimitHeader() {
        assertThat(RateLimitHeaders.exhaustedFor(headers("RateLimit", "\"default\";r=0;t=12"), NOW))
                .contains(Duration.ofSeconds(12));
        assertThat(RateLimitHeaders.exhaustedFor(headers("RateLimit", "limit=100, remaining=0, reset=5"), NOW))
                .contains(Duration.ofSeconds(5));
    }

    @Test
    void doesNotPauseWhileRequestsRemain() {
        assertThat(RateLimitHeaders.exhaustedFor(headers("X-RateLimit-Remaining", "3", "X-RateLimit-Reset", "7"), NOW))
                .isEmpty();
        assertThat(RateLimitHeaders.exhaustedFor(headers("RateLimit", "limit=100, remaining=4, reset=5"), NOW))
                .isEmpty();
        assertThat(RateLimitHeaders.exhaustedFor(headers("X-RateLimit-Remaining", "0"), NOW))
                .isEmpty();
    }

    @Test
    void treatsResetInThePastAsNoPause() {
        long reset = NOW.getEpochSecond() - 10;
        assertThat(RateLimitHeaders.exhaustedFor(
                        headers("X-RateLimit-Remaining", "0", "X-RateLimit-Reset", Long.toString(reset)), NOW))
                .contains(Duration.ZERO);
    }

    @Test
    void readsWhatIsLeftFromEachFormAndIgnoresNonsense() {
        assertThat(RateLimitHeaders.remaining(headers("RateLimit-Remaining", "7")))
                .hasValue(7);
        assertThat(RateLimitHeaders.remaining(headers("X-RateLimit-Remaining", " 4999 ")))
                .hasValue(4999);
        assertThat(RateLimitHeaders.remaining(headers("RateLimit", "\"default\";r=12;t=30")))
                .hasValue(12);
        assertThat(RateLimitHeaders.remaining(headers("RateLimit", "limit=100, remaining=4, reset=5")))
                .hasValue(4);
        for (String nonsense : new String[] {"-1", "4.5", "lots", "99999999999", ""}) {
            assertThat(RateLimitHeaders.remaining(headers("X-RateLimit-Remaining", nonsense)))
                    .as(nonsense)
                    .isEmpty();
        }
        assertThat(RateLimitHeaders.remaining(headers("X-RateLimit-Limit", "60")))
                .isEmpty();
    }
}
