package io.sluice.limit;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.sluice.testing.SluiceServerExtension;
import io.sluice.testing.TestHttp;
import java.time.Duration;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * In shared mode a replica is not ready until Redis has answered: one that took traffic on its
 * local share while its peers share one budget would overspend it.
 */
class SharedModeReadinessTest {
    @RegisterExtension
    final SluiceServerExtension sluice = new SluiceServerExtension();

    @Test
    void notReadyUntilRedisHasAnsweredThenReadyAndStaysReadyThroughAnOutage() throws Exception {
        try (RedisServer redis = RedisServer.start()) {
            redis.kill();
            var running = sluice.start("redis: {uri: \"" + redis.uri() + "\"}");

            assertThat(TestHttp.get(running.admin("/readyz")).statusCode()).isEqualTo(503);
            // The data port already serves, on the local share, for anyone who does not wait.
            assertThat(TestHttp.get(running.admin("/healthz")).statusCode()).isEqualTo(200);

            redis.restart();
            await().atMost(Duration.ofSeconds(15))
                    .until(() -> TestHttp.get(running.admin("/readyz")).statusCode() == 200);

            redis.kill();
            assertThat(TestHttp.get(running.admin("/readyz")).statusCode())
                    .as("a later outage falls back to the local share; it does not take the replica out")
                    .isEqualTo(200);
        }
    }
}
