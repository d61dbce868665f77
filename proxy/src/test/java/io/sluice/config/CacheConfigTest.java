package io.sluice.config;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.time.Duration;
import java.util.Map;
import java.util.Optional;
import org.junit.jupiter.api.Test;

class CacheConfigTest {
    private final ConfigLoader loader = new ConfigLoader(Map.of());

    @Test
    void defaultsBoundTheCacheAndTheBytesInFlight() {
        CacheConfig cache = loader.defaults().cache();

        assertThat(cache.maxSize()).isEqualTo(DataSize.ofMegabytes(256));
        assertThat(cache.maxEntrySize()).isEqualTo(DataSize.ofMegabytes(8));
        assertThat(cache.maxInFlight()).isEqualTo(DataSize.ofMegabytes(64));
    }

    @Test
    void readsMaxInFlight() {
        CacheConfig cache = loader.fromYaml("cache: {max_in_flight: 16MB}").cache();

        assertThat(cache.maxInFlight()).isEqualTo(DataSize.ofMegabytes(16));
    }

    @Test
    void namesABadMaxInFlight() {
        assertThatThrownBy(() -> loader.fromYaml("cache: {max_in_flight: lots}"))
                .isInstanceOf(ConfigException.class)
                .hasMessageStartingWith("cache.max_in_flight: invalid size \"lots\"");
    }

    @Test
    void refusesAnEntryLimitAboveTheWholeCache() {
        assertThatThrownBy(() -> loader.fromYaml("cache: {max_size: 4MB, max_entry_size: 8MB}"))
                .isInstanceOf(ConfigException.class)
                .hasMessage("cache: max_entry_size cannot exceed max_size: 8MB > 4MB");
    }

    @Test
    void refusesUnknownCacheKeys() {
        assertThatThrownBy(() -> loader.fromYaml("cache: {max_entries: 5}"))
                .isInstanceOf(ConfigException.class)
                .hasMessageContaining("cache.max_entries: unknown key")
                .hasMessageContaining("max_in_flight");
    }

    @Test
    void readsThePerUpstreamCachePolicy() {
        SluiceConfig config = loader.fromYaml("""
                upstreams:
                  github:
                    base_url: https://api.github.com
                    cache: {enabled: true, max_ttl: 10m, default_ttl: 30s}
                """);

        CachePolicy policy = config.upstreams().get("github").policy().cache();

        assertThat(policy)
                .isEqualTo(new CachePolicy(true, Duration.ofMinutes(10), Optional.of(Duration.ofSeconds(30))));
        assertThat(config.defaults().cache().defaultTtl()).isEmpty();
        assertThat(config.defaults().cache().minUses()).isEqualTo(1);
    }

    @Test
    void readsMinUsesAndRefusesOneOutOfRange() {
        assertThat(loader.fromYaml("defaults: {cache: {min_uses: 2}}")
                        .defaults()
                        .cache()
                        .minUses())
                .isEqualTo(2);
        assertThat(loader.fromYaml("defaults: {cache: {heuristic: 10%}}")
                        .defaults()
                        .cache()
                        .heuristic())
                .contains(0.1);
        assertThat(loader.fromYaml("").defaults().cache().heuristic()).isEmpty();
        assertThatThrownBy(() -> loader.fromYaml("defaults: {cache: {heuristic: 150%}}"))
                .hasMessageContaining("defaults.cache")
                .hasMessageContaining("heuristic must be above 0 and at most 1");
        assertThatThrownBy(() -> loader.fromYaml("defaults: {cache: {min_uses: 0}}"))
                .hasMessageContaining("defaults.cache")
                .hasMessageContaining("min_uses must be between 1 and 3: 0");
    }

    @Test
    void keepsTheTwoArgumentConstructorForExistingCallers() {
        assertThat(new CacheConfig(DataSize.ofMegabytes(1), DataSize.ofKilobytes(64)).maxInFlight())
                .isEqualTo(CacheConfig.DEFAULT_MAX_IN_FLIGHT);
    }
}
