package io.sluice.deploy;

import static org.assertj.core.api.Assertions.assertThat;

import io.sluice.testing.SluiceProcess;
import java.net.URI;
import java.util.List;
import org.junit.jupiter.api.Test;

/** The container test's scenario against Sluice as a plain process (what `java -jar` runs). */
class ProcessBatchTest {
    @Test
    void runsABatchThroughSluiceAsAProcess() throws Exception {
        try (SluiceProcess sluice = SluiceProcess.start(BatchScenario.CONFIG, List.of("-XX:+UseSerialGC", "-Xmx64m"))) {
            URI admin = URI.create("http://127.0.0.1:" + sluice.adminPort());
            BatchScenario.run(URI.create("http://127.0.0.1:" + sluice.dataPort()), admin, admin.toString());
            sluice.terminate();
            assertThat(sluice.awaitExit(30)).isZero();
        }
    }
}
