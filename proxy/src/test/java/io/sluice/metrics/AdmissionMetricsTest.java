package io.sluice.metrics;

import static org.assertj.core.api.Assertions.assertThat;

import io.sluice.testing.SluiceServerExtension;
import io.sluice.testing.TestHttp;
import io.sluice.testing.Upstream;
import mockwebserver3.MockResponse;
import mockwebserver3.MockWebServer;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/** Retries, cooldowns and their live state reach /metrics through the one listener. */
class AdmissionMetricsTest {
    @RegisterExtension
    final SluiceServerExtension sluice = new SluiceServerExtension();

    @Test
    void retriesAndCooldownsAreCountedAndTheCooldownIsLive() throws Exception {
        try (MockWebServer flaky = Upstream.start();
                MockWebServer limited = Upstream.start()) {
            flaky.enqueue(new MockResponse.Builder().code(502).build());
            flaky.enqueue(Upstream.ok("text/plain", "second time lucky"));
            limited.enqueue(new MockResponse.Builder()
                    .code(429)
                    .addHeader("Retry-After", "120")
                    .build());
            var running = sluice.start("""
                    upstreams:
                      flaky: {base_url: "%s", allow_private: true, retry: {base_delay: 1ms, max_delay: 2ms}}
                      limited: {base_url: "%s", allow_private: true, max_wait: 1s}
                    """.formatted(Upstream.origin(flaky), Upstream.origin(limited)));

            assertThat(TestHttp.get(running.data("/flaky/x")).body()).isEqualTo("second time lucky");
            assertThat(TestHttp.get(running.data("/limited/x")).statusCode()).isEqualTo(429);

            String metrics = TestHttp.get(running.admin("/metrics")).body();
            assertThat(metrics)
                    .containsPattern("sluice_retries_total\\{[^}]*reason=\"502\"[^}]*upstream=\"flaky\"[^}]*} 1\\.0");
            assertThat(metrics)
                    .containsPattern(
                            "sluice_cooldowns_total\\{[^}]*reason=\"retry_after\"[^}]*upstream=\"limited\"[^}]*} 1\\.0");
            assertThat(metrics).containsPattern("sluice_cooldown_active\\{upstream=\"limited\"} 1\\.0");
            assertThat(flaky.getRequestCount()).isEqualTo(2);
            assertThat(limited.getRequestCount()).isEqualTo(1);
        }
    }
}
