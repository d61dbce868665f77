package io.sluice.admin;

import static org.assertj.core.api.Assertions.assertThat;

import io.sluice.config.ConfigLoader;
import io.sluice.config.SluiceConfig;
import io.sluice.config.UpstreamConfig;
import java.util.Map;
import org.junit.jupiter.api.Test;

/**
 * The admin API shows a policy as JSON and validates edits by reading that JSON back; every
 * policy key must survive the round trip, or a new config key silently breaks admin edits.
 */
class PolicyJsonTest {
    private final ConfigLoader loader = new ConfigLoader(Map.of("TOKEN", "s3cret"));

    @Test
    void everyPolicyKeyRoundTripsThroughTheAdminJson() {
        SluiceConfig config = loader.fromYaml("""
                upstreams:
                  everything:
                    base_url: https://api.example.com
                    limits: [{rate: 5000/h}, {rate: 90/min, burst: 10}]
                    max_concurrency: 7
                    max_wait: 1500ms
                    max_cooldown: 3m
                    timeouts: {connect: 2s, response: 9s, total: 40s}
                    retry: {max_attempts: 5, base_delay: 50ms, max_delay: 4s, budget: 35%, budget_reserve: 3}
                    cache: {enabled: false, max_ttl: 2h, default_ttl: 30s}
                    headers: {Authorization: "Bearer ${TOKEN}", X-Team: platform}
                    allow_private: true
                """);
        UpstreamConfig original = config.upstreams().get("everything");

        var json = PolicyJson.policy(original.policy(), false);
        UpstreamConfig reread = loader.upstream(
                "everything", json.put("base_url", "https://api.example.com"), ConfigLoader.builtinDefaultsNode());

        assertThat(reread.policy()).isEqualTo(original.policy());
    }
}
