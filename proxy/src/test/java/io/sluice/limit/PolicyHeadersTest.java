package io.sluice.limit;

import static org.assertj.core.api.Assertions.assertThat;

import io.sluice.config.RateLimit;
import io.sluice.fetch.Fields;
import java.time.Duration;
import java.time.Instant;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import org.junit.jupiter.api.Test;

class PolicyHeadersTest {
    private static final Instant NOW = Instant.parse("2026-12-06T12:00:00Z");

    private static Optional<PolicyHeaders.Reading> read(String... pairs) {
        Map<String, List<String>> headers = new LinkedHashMap<>();
        for (int i = 0; i < pairs.length; i += 2) headers.put(pairs[i], List.of(pairs[i + 1]));
        return PolicyHeaders.read(Fields.of(headers), NOW);
    }

    private static List<RateLimit> limits(String... pairs) {
        var reading = read(pairs).orElseThrow();
        assertThat(reading).isInstanceOf(PolicyHeaders.Announced.class);
        return ((PolicyHeaders.Announced) reading).limits();
    }

    private static RateLimit per(long quota, Duration window) {
        return new RateLimit(quota, window, quota);
    }

    @Test
    void readsTheIetfPolicyListWithQuotaAndWindow() {
        assertThat(limits("RateLimit-Policy", "\"burst\";q=100;w=60, \"daily\";q=5000;w=86400"))
                .containsExactly(per(100, Duration.ofMinutes(1)), per(5000, Duration.ofDays(1)));
        assertThat(limits("RateLimit-Policy", "default;q=10;w=1;pk=:cHJvamVjdDEyMw==:"))
                .containsExactly(per(10, Duration.ofSeconds(1)));
    }

    @Test
    void readsTheOlderDraftsIntegerItems() {
        assertThat(limits("RateLimit-Policy", "10;w=1, 50;w=60"))
                .containsExactly(per(10, Duration.ofSeconds(1)), per(50, Duration.ofMinutes(1)));
        assertThat(limits("RateLimit-Limit", "100", "RateLimit-Reset", "40"))
                .containsExactly(per(100, Duration.ofMinutes(1)));
    }

    @Test
    void skipsOtherQuotaUnitsAndItemsWithoutAWindow() {
        assertThat(limits(
                        "RateLimit-Policy", "\"bytes\";q=65536;w=60;qu=\"content-bytes\", \"req\";q=5;w=1, \"x\";q=9"))
                .containsExactly(per(5, Duration.ofSeconds(1)));
    }

    @Test
    void takesGithubsEpochResetAsTheEndOfAnHourlyWindow() {
        String reset = Long.toString(NOW.plusSeconds(1800).getEpochSecond());
        assertThat(limits("X-RateLimit-Limit", "5000", "X-RateLimit-Remaining", "4999", "X-RateLimit-Reset", reset))
                .containsExactly(per(5000, Duration.ofHours(1)));
        var reading = (PolicyHeaders.Announced)
                read("X-RateLimit-Limit", "5000", "X-RateLimit-Reset", reset).orElseThrow();
        assertThat(reading.inferred()).isTrue();
        assertThat(reading.field()).isEqualTo("X-RateLimit-Limit");
    }

    @Test
    void aLimitWithoutResetSaysNothing() {
        assertThat(read("X-RateLimit-Limit", "5000")).isEmpty();
        assertThat(read("Content-Type", "text/plain")).isEmpty();
    }

    @Test
    void nonsenseIsRecognisedAsSuch() {
        for (String value : new String[] {
            "\"d\";q=0;w=60",
            "\"d\";q=1e3;w=60",
            "\"d\";q=10;w=86401",
            "\"d\";q=10;w=-1",
            "\"d\";w=60",
            "(d);q=1;w=1",
            "\"unterminated;q=1;w=1",
            "a;q=1;w=1,,b;q=1;w=1",
            "x".repeat(600)
        }) {
            assertThat(read("RateLimit-Policy", value))
                    .as(value)
                    .hasValueSatisfying(r -> assertThat(r).isInstanceOf(PolicyHeaders.Nonsense.class));
        }
        assertThat(read("X-RateLimit-Limit", "lots", "X-RateLimit-Reset", "60"))
                .hasValueSatisfying(r -> assertThat(r).isInstanceOf(PolicyHeaders.Nonsense.class));
        assertThat(read("X-RateLimit-Limit", "10", "X-RateLimit-Reset", "soon"))
                .hasValueSatisfying(r -> assertThat(r).isInstanceOf(PolicyHeaders.Nonsense.class));
        assertThat(read(
                        "X-RateLimit-Limit",
                        "10",
                        "X-RateLimit-Reset",
                        Long.toString(NOW.plusSeconds(200_000).getEpochSecond())))
                .hasValueSatisfying(r -> assertThat(r).isInstanceOf(PolicyHeaders.Nonsense.class));
    }

    @Test
    void aLearnedLimitIsNeverSlowerThanOneRequestAMinute() {
        assertThat(PolicyHeaders.limit(1, 86_400)).isEqualTo(new RateLimit(1, Duration.ofMinutes(1), 1));
        assertThat(PolicyHeaders.limit(10, 86_400)).isEqualTo(new RateLimit(10, Duration.ofMinutes(10), 10));
        assertThat(PolicyHeaders.limit(60, 3_600)).isEqualTo(new RateLimit(60, Duration.ofHours(1), 60));
    }
}
