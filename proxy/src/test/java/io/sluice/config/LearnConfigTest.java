package io.sluice.config;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.time.Duration;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** The config keys of learned limits ({@code learn}, {@code limits: learn}) and {@code free_304}. */
class LearnConfigTest {
    private final ConfigLoader loader = new ConfigLoader(Map.of());

    private Policy github(String policy) {
        return loader.fromYaml("upstreams:\n  github:\n    base_url: https://api.github.com\n"
                        + policy.lines().map(l -> "    " + l + "\n").reduce("", String::concat))
                .upstreams()
                .get("github")
                .policy();
    }

    @Test
    void offByDefault() {
        Policy defaults = loader.defaults().defaults();
        assertThat(defaults.learn()).isFalse();
        assertThat(defaults.free304()).isFalse();
    }

    @Test
    void limitsLearnMeansOnlyWhatTheUpstreamAnnounces() {
        Policy p = github("limits: learn");
        assertThat(p.limits()).isEmpty();
        assertThat(p.learn()).isTrue();
    }

    @Test
    void learnBesideConfiguredLimitsKeepsThem() {
        Policy p = github("limits: [{rate: 5000/h}]\nlearn: true\nfree_304: true");
        assertThat(p.limits()).containsExactly(new RateLimit(5000, Duration.ofHours(1), 5000));
        assertThat(p.learn()).isTrue();
        assertThat(p.free304()).isTrue();
    }

    @Test
    void errorsNameTheKeyAndTheBadValue() {
        assertThatThrownBy(() -> github("limits: learned"))
                .isInstanceOf(ConfigException.class)
                .hasMessageContaining("upstreams.github.limits")
                .hasMessageContaining("\"learned\"");
        assertThatThrownBy(() -> github("learn: maybe"))
                .isInstanceOf(ConfigException.class)
                .hasMessageContaining("upstreams.github.learn")
                .hasMessageContaining("\"maybe\"");
        assertThatThrownBy(() -> github("free_304: sometimes"))
                .isInstanceOf(ConfigException.class)
                .hasMessageContaining("upstreams.github.free_304")
                .hasMessageContaining("\"sometimes\"");
    }
}
