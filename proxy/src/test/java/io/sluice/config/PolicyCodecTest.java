package io.sluice.config;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.fasterxml.jackson.databind.node.ObjectNode;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
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

    @Test
    void writesARateReadInAnotherSpellingInTheDocumentedOne() {
        Map<String, String> writtenAs = new LinkedHashMap<>();
        writtenAs.put("{rate: 5/sec}", "5/s burst 5");
        writtenAs.put("{rate: 2/m}", "2/min burst 2");
        writtenAs.put("{rate: 3/hour, burst: 1}", "3/h burst 1");
        writtenAs.put("{rate: 4/day}", "4/d burst 4");
        writtenAs.put("{rate: \" 6 / min \"}", "6/min burst 6");
        // No documented unit is a millisecond: the same rate per second, with the burst it had.
        writtenAs.put("{rate: 5/ms}", "5000/s burst 5");
        writtenAs.put("{rate: 5/ms, burst: 20}", "5000/s burst 20");

        writtenAs.forEach((limit, expected) -> {
            Policy policy =
                    loader.fromYaml("defaults: {limits: [" + limit + "]}").defaults();
            ObjectNode written = PolicyCodec.write(policy);
            assertThat(written.at("/limits/0/rate").asText() + " burst "
                            + written.at("/limits/0/burst").asLong())
                    .as(limit)
                    .isEqualTo(expected);
        });
    }

    @Test
    void refusesAMillisecondRateTooLargeToWritePerSecondNamingTheKey() {
        assertThatThrownBy(() -> loader.fromYaml("defaults: {limits: [{rate: 9223372036854776/ms}]}"))
                .isInstanceOf(ConfigException.class)
                .hasMessageContaining("defaults.limits[0]")
                .hasMessageContaining("9223372036854776/ms")
                .hasMessageContaining("too large");
        assertThat(loader.fromYaml("defaults: {limits: [{rate: 9223372036854775/ms}]}")
                        .defaults()
                        .limits())
                .containsExactly(new RateLimit(9_223_372_036_854_775_000L, Duration.ofSeconds(1), 9223372036854775L));
    }
}
