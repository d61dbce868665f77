package io.sluice.config;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.time.Duration;
import java.util.Map;
import org.junit.jupiter.api.Test;

class ConfigLoaderTest {
    private final ConfigLoader loader = new ConfigLoader(Map.of("GITHUB_TOKEN", "ghp_secret", "PORT", "9100"));

    @Test
    void builtInDefaultsNeedNoFile() {
        SluiceConfig config = new ConfigLoader(Map.of()).defaults();
        assertThat(config.listen()).isEqualTo(new HostPort("127.0.0.1", 7600));
        assertThat(config.admin().listen()).isEqualTo(new HostPort("127.0.0.1", 7601));
        assertThat(config.admin().hasToken()).isFalse();
        assertThat(config.defaults().limits()).containsExactly(new RateLimit(50, Duration.ofSeconds(1), 50));
        assertThat(config.defaults().maxConcurrency()).isEqualTo(32);
        assertThat(config.defaults().timeouts())
                .isEqualTo(new Timeouts(Duration.ofSeconds(5), Duration.ofSeconds(30), Duration.ofSeconds(60)));
        assertThat(config.cache().maxSize()).isEqualTo(DataSize.ofMegabytes(256));
        assertThat(config.upstreams()).isEmpty();
        assertThat(config.redis()).isEmpty();
    }

    @Test
    void upstreamIdleTimeoutIsThirtySecondsUnlessSetAndMustBePositive() {
        assertThat(new ConfigLoader(Map.of()).defaults().server().upstreamIdleTimeout())
                .isEqualTo(Duration.ofSeconds(30));
        assertThat(loader.fromYaml("server: {upstream_idle_timeout: 2m}")
                        .server()
                        .upstreamIdleTimeout())
                .isEqualTo(Duration.ofMinutes(2));
        assertThatThrownBy(() -> loader.fromYaml("server: {upstream_idle_timeout: 0s}"))
                .hasMessageContaining("upstream_idle_timeout must be positive");
    }

    @Test
    void upstreamInheritsDefaultsAndOverridesOnlyWhatItStates() {
        SluiceConfig config = loader.fromYaml("""
                defaults:
                  max_wait: 10s
                  timeouts: {connect: 2s}
                upstreams:
                  github:
                    base_url: https://api.github.com/
                    limits: [{rate: 5000/h}, {rate: 90/min, burst: 10}]
                    timeouts: {total: 15s}
                    headers: {Authorization: "Bearer ${GITHUB_TOKEN}"}
                """);
        Policy github = config.upstreams().get("github").policy();
        assertThat(github.limits())
                .containsExactly(
                        new RateLimit(5000, Duration.ofHours(1), 5000), new RateLimit(90, Duration.ofMinutes(1), 10));
        assertThat(github.maxWait()).isEqualTo(Duration.ofSeconds(10));
        assertThat(github.timeouts())
                .isEqualTo(new Timeouts(Duration.ofSeconds(2), Duration.ofSeconds(30), Duration.ofSeconds(15)));
        assertThat(github.headers().get("Authorization").value()).isEqualTo("Bearer ghp_secret");
        assertThat(github.headers().get("Authorization").toString()).isEqualTo("Bearer ${GITHUB_TOKEN}");
        assertThat(config.upstreams().get("github").baseUrl())
                .hasValueSatisfying(url -> assertThat(url.toString()).isEqualTo("https://api.github.com"));
    }

    @Test
    void substitutesEnvironmentWithDefaults() {
        SluiceConfig config = loader.fromYaml("""
                listen: "127.0.0.1:${PORT}"
                admin: {listen: "127.0.0.1:${ADMIN_PORT:-9101}", token: "${MISSING:-}"}
                """);
        assertThat(config.listen().port()).isEqualTo(9100);
        assertThat(config.admin().listen().port()).isEqualTo(9101);
        assertThat(config.admin().token().value()).isEmpty();
    }

    @Test
    void parsesHumanDurationsAndSizes() {
        assertThat(Durations.parse("250ms")).isEqualTo(Duration.ofMillis(250));
        assertThat(Durations.parse("2m")).isEqualTo(Duration.ofMinutes(2));
        assertThat(Durations.parse("1m30s")).isEqualTo(Duration.ofSeconds(90));
        assertThat(DataSize.parse("512KB").bytes()).isEqualTo(512 * 1024);
        assertThat(DataSize.parse("8MB").bytes()).isEqualTo(8L * 1024 * 1024);
        assertThat(RateLimit.parse("90/min", null).perSecond()).isEqualTo(1.5);
    }

    @Test
    void errorNamesKeyPathAndBadValue() {
        assertThatThrownBy(() -> loader.fromYaml("upstreams: {github: {base_url: https://x.io, max_wait: 5x}}"))
                .isInstanceOf(ConfigException.class)
                .hasMessage("upstreams.github.max_wait: invalid duration \"5x\" (use e.g. 250ms, 5s, 2m, 1h)");
        assertThatThrownBy(() -> loader.fromYaml("upstreams: {a: {match: [x.io], limits: [{rate: 9/fortnight}]}}"))
                .hasMessageStartingWith("upstreams.a.limits[0]: invalid rate \"9/fortnight\"");
        assertThatThrownBy(() -> loader.fromYaml("cache: {max_size: lots}"))
                .hasMessageStartingWith("cache.max_size: invalid size \"lots\"");
        assertThatThrownBy(() -> loader.fromYaml("defaults: {max_concurrency: 0}"))
                .hasMessage("defaults: max_concurrency must be at least 1: 0");
    }

    /** Found by ConfigLoaderFuzzTest: these overflowed into ArithmeticException, or into a toNanos() later. */
    @Test
    void refusesDurationsAndSizesTooLargeToCountNamingTheKey() {
        assertThatThrownBy(() -> loader.fromYaml("defaults: {max_wait: 9223372036854775807d}"))
                .isInstanceOf(ConfigException.class)
                .hasMessage("defaults.max_wait: duration \"9223372036854775807d\" is too long (at most 106751d,"
                        + " about 292 years)");
        assertThatThrownBy(() -> loader.fromYaml("defaults: {cache: {max_ttl: 106752d}}"))
                .hasMessageStartingWith("defaults.cache.max_ttl: duration \"106752d\" is too long");
        assertThat(Durations.parse("106751d")).isEqualTo(Durations.MAX);
        assertThat(Durations.parse(Durations.format(Durations.MAX))).isEqualTo(Durations.MAX);
        assertThatThrownBy(() -> loader.fromYaml("cache: {max_size: 99999999999GB}"))
                .isInstanceOf(ConfigException.class)
                .hasMessage("cache.max_size: size \"99999999999GB\" is too large (at most 8 EiB)");
    }

    @Test
    void rejectsUnknownKeysSoTyposDoNotFallBackSilently() {
        assertThatThrownBy(() -> loader.fromYaml("defaults: {max_wiat: 5s}"))
                .hasMessageStartingWith("defaults.max_wiat: unknown key");
        assertThatThrownBy(() -> loader.fromYaml("lisen: 1.2.3.4:5")).hasMessageStartingWith("lisen: unknown key");
    }

    @Test
    void refusesUnsetEnvironmentVariableWithoutDefault() {
        assertThatThrownBy(() ->
                        loader.fromYaml("upstreams: {x: {match: [x.io], headers: {X-Key: \"${NOT_SET_ANYWHERE}\"}}}"))
                .hasMessageStartingWith("upstreams.x.headers.X-Key: environment variable NOT_SET_ANYWHERE is not set");
    }

    @Test
    void refusesUpstreamWithoutOriginsOrWithReservedName() {
        assertThatThrownBy(() -> loader.fromYaml("upstreams: {x: {max_wait: 1s}}"))
                .hasMessageStartingWith("upstreams.x: an upstream needs base_url or match");
        assertThatThrownBy(() -> loader.fromYaml("upstreams: {v1: {match: [a.io]}}"))
                .hasMessageContaining("invalid upstream name \"v1\"");
        assertThatThrownBy(() -> loader.fromYaml("upstreams: {x: {base_url: file:///etc}}"))
                .hasMessageStartingWith("upstreams.x.base_url: unsupported scheme");
    }

    @Test
    void reportsInvalidYamlWithLine() {
        assertThatThrownBy(() -> loader.fromYaml("listen: [\n  oops")).hasMessageStartingWith("invalid YAML at line");
    }

    @Test
    void templatesKeepSecretsOutOfToString() {
        Interpolated secret = Interpolated.of("Bearer ${GITHUB_TOKEN}", Map.of("GITHUB_TOKEN", "ghp_secret"));
        assertThat(secret.value()).isEqualTo("Bearer ghp_secret");
        assertThat(secret).hasToString("Bearer ${GITHUB_TOKEN}");
        assertThat(secret.fromEnvironment()).isTrue();
        assertThat(Interpolated.of("cost: $$5", Map.of()).value()).isEqualTo("cost: $5");
    }
}
