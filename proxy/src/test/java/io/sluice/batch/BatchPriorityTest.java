package io.sluice.batch;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.fasterxml.jackson.databind.ObjectMapper;
import io.sluice.config.Priority;
import io.sluice.fetch.FetchRequest;
import java.nio.charset.StandardCharsets;
import java.util.Optional;
import org.junit.jupiter.api.Test;

/** The class of a batch's items: the batch's {@code priority}, an item's own, or the upstream's default. */
class BatchPriorityTest {
    private static final BatchParser PARSER = new BatchParser(new ObjectMapper(), 100, 64 * 1024, 1024, 4096);

    private static BatchParser.Batch parse(String json) throws BatchParser.BadBatch {
        return PARSER.parse(json.getBytes(StandardCharsets.UTF_8));
    }

    private static FetchRequest request(BatchParser.Batch batch, int index) {
        return batch.items().get(index).request().orElseThrow();
    }

    @Test
    void itemsWithoutAClassAreBatchItemsForTheUpstreamDefault() throws Exception {
        var batch = parse("{\"requests\": [{\"url\": \"https://a.test/1\"}]}");
        assertThat(request(batch, 0).priority()).isEmpty();
        assertThat(request(batch, 0).batchItem()).isTrue();
    }

    @Test
    void theBatchsPriorityAppliesToItemsThatNameNoneWhereverTheFieldStands() throws Exception {
        var batch = parse("""
                {"requests": [{"url": "https://a.test/1"},
                              {"url": "https://a.test/2", "priority": "interactive"}],
                 "priority": "background"}""");
        assertThat(request(batch, 0).priority()).contains(Priority.BACKGROUND);
        assertThat(request(batch, 1).priority()).contains(Priority.INTERACTIVE);
        assertThat(request(batch, 0).batchItem()).isTrue();
        assertThat(batch.items().get(0).id()).isEqualTo("0");
    }

    @Test
    void anUnknownClassFailsItsItemAlone() throws Exception {
        var batch = parse("""
                {"requests": [{"url": "https://a.test/1", "priority": "urgent"},
                              {"url": "https://a.test/2", "priority": 3},
                              {"url": "https://a.test/3", "priority": "Batch"}]}""");
        assertThat(batch.items().get(0).invalid())
                .hasValueSatisfying(m -> assertThat(m).startsWith("requests[0].priority: unknown priority \"urgent\""));
        assertThat(batch.items().get(1).invalid())
                .hasValueSatisfying(m -> assertThat(m).startsWith("requests[1].priority: expected"));
        assertThat(request(batch, 2).priority()).isEqualTo(Optional.of(Priority.BATCH));
    }

    @Test
    void anUnknownBatchClassRefusesTheBatchNamingTheField() {
        assertThatThrownBy(() -> parse("{\"priority\": \"now\", \"requests\": []}"))
                .isInstanceOf(BatchParser.BadBatch.class)
                .hasMessageStartingWith("priority: unknown priority \"now\"");
        assertThatThrownBy(() -> parse("{\"priority\": 1, \"requests\": []}"))
                .isInstanceOf(BatchParser.BadBatch.class)
                .hasMessageStartingWith("priority: expected");
    }
}
