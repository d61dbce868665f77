package io.sluice.batch;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import io.sluice.testing.SluiceServerExtension;
import io.sluice.testing.TestHttp;
import io.sluice.testing.Upstream;
import java.lang.management.ManagementFactory;
import java.util.concurrent.atomic.AtomicInteger;
import mockwebserver3.Dispatcher;
import mockwebserver3.MockResponse;
import mockwebserver3.MockWebServer;
import mockwebserver3.RecordedRequest;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/** A batch's size costs items, not threads. */
class LargeBatchTest {
    @RegisterExtension
    final SluiceServerExtension sluice = new SluiceServerExtension();

    @Test
    void tenThousandItemsCompleteWithoutAThreadPerItem() throws Exception {
        AtomicInteger peakThreads = new AtomicInteger();
        try (MockWebServer upstream = Upstream.start()) {
            upstream.setDispatcher(new Dispatcher() {
                @Override
                public MockResponse dispatch(RecordedRequest request) {
                    peakThreads.accumulateAndGet(
                            ManagementFactory.getThreadMXBean().getThreadCount(), Math::max);
                    return Upstream.ok(
                            "application/json", "{\"n\":" + request.getUrl().queryParameter("n") + "}");
                }
            });
            var running = sluice.start("""
                    upstreams:
                      bulk: {match: ["%s"], allow_private: true, limits: [{rate: 1000000/s}], max_concurrency: 64}
                    """.formatted(Upstream.origin(upstream)));
            StringBuilder doc = new StringBuilder("{\"concurrency\": 64, \"requests\": [");
            for (int i = 0; i < 10_000; i++) {
                if (i > 0) doc.append(',');
                doc.append("{\"url\":\"")
                        .append(Upstream.origin(upstream))
                        .append("/item?n=")
                        .append(i)
                        .append("\"}");
            }
            doc.append("]}");

            JsonNode responses =
                    TestHttp.batch(running.data("/v1/batch"), doc.toString()).get("responses");

            assertThat(responses).hasSize(10_000);
            for (int i = 0; i < 10_000; i += 997) {
                assertThat(responses.get(i).get("body").get("n").asInt()).isEqualTo(i);
            }
            assertThat(upstream.getRequestCount()).isEqualTo(10_000);
            // MockWebServer itself uses a thread per connection (at most 64 here); Sluice adds a
            // fixed pool. Far from one thread per item.
            assertThat(peakThreads.get()).isLessThan(400);
        }
    }
}
