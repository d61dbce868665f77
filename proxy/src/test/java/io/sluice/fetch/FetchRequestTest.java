package io.sluice.fetch;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

class FetchRequestTest {
    @Test
    void firstReadsLikeHttpHeadersFirstValue() {
        Map<String, List<String>> map = new LinkedHashMap<>();
        map.put("RateLimit-Remaining", List.of("0", "5"));
        map.put("etag", List.of("\"v1\""));
        var headers = FetchRequest.headers(map);

        for (String name : List.of("ratelimit-remaining", "RATELIMIT-REMAINING", "ETag", "etag", "Absent")) {
            assertThat(FetchRequest.first(headers, name)).as(name).isEqualTo(headers.firstValue(name));
        }
        assertThat(FetchRequest.first(headers, "ratelimit-remaining")).contains("0");
        assertThat(FetchRequest.first(headers, "Absent")).isEmpty();
    }

    @Test
    void headerOfARequestIsCaseBlind() {
        FetchRequest request = FetchRequest.get(java.net.URI.create("http://example.test/"))
                .withHeaders(FetchRequest.headers(Map.of("Idempotency-Key", List.of("k1"))));

        assertThat(request.header("idempotency-key")).contains("k1");
        assertThat(request.header("Sluice-Max-Wait")).isEmpty();
    }
}
