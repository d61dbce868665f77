package io.sluice.admin;

import static org.assertj.core.api.Assertions.assertThat;

import io.sluice.config.ConfigLoader;
import io.sluice.config.SluiceConfig;
import io.sluice.config.UpstreamConfig;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import okhttp3.tls.HeldCertificate;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The admin API shows a policy as JSON and validates edits by reading that JSON back; every
 * policy key must survive the round trip, or a new config key silently breaks admin edits.
 */
class PolicyJsonTest {
    private final ConfigLoader loader = new ConfigLoader(Map.of("TOKEN", "s3cret"));

    @TempDir
    Path dir;

    @Test
    void everyPolicyKeyRoundTripsThroughTheAdminJson() throws Exception {
        HeldCertificate client =
                new HeldCertificate.Builder().commonName("client").build();
        Path ca = Files.writeString(dir.resolve("ca.pem"), client.certificatePem());
        Path cert = Files.writeString(dir.resolve("client.pem"), client.certificatePem());
        Path key = Files.writeString(dir.resolve("client.key"), client.privateKeyPkcs8Pem());
        SluiceConfig config = loader.fromYaml("""
                upstreams:
                  everything:
                    base_url: https://api.example.com
                    limits: [{rate: 5000/h, per: key}, {rate: 90/min, burst: 10}]
                    key: "header:X-Tenant"
                    max_keys: 250
                    cooldown: key
                    key_metrics: 5
                    learn: true
                    free_304: true
                    max_concurrency: 7
                    max_wait: 1500ms
                    max_cooldown: 3m
                    timeouts: {connect: 2s, response: 9s, total: 40s}
                    retry: {max_attempts: 5, base_delay: 50ms, max_delay: 4s, budget: 35%%, budget_reserve: 3}
                    cache: {enabled: false, max_ttl: 2h, default_ttl: 30s, min_uses: 2, heuristic: 10%%}
                    headers: {Authorization: "Bearer ${TOKEN}", X-Team: platform}
                    allow_private: true
                    connect: tunnel
                    tunnel_idle_timeout: 45s
                    tls: {ca_file: "%s", client_cert: "%s", client_key: "%s", min_version: TLSv1.3}
                """.formatted(ca, cert, key));
        UpstreamConfig original = config.upstreams().get("everything");

        var json = PolicyJson.policy(original.policy(), false);
        UpstreamConfig reread = loader.upstream(
                "everything", json.put("base_url", "https://api.example.com"), ConfigLoader.builtinDefaultsNode());

        assertThat(reread.policy()).isEqualTo(original.policy());
        assertThat(json.get("connect").asText()).isEqualTo("tunnel");
        assertThat(json.get("tls").get("client_key").asText()).isEqualTo(key.toString());
        assertThat(json.toString()).doesNotContain("PRIVATE KEY");
    }

    @Test
    void learnedOnlyLimitsRoundTripAsLimitsLearn() {
        UpstreamConfig original = loader.fromYaml("""
                        upstreams:
                          gh: {base_url: https://api.github.com, limits: learn}
                        """).upstreams().get("gh");
        var json = PolicyJson.policy(original.policy(), false);
        assertThat(json.get("limits").asText()).isEqualTo("learn");
        UpstreamConfig reread = loader.upstream(
                "gh", json.put("base_url", "https://api.github.com"), ConfigLoader.builtinDefaultsNode());
        assertThat(reread.policy()).isEqualTo(original.policy());
    }
}
