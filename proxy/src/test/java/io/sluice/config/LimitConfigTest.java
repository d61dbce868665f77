package io.sluice.config;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.time.Duration;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** The config keys of limits, cooldowns, retries and shared mode. */
class LimitConfigTest {
    private final ConfigLoader loader = new ConfigLoader(Map.of("REDIS_PASSWORD", "s3cret"));

    @Test
    void defaultsBoundCooldownsAndRetries() {
        SluiceConfig config = loader.defaults();
        assertThat(config.defaults().maxCooldown()).isEqualTo(Duration.ofMinutes(10));
        assertThat(config.defaults().retry().budget()).isEqualTo(0.2);
        assertThat(config.defaults().retry().budgetReserve()).isEqualTo(10);
        assertThat(config.redis()).isEmpty();
    }

    @Test
    void readsMaxCooldownAndRetryBudgetPerUpstream() {
        SluiceConfig config = loader.fromYaml("""
                defaults:
                  retry: {budget: 0.1}
                upstreams:
                  github:
                    base_url: https://api.github.com
                    max_cooldown: 2m
                    retry: {max_attempts: 5, budget: 35%, budget_reserve: 0}
                """);
        Policy github = config.upstreams().get("github").policy();
        assertThat(github.maxCooldown()).isEqualTo(Duration.ofMinutes(2));
        assertThat(github.retry().maxAttempts()).isEqualTo(5);
        assertThat(github.retry().budget()).isEqualTo(0.35);
        assertThat(github.retry().budgetReserve()).isZero();
        assertThat(config.defaults().retry().budget()).isEqualTo(0.1);
    }

    @Test
    void readsRedisSharedMode() {
        SluiceConfig config = loader.fromYaml("""
                redis:
                  uri: "redis://:${REDIS_PASSWORD}@10.0.0.5:6379"
                  local_share: 25%
                  timeout: 20ms
                  key_prefix: "app1:"
                """);
        RedisConfig redis = config.redis().orElseThrow();
        assertThat(redis.uri().value()).isEqualTo("redis://:s3cret@10.0.0.5:6379");
        assertThat(redis.uri().toString()).doesNotContain("s3cret");
        assertThat(redis.localShare()).isEqualTo(0.25);
        assertThat(redis.timeout()).isEqualTo(Duration.ofMillis(20));
        assertThat(redis.keyPrefix()).isEqualTo("app1:");
    }

    @Test
    void redisDefaultsFailOverWithinFiftyMillisAtHalfTheRate() {
        RedisConfig redis = loader.fromYaml("redis: {uri: \"redis://127.0.0.1:6379\"}")
                .redis()
                .orElseThrow();
        assertThat(redis.timeout()).isEqualTo(Duration.ofMillis(50));
        assertThat(redis.localShare()).isEqualTo(0.5);
        assertThat(redis.keyPrefix()).isEqualTo("sluice:");
    }

    @Test
    void clusterUriGivesEachSeedNodeTheCredentialsAndOptions() {
        RedisConfig redis = loader.fromYaml(
                        "redis: {uri: \"redis-cluster://:pw@10.0.0.1:7000, 10.0.0.2:7001/0?timeout=1s\"}")
                .redis()
                .orElseThrow();
        assertThat(redis.cluster()).isTrue();
        assertThat(redis.clusterSeeds())
                .containsExactly("redis://:pw@10.0.0.1:7000/0?timeout=1s", "redis://:pw@10.0.0.2:7001/0?timeout=1s");
        assertThat(loader.fromYaml("redis: {uri: \"rediss-cluster://c.internal\"}")
                        .redis()
                        .orElseThrow()
                        .clusterSeeds())
                .containsExactly("rediss://c.internal");
        assertThat(loader.fromYaml("redis: {uri: \"redis-sentinel://s:26379#m\"}")
                        .redis()
                        .orElseThrow()
                        .cluster())
                .isFalse();
        // An empty node is an error naming the template, never the password substituted into it.
        assertThatThrownBy(
                        () -> loader.fromYaml("redis: {uri: \"redis-cluster://:${REDIS_PASSWORD:-s3cret}@a:7000,,b\"}"))
                .hasMessage("redis: uri must name each cluster node as host or host:port, separated by commas: "
                        + "\"redis-cluster://:${REDIS_PASSWORD:-s3cret}@a:7000,,b\"");
    }

    @Test
    void rejectsBudgetOutsideZeroToOneNamingTheKey() {
        assertThatThrownBy(() -> loader.fromYaml("defaults: {retry: {budget: 150%}}"))
                .isInstanceOf(ConfigException.class)
                .hasMessage("defaults.retry: budget must be between 0 and 1 (or 0% and 100%): 1.5");
        assertThatThrownBy(() -> loader.fromYaml("defaults: {retry: {budget: lots}}"))
                .hasMessage("defaults.retry.budget: expected a fraction such as 0.2 or 20%, got \"lots\"");
    }

    @Test
    void rejectsBadSharedModeValuesNamingTheKey() {
        assertThatThrownBy(() -> loader.fromYaml("redis: {uri: \"redis://x\", local_share: 0}"))
                .hasMessage("redis: local_share must be above 0 and at most 1 (or 100%): 0.0");
        assertThatThrownBy(() -> loader.fromYaml("redis: {uri: \"redis://x\", timeout: fast}"))
                .hasMessageStartingWith("redis.timeout: invalid duration \"fast\"");
        assertThatThrownBy(() -> loader.fromYaml("redis: {uri: \"http://${REDIS_PASSWORD}@x\"}"))
                .hasMessage(
                        "redis: uri must start with redis://, rediss://, redis-socket://, redis-sentinel:// or redis-cluster://: \"http://${REDIS_PASSWORD}@x\"");
        assertThatThrownBy(() -> loader.fromYaml("redis: {uri: \"redis://x\", share: 0.5}"))
                .hasMessageStartingWith("redis.share: unknown key");
    }

    @Test
    void rejectsNegativeMaxCooldown() {
        assertThatThrownBy(() -> loader.fromYaml("defaults: {max_cooldown: soon}"))
                .hasMessageStartingWith("defaults.max_cooldown: invalid duration \"soon\"");
    }

    @Test
    void readsPerKeyLimitsTheirKeyAndMaxKeys() {
        SluiceConfig config = loader.fromYaml("""
                upstreams:
                  github:
                    base_url: https://api.github.com
                    key: header:Authorization
                    max_keys: 2000
                    limits:
                      - {rate: 5000/h, per: key}
                      - {rate: 100/s}
                  search:
                    base_url: https://search.example.com
                    key: query:api_key
                """);
        Policy github = config.upstreams().get("github").policy();
        assertThat(github.key()).contains(new KeySource(KeySource.Kind.HEADER, "Authorization"));
        assertThat(github.maxKeys()).isEqualTo(2000);
        assertThat(github.limits())
                .containsExactly(
                        new RateLimit(5000, Duration.ofHours(1), 5000, true),
                        new RateLimit(100, Duration.ofSeconds(1), 100, false));
        assertThat(config.upstreams().get("search").policy().key().orElseThrow().toString())
                .isEqualTo("query:api_key");
        assertThat(config.defaults().key()).isEmpty();
        assertThat(config.defaults().maxKeys()).isEqualTo(Policy.DEFAULT_MAX_KEYS);
    }

    @Test
    void aPerKeyLimitWithoutAKeyNamesTheLimitAndTheMissingKey() {
        assertThatThrownBy(() -> loader.fromYaml("""
                        upstreams:
                          github:
                            base_url: https://api.github.com
                            limits: [{rate: 100/s}, {rate: 5000/h, per: key}]
                        """))
                .isInstanceOf(ConfigException.class)
                .hasMessageStartingWith("upstreams.github.limits[1].per: ")
                .hasMessageContaining("upstreams.github.key");
    }

    @Test
    void rejectsABadKeySourcePerOrMaxKeys() {
        assertThatThrownBy(() -> loader.fromYaml("defaults: {key: cookie:session}"))
                .isInstanceOf(ConfigException.class)
                .hasMessageStartingWith("defaults.key: ")
                .hasMessageContaining("cookie:session");
        assertThatThrownBy(() ->
                        loader.fromYaml("defaults: {key: \"header:X-Tenant\", limits: [{rate: 1/s, per: tenant}]}"))
                .isInstanceOf(ConfigException.class)
                .hasMessageStartingWith("defaults.limits[0].per: ")
                .hasMessageContaining("tenant");
        assertThatThrownBy(() -> loader.fromYaml("defaults: {max_keys: 0}"))
                .isInstanceOf(ConfigException.class)
                .hasMessageStartingWith("defaults.max_keys: ");
    }

    @Test
    void readsCooldownScopeUpstreamByDefaultAndKeyWhereAsked() {
        SluiceConfig config = loader.fromYaml("""
                upstreams:
                  github:
                    base_url: https://api.github.com
                    key: header:Authorization
                    cooldown: key
                """);
        assertThat(config.upstreams().get("github").policy().cooldown()).isEqualTo(CooldownScope.KEY);
        assertThat(config.defaults().cooldown()).isEqualTo(CooldownScope.UPSTREAM);
    }

    @Test
    void rejectsAnUnknownCooldownScopeOrKeyScopeWithoutAKey() {
        assertThatThrownBy(() -> loader.fromYaml("defaults: {key: \"header:X-Tenant\", cooldown: tenant}"))
                .isInstanceOf(ConfigException.class)
                .hasMessageStartingWith("defaults.cooldown: ")
                .hasMessageContaining("tenant")
                .hasMessageContaining("[upstream, key]");
        assertThatThrownBy(() -> loader.fromYaml("""
                        upstreams:
                          github:
                            base_url: https://api.github.com
                            cooldown: key
                        """))
                .isInstanceOf(ConfigException.class)
                .hasMessageStartingWith("upstreams.github.cooldown: ")
                .hasMessageContaining("upstreams.github.key");
    }

    @Test
    void readsARedisKeySecretFromTheEnvironmentAndRejectsAShortOneWithoutShowingIt() {
        var withSecret = new ConfigLoader(Map.of("KEY_SECRET", "0123456789abcdef-long-enough"))
                .fromYaml("redis: {uri: \"redis://127.0.0.1:6379\", key_secret: \"${KEY_SECRET}\"}")
                .redis()
                .orElseThrow();
        assertThat(withSecret.keySecret().orElseThrow().value()).isEqualTo("0123456789abcdef-long-enough");
        assertThat(withSecret.toString()).contains("${KEY_SECRET}").doesNotContain("long-enough");
        assertThat(loader.fromYaml("redis: {uri: \"redis://127.0.0.1:6379\"}")
                        .redis()
                        .orElseThrow()
                        .keySecret())
                .isEmpty();
        assertThatThrownBy(() -> new ConfigLoader(Map.of("KEY_SECRET", "short-secret"))
                        .fromYaml("redis: {uri: \"redis://127.0.0.1:6379\", key_secret: \"${KEY_SECRET}\"}"))
                .isInstanceOf(ConfigException.class)
                .hasMessageStartingWith("redis.key_secret: ")
                .hasMessageContaining("16 bytes")
                .hasMessageContaining("${KEY_SECRET}")
                .hasMessageNotContaining("short-secret");
    }

    @Test
    void keyMetricsIsOffByDefaultBoundedAndNeedsAKey() {
        assertThat(loader.defaults().defaults().keyMetrics()).isZero();
        assertThat(loader.fromYaml("defaults: {key: \"header:X-Tenant\", key_metrics: 20}")
                        .defaults()
                        .keyMetrics())
                .isEqualTo(20);
        assertThatThrownBy(() -> loader.fromYaml("defaults: {key: \"header:X-Tenant\", key_metrics: 101}"))
                .isInstanceOf(ConfigException.class)
                .hasMessageStartingWith("defaults.key_metrics: ")
                .hasMessageContaining("101");
        assertThatThrownBy(() -> loader.fromYaml("defaults: {key_metrics: 5}"))
                .isInstanceOf(ConfigException.class)
                .hasMessageStartingWith("defaults.key_metrics: ")
                .hasMessageContaining("defaults.key");
    }

    private static final String GITHUB_KEYED = """
            upstreams:
              github:
                base_url: https://api.github.com
                key: header:Authorization
                limits: [{rate: 5000/h, per: key}, {rate: 100/s}]
            """;

    @Test
    void readsKeyLimitsByLabelAndByAKeyFromTheEnvironmentKeepingOnlyItsTemplateAndDigest() {
        var env = Map.of("TENANT_A_TOKEN", "ghp_tenantAAAAsecret0001");
        Policy github = new ConfigLoader(env)
                .fromYaml(GITHUB_KEYED + """
                            key_limits:
                              - {key: "Bearer ${TENANT_A_TOKEN}", limits: [{rate: 15000/h}]}
                              - {label: 3f9c0a71be42, limits: [{rate: 10/min, burst: 2, per: key}]}
                              - {label: none, limits: [{rate: 1/s}]}
                        """)
                .upstreams()
                .get("github")
                .policy();
        assertThat(github.keyLimits()).hasSize(3);
        KeyLimit byKey = github.keyLimits().get(0);
        assertThat(byKey.template()).hasValue("Bearer ${TENANT_A_TOKEN}");
        assertThat(byKey.label()).isEmpty();
        // Only a digest of the value is kept, under this process's own secret.
        assertThat(byKey.digest()).hasValue(KeyLimit.digest("Bearer ghp_tenantAAAAsecret0001"));
        assertThat(byKey.toString() + github).doesNotContain("ghp_tenantAAAAsecret0001");
        assertThat(byKey.limits())
                .containsExactly(RateLimit.parse("15000/h", null).perKey(true));
        assertThat(github.keyLimits().get(1).label()).hasValue("3f9c0a71be42");
        assertThat(github.keyLimits().get(1).limits())
                .containsExactly(RateLimit.parse("10/min", 2L).perKey(true));
        assertThat(github.keyLimits().get(2).label()).hasValue("none");
        assertThat(new ConfigLoader(Map.of()).defaults().defaults().keyLimits()).isEmpty();
    }

    @Test
    void aBadKeyLimitIsAnErrorNamingTheEntryAndNeverTheKeysValue() {
        var env = Map.of("TENANT_A_TOKEN", "ghp_tenantAAAAsecret0001", "ALSO_A", "ghp_tenantAAAAsecret0001");
        ConfigLoader withEnv = new ConfigLoader(env);
        java.util.function.BiConsumer<String, String> rejects = (entries, where) -> assertThatThrownBy(
                        () -> withEnv.fromYaml(GITHUB_KEYED + "    key_limits:\n" + entries))
                .isInstanceOf(ConfigException.class)
                .hasMessageStartingWith(where + ": ")
                .hasMessageNotContaining("ghp_tenantAAAAsecret0001");
        // A value written in the config itself would be kept and shown: it must come from the environment.
        rejects.accept(
                "      - {key: \"Bearer ghp_tenantAAAAsecret0001\", limits: [{rate: 1/s}]}\n",
                "upstreams.github.key_limits[0].key");
        rejects.accept(
                "      - {key: \"${UNSET_TOKEN}\", limits: [{rate: 1/s}]}\n", "upstreams.github.key_limits[0].key");
        rejects.accept(
                "      - {key: \"$$ghp_tenantAAAAsecret0001\", limits: [{rate: 1/s}]}\n",
                "upstreams.github.key_limits[0].key");
        rejects.accept(
                "      - {label: \"ghp_tenantAAAAsecret0001\", limits: [{rate: 1/s}]}\n",
                "upstreams.github.key_limits[0].label");
        rejects.accept("      - {label: 3F9C, limits: [{rate: 1/s}]}\n", "upstreams.github.key_limits[0].label");
        rejects.accept(
                "      - {label: 3f9c0a71be42, key: \"${TENANT_A_TOKEN}\", limits: [{rate: 1/s}]}\n",
                "upstreams.github.key_limits[0]");
        rejects.accept("      - {label: 3f9c0a71be42}\n", "upstreams.github.key_limits[0].limits");
        rejects.accept(
                "      - {label: 3f9c0a71be42, limits: [{rate: 1/fortnight}]}\n",
                "upstreams.github.key_limits[0].limits[0]");
        rejects.accept(
                "      - {label: 3f9c0a71be42, limits: [{rate: 1/s, per: upstream}]}\n",
                "upstreams.github.key_limits[0].limits[0].per");
        rejects.accept(
                "      - {label: 3f9c0a71be42, limits: [{rate: 1/s}], tier: gold}\n",
                "upstreams.github.key_limits[0].tier");
        rejects.accept("      - \"ghp_tenantAAAAsecret0001\"\n", "upstreams.github.key_limits[0]");
        // Two entries for one key, by the same label or the same value.
        rejects.accept(
                "      - {label: 3f9c0a71be42, limits: [{rate: 1/s}]}\n"
                        + "      - {label: 3f9c0a71be42, limits: [{rate: 2/s}]}\n",
                "upstreams.github.key_limits[1]");
        assertThatThrownBy(() -> withEnv.fromYaml(GITHUB_KEYED + """
                            key_limits:
                              - {key: "${TENANT_A_TOKEN}", limits: [{rate: 1/s}]}
                              - {key: "${ALSO_A}", limits: [{rate: 2/s}]}
                        """))
                .isInstanceOf(ConfigException.class)
                .hasMessageStartingWith("upstreams.github.key_limits[1]: ")
                .hasMessageContaining("key_limits[0]")
                .hasMessageContaining("${ALSO_A}")
                .hasMessageNotContaining("ghp_tenantAAAAsecret0001");
        // Entries need a key: and a per: key limit for every other key.
        assertThatThrownBy(() -> loader.fromYaml("""
                        upstreams:
                          github:
                            base_url: https://api.github.com
                            limits: [{rate: 100/s}]
                            key_limits: [{label: 3f9c0a71be42, limits: [{rate: 1/s}]}]
                        """))
                .isInstanceOf(ConfigException.class)
                .hasMessageStartingWith("upstreams.github.key_limits: ")
                .hasMessageContaining("upstreams.github.key");
        assertThatThrownBy(() -> loader.fromYaml("""
                        upstreams:
                          github:
                            base_url: https://api.github.com
                            key: header:Authorization
                            limits: [{rate: 100/s}]
                            key_limits: [{label: 3f9c0a71be42, limits: [{rate: 1/s}]}]
                        """))
                .isInstanceOf(ConfigException.class)
                .hasMessageStartingWith("upstreams.github.key_limits: ")
                .hasMessageContaining("per: key");
    }
}
