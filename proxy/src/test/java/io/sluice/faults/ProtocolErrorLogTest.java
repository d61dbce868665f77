package io.sluice.faults;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import io.sluice.testing.FaultyUpstream;
import io.sluice.testing.SluiceServerExtension;
import io.sluice.testing.TestHttp;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.logging.Handler;
import java.util.logging.Level;
import java.util.logging.LogRecord;
import java.util.logging.Logger;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/** Many broken upstream responses: each is counted, but the log gets one line, not a stack trace each. */
class ProtocolErrorLogTest {
    @RegisterExtension
    final SluiceServerExtension sluice = new SluiceServerExtension();

    private final List<LogRecord> records = new CopyOnWriteArrayList<>();
    private final Logger root = Logger.getLogger("");
    private final Handler capture = new Handler() {
        @Override
        public void publish(LogRecord record) {
            if (record.getLevel().intValue() >= Level.WARNING.intValue()) records.add(record);
        }

        @Override
        public void flush() {}

        @Override
        public void close() {}
    };
    private FaultyUpstream upstream;

    @BeforeEach
    void listen() {
        root.addHandler(capture);
    }

    @AfterEach
    void stop() throws Exception {
        root.removeHandler(capture);
        if (upstream != null) upstream.close();
    }

    @Test
    void manyInvalidStatusLinesLogOneLineAndCountEach() throws Exception {
        upstream = new FaultyUpstream(FaultyUpstream.raw("HTTP/1.1 2x0 OK\r\nContent-Length: 0\r\n\r\n"));
        var running = sluice.start("""
                upstreams:
                  faulty: {base_url: %s, allow_private: true, retry: {max_attempts: 1}, limits: [{rate: 1000/s, burst: 1000}]}
                """.formatted(upstream.origin()));
        StringBuilder items = new StringBuilder();
        for (int i = 0; i < 200; i++) {
            items.append(i == 0 ? "" : ",")
                    .append("{\"url\": \"")
                    .append(upstream.origin())
                    .append("/x?i=")
                    .append(i)
                    .append("\"}");
        }

        JsonNode responses = TestHttp.batch(running.data("/v1/batch"), "{\"requests\": [" + items + "]}")
                .get("responses");

        assertThat(responses).hasSize(200);
        for (JsonNode r : responses)
            assertThat(r.get("error").get("type").asText()).isEqualTo("upstream_reset");
        assertThat(records)
                .as("log lines at WARNING or above")
                .hasSizeLessThanOrEqualTo(2)
                .allSatisfy(r -> {
                    assertThat(r.getThrown()).isNull();
                    assertThat(r.getLoggerName()).isEqualTo("io.sluice.upstream");
                });
        assertThat(java.text.MessageFormat.format(
                        records.get(0).getMessage(), records.get(0).getParameters()))
                .startsWith("upstream faulty: invalid_status_line: upstream sent an invalid status line");
        String metrics = TestHttp.get(running.admin("/metrics")).body();
        assertThat(metrics)
                .contains(
                        "sluice_upstream_protocol_errors_total{type=\"invalid_status_line\",upstream=\"faulty\"} 200.0");
    }
}
