package io.sluice.config;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.node.ObjectNode;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/**
 * {@link PolicyCodec} writes what it reads: the tree it writes names the keys it lists, and reads
 * back to the same policy. (Every key's round trip, TLS files included: PolicyJsonTest.)
 */
class PolicyCodecTest {
    private final ConfigLoader loader = new ConfigLoader(Map.of("TOKEN", "s3cret"));

    @Test
    void writesTheKeysItReadsAndReadsBackTheSamePolicy() {
        UpstreamConfig original = loader.fromYaml("""
                upstreams:
                  tenants:
                    match: [api.example.com]
                    key: "header:X-Tenant"
                    limits: [{rate: 100/s, per: key}]
                    key_limits: [{label: none, limits: [{rate: 5/s}]}]
                    priority: {weights: {interactive: 5}, reserve: {interactive: 20%}}
                    headers: {Authorization: "Bearer ${TOKEN}"}
                """).upstreams().get("tenants");

        ObjectNode written = UpstreamCodec.write(original, (name, value) -> value.template());

        List<String> names = new ArrayList<>();
        written.fieldNames().forEachRemaining(names::add);
        names.remove("match");
        assertThat(names).containsExactlyInAnyOrderElementsOf(PolicyCodec.NAMES);
        assertThat(written.get("headers").get("Authorization").asText()).isEqualTo("Bearer ${TOKEN}");
        assertThat(loader.upstream("tenants", written, ConfigLoader.builtinDefaultsNode()))
                .isEqualTo(original);
    }

    @Test
    void writesHeadersAsTheCallerAsks() {
        Policy policy =
                loader.fromYaml("defaults: {headers: {X-Team: platform}}").defaults();

        assertThat(PolicyCodec.write(policy).get("headers").get("X-Team").asText())
                .isEqualTo("platform");
        assertThat(PolicyCodec.write(policy, (name, value) -> name + "=" + value.template())
                        .get("headers")
                        .get("X-Team")
                        .asText())
                .isEqualTo("X-Team=platform");
    }
}
