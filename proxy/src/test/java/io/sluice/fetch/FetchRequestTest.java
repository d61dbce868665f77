package io.sluice.fetch;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.sluice.config.Priority;
import java.net.URI;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import org.junit.jupiter.api.Test;

class FetchRequestTest {
    @Test
    void headerOfARequestIsCaseBlind() {
        FetchRequest request = FetchRequest.get(URI.create("http://example.test/"))
                .withHeaders(Fields.of(Map.of("Idempotency-Key", List.of("k1"))));

        assertThat(request.header("idempotency-key")).contains("k1");
        assertThat(request.header("Sluice-Max-Wait")).isEmpty();
    }

    @Test
    void aBuiltRequestHasTheDefaultsOfEveryFieldItDoesNotName() {
        FetchRequest request = FetchRequest.builder("DELETE", URI.create("http://example.test/a"))
                .build();

        assertThat(request)
                .isEqualTo(new FetchRequest(
                        "DELETE",
                        URI.create("http://example.test/a"),
                        Fields.EMPTY,
                        request.body(),
                        Optional.empty(),
                        Optional.empty(),
                        Optional.empty(),
                        CacheMode.DEFAULT,
                        false,
                        Optional.empty(),
                        false));
        assertThat(request.body().length()).isZero();
    }

    @Test
    void aCopyChangesOnlyTheFieldsItNames() {
        FetchRequest batchItem = FetchRequest.builder("POST", URI.create("http://example.test/a"))
                .body(RequestBody.of(new byte[] {1}))
                .timeout(Optional.of(Duration.ofSeconds(3)))
                .maxWait(Optional.of(Duration.ofSeconds(1)))
                .cache(CacheMode.BYPASS)
                .followRedirects(true)
                .priority(Optional.of(Priority.BACKGROUND))
                .batchItem(true)
                .build();

        FetchRequest moved =
                batchItem.toBuilder().uri(URI.create("http://example.test/b")).build();

        assertThat(batchItem.toBuilder().build()).isEqualTo(batchItem);
        assertThat(moved.uri()).isEqualTo(URI.create("http://example.test/b"));
        assertThat(moved.toBuilder().uri(batchItem.uri()).build()).isEqualTo(batchItem);
    }

    @Test
    void aMissingFieldIsNamed() {
        assertThatThrownBy(() -> FetchRequest.builder("GET", null).build())
                .isInstanceOf(NullPointerException.class)
                .hasMessage("uri");
        assertThatThrownBy(() -> FetchRequest.get(URI.create("http://example.test/")).toBuilder()
                        .timeout(null)
                        .build())
                .hasMessageStartingWith("timeout");
    }
}
