package io.sluice.http;

import static org.assertj.core.api.Assertions.assertThat;

import io.sluice.fetch.Fields;
import io.sluice.http.RateLimitPolicy.Announced;
import io.sluice.http.RateLimitPolicy.Nonsense;
import io.sluice.http.RateLimitPolicy.Quota;
import io.sluice.http.RateLimitPolicy.Reading;
import java.time.Instant;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import org.junit.jupiter.api.Test;

/** The fields alone; what {@code learn} makes of them is tested in {@code io.sluice.limit.PolicyHeadersTest}. */
class RateLimitPolicyTest {
    private static final Instant NOW = Instant.parse("2026-12-06T12:00:00Z");

    private static Optional<Reading> read(String... pairs) {
        Map<String, List<String>> headers = new LinkedHashMap<>();
        for (int i = 0; i < pairs.length; i += 2) headers.put(pairs[i], List.of(pairs[i + 1]));
        return RateLimitPolicy.read(Fields.of(headers), NOW);
    }

    @Test
    void readsTheQuotasAsAnnouncedWithoutCappingThem() {
        // q=1;w=86400 is read as it stands; the floor of one request a minute is limit/'s policy.
        assertThat(read("RateLimit-Policy", "\"burst\";q=100;w=60, \"daily\";q=1;w=86400"))
                .contains(new Announced(List.of(new Quota(100, 60), new Quota(1, 86_400)), "RateLimit-Policy", false));
    }

    @Test
    void infersTheWindowOfALimitFromItsReset() {
        String reset = Long.toString(NOW.plusSeconds(1800).getEpochSecond());
        assertThat(read("X-RateLimit-Limit", "5000", "X-RateLimit-Reset", reset))
                .contains(new Announced(List.of(new Quota(5000, 3_600)), "X-RateLimit-Limit", true));
        assertThat(read("RateLimit-Limit", "100", "RateLimit-Reset", "40"))
                .contains(new Announced(List.of(new Quota(100, 60)), "RateLimit-Limit", true));
    }

    @Test
    void namesTheFieldAndTheReasonOfNonsense() {
        assertThat(read("RateLimit-Policy", "\"d\";q=10;w=86401"))
                .contains(new Nonsense("RateLimit-Policy", "w=86401 is not 1 to 86400 seconds"));
        assertThat(read("X-RateLimit-Limit", "10", "X-RateLimit-Reset", "soon"))
                .contains(new Nonsense("X-RateLimit-Limit", "reset \"soon\" is not a time"));
    }

    @Test
    void aResponseWithoutPolicyFieldsSaysNothing() {
        assertThat(read("Content-Type", "text/plain")).isEmpty();
        assertThat(read("X-RateLimit-Limit", "5000")).isEmpty();
    }
}
