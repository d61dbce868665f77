package io.sluice.config;

import static org.assertj.core.api.Assertions.assertThat;

import com.code_intelligence.jazzer.junit.FuzzTest;
import io.sluice.fuzz.FuzzInputs;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.Map;

/**
 * The config loader (YAML, {@code ${ENV}} substitution, durations, sizes): any text is a config or
 * a {@link ConfigException}; the value parsers fail only with {@link IllegalArgumentException}.
 */
class ConfigLoaderFuzzTest {
    private static final ConfigLoader LOADER = new ConfigLoader(Map.of(
            "SLUICE_ADMIN_TOKEN", "s3cret",
            "TOKEN", "t0ken",
            "EMPTY", "",
            "PORT", "7600",
            "RATE", "10/s",
            "TTL", "5m",
            "SIZE", "8MB"));

    @FuzzTest(maxDuration = FuzzInputs.DURATION)
    void loadsAnyYamlAsAConfigOrAConfigException(byte[] input) {
        String yaml = new String(input, StandardCharsets.UTF_8);
        // The loader reads the files a config names (CA bundles, client keys); a device such as
        // /dev/zero never ends, and is the operator's to avoid, not the parser's.
        if (yaml.contains("dev")) return;
        SluiceConfig config;
        try {
            config = LOADER.fromYaml(yaml);
        } catch (ConfigException expected) {
            assertThat(expected.getMessage()).isNotBlank();
            return;
        }
        checkPolicy(config.defaults());
        config.upstreams().values().forEach(upstream -> checkPolicy(upstream.policy()));
        assertThat(config.server().idleTimeout()).isGreaterThanOrEqualTo(Duration.ZERO);
        assertThat(config.server().maxBatchBytes().bytes()).isNotNegative();
    }

    private static void checkPolicy(Policy policy) {
        assertThat(policy.maxWait()).isGreaterThanOrEqualTo(Duration.ZERO);
        assertThat(policy.maxCooldown()).isGreaterThanOrEqualTo(Duration.ZERO);
        assertThat(policy.timeouts().total()).isGreaterThanOrEqualTo(Duration.ZERO);
        assertThat(policy.cache().maxTtl()).isGreaterThanOrEqualTo(Duration.ZERO);
        policy.limits().forEach(limit -> assertThat(limit.perSecond()).isPositive());
    }

    @FuzzTest(maxDuration = FuzzInputs.DURATION)
    void readsAnyDurationOrRefusesIt(byte[] input) {
        String text = FuzzInputs.latin1(input);
        Duration duration;
        try {
            duration = Durations.parse(text);
        } catch (IllegalArgumentException expected) {
            return;
        }
        assertThat(duration).isGreaterThanOrEqualTo(Duration.ZERO);
        assertThat(Durations.parse(Durations.format(duration))).isEqualTo(duration);
    }

    @FuzzTest(maxDuration = FuzzInputs.DURATION)
    void readsAnySizeOrRefusesIt(byte[] input) {
        String text = FuzzInputs.latin1(input);
        DataSize size;
        try {
            size = DataSize.parse(text);
        } catch (IllegalArgumentException expected) {
            return;
        }
        assertThat(size.bytes()).isNotNegative();
        assertThat(DataSize.parse(size.toString())).isEqualTo(size);
    }

    @FuzzTest(maxDuration = FuzzInputs.DURATION)
    void substitutesAnyTemplateOrNamesTheMissingVariable(byte[] input) {
        String template = FuzzInputs.latin1(input);
        Interpolated interpolated;
        try {
            interpolated = Interpolated.of(template, Map.of("SET", "value", "EMPTY", ""));
        } catch (IllegalArgumentException expected) {
            assertThat(expected.getMessage()).startsWith("environment variable ");
            return;
        }
        assertThat(interpolated.template()).isEqualTo(template);
        // A literal value survives being written back as a template.
        Interpolated literal = Interpolated.literal(interpolated.value());
        assertThat(Interpolated.of(literal.template(), Map.of()).value()).isEqualTo(interpolated.value());
    }
}
