package io.sluice.batch;

import static org.assertj.core.api.Assertions.assertThat;

import com.code_intelligence.jazzer.junit.FuzzTest;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.sluice.fuzz.FuzzInputs;
import java.time.Duration;

/** The batch document parser: any bytes are a batch or a {@link BatchParser.BadBatch}, never anything else. */
class BatchParserFuzzTest {
    private static final int MAX_ITEMS = 100;
    private static final long MAX_HEADER_BYTES = 1024;
    private static final long MAX_BODY_BYTES = 4096;
    private static final BatchParser PARSER =
            new BatchParser(new ObjectMapper(), MAX_ITEMS, 64 * 1024, MAX_HEADER_BYTES, MAX_BODY_BYTES);

    @FuzzTest(maxDuration = FuzzInputs.DURATION)
    void readsAnyDocumentAsABatchOrABadBatch(byte[] document) {
        BatchParser.Batch batch;
        try {
            batch = PARSER.parse(document);
        } catch (BatchParser.BadBatch expected) {
            assertThat(expected.getMessage()).isNotBlank();
            return;
        }
        assertThat(batch.concurrency()).isPositive();
        batch.timeout().ifPresent(timeout -> assertThat(timeout).isPositive());
        assertThat(batch.items()).hasSizeLessThanOrEqualTo(MAX_ITEMS);
        for (int index = 0; index < batch.items().size(); index++) {
            int i = index;
            BatchItem item = batch.items().get(i);
            assertThat(item.index()).isEqualTo(i);
            assertThat(item.id()).isNotNull();
            // Exactly one of: a request to run, or why this item alone cannot run.
            assertThat(item.request().isPresent()).isNotEqualTo(item.invalid().isPresent());
            item.invalid().ifPresent(why -> assertThat(why).startsWith("requests[" + i + "]"));
            item.request().ifPresent(request -> {
                assertThat(request.uri().getScheme()).matches("(?i)https?");
                assertThat(request.uri().getHost()).isNotEmpty();
                assertThat(request.method()).matches("[!#$%&'*+.^_`|~0-9A-Z-]+");
                assertThat(request.body().length()).isLessThanOrEqualTo(MAX_BODY_BYTES);
                request.timeout().ifPresent(t -> assertThat(t).isGreaterThanOrEqualTo(Duration.ZERO));
                request.maxWait().ifPresent(t -> assertThat(t).isGreaterThanOrEqualTo(Duration.ZERO));
                request.headers()
                        .forEach((name, values) ->
                                values.forEach(value -> assertThat(value).doesNotContain("\r", "\n")));
            });
        }
    }
}
