package io.sluice.limit;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.sluice.testing.SluiceProcess;
import java.time.Duration;
import java.util.List;
import org.junit.jupiter.api.Test;

/** A Sluice process in shared mode starts as quietly as one without Redis. */
class SharedModeStartTest {

    @Test
    void connectingToRedisPrintsNoJdkWarnings() throws Exception {
        try (RedisServer redis = RedisServer.start();
                SluiceProcess sluice = SluiceProcess.start("redis: {uri: \"" + redis.uri() + "\"}\n", List.of())) {
            await().atMost(Duration.ofSeconds(15))
                    .until(() -> sluice.output().stream().anyMatch(l -> l.contains("limits are shared")));
            // Netty would otherwise announce its use of sun.misc.Unsafe on JDK 24+ (four WARNING lines).
            assertThat(sluice.output()).noneMatch(l -> l.startsWith("WARNING"));
        }
    }
}
