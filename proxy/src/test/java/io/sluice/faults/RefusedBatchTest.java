package io.sluice.faults;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import io.sluice.testing.SluiceServerExtension;
import io.sluice.testing.TestHttp;
import java.time.Duration;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/** Refusing an item costs little: a batch of refused items is answered quickly. */
class RefusedBatchTest {
    @RegisterExtension
    final SluiceServerExtension sluice = new SluiceServerExtension();

    @Test
    void twentyThousandItemsToTheMetadataAddressAreRefusedWellWithinTheBound() {
        var running = sluice.start("upstreams: {}");
        StringBuilder items = new StringBuilder();
        for (int i = 0; i < 20_000; i++) {
            items.append(i == 0 ? "" : ",")
                    .append("{\"url\": \"http://169.254.169.254/latest/")
                    .append(i)
                    .append("\"}");
        }

        long start = System.nanoTime();
        JsonNode responses = TestHttp.batch(running.data("/v1/batch"), "{\"requests\": [" + items + "]}")
                .get("responses");
        Duration took = Duration.ofNanos(System.nanoTime() - start);
        System.out.println("20000 refused items took " + took.toMillis() + " ms");

        assertThat(responses).hasSize(20_000);
        for (JsonNode r : responses)
            assertThat(r.get("error").get("type").asText()).isEqualTo("blocked");
        assertThat(took).isLessThan(Duration.ofSeconds(30));
    }
}
