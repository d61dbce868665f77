package io.sluice.fetch;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

class FetchRequestTest {
    @Test
    void headerOfARequestIsCaseBlind() {
        FetchRequest request = FetchRequest.get(java.net.URI.create("http://example.test/"))
                .withHeaders(Fields.of(Map.of("Idempotency-Key", List.of("k1"))));

        assertThat(request.header("idempotency-key")).contains("k1");
        assertThat(request.header("Sluice-Max-Wait")).isEmpty();
    }
}
