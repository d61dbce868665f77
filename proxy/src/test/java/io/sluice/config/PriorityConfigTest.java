package io.sluice.config;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.util.Map;
import org.junit.jupiter.api.Test;

/** The {@code priority} key of a policy: weights, reserves and the class of batch items. */
class PriorityConfigTest {
    private final ConfigLoader loader = new ConfigLoader(Map.of());

    private Policy upstream(String priority) {
        return loader.fromYaml("""
                        upstreams:
                          partner:
                            base_url: https://api.example.com
                            priority: %s
                        """.formatted(priority))
                .upstreams()
                .get("partner")
                .policy();
    }

    @Test
    void isOffUnlessSet() {
        assertThat(loader.defaults().defaults().priority()).isEmpty();
    }

    @Test
    void anEmptyMappingTurnsItOnWithTheDefaultWeights() {
        PriorityPolicy p = upstream("{}").priority().orElseThrow();
        assertThat(p.weight(Priority.INTERACTIVE)).isEqualTo(8);
        assertThat(p.weight(Priority.BATCH)).isEqualTo(2);
        assertThat(p.weight(Priority.BACKGROUND)).isEqualTo(1);
        assertThat(p.reserve()).isEmpty();
        assertThat(p.defaultBatch()).isEqualTo(Priority.BATCH);
    }

    @Test
    void readsWeightsReservesAndTheBatchDefault() {
        PriorityPolicy p = upstream(
                        "{weights: {interactive: 20, batch: 4}, reserve: {interactive: 20%, batch: 0.05}, default_batch: background}")
                .priority()
                .orElseThrow();
        assertThat(p.weight(Priority.INTERACTIVE)).isEqualTo(20);
        assertThat(p.weight(Priority.BATCH)).isEqualTo(4);
        assertThat(p.weight(Priority.BACKGROUND)).isEqualTo(1);
        assertThat(p.defaultBatch()).isEqualTo(Priority.BACKGROUND);
        // What each class must leave: the reserves of the classes above it.
        assertThat(p.keepShare(Priority.INTERACTIVE)).isZero();
        assertThat(p.keepShare(Priority.BATCH)).isEqualTo(0.2);
        assertThat(p.keepShare(Priority.BACKGROUND)).isCloseTo(0.25, org.assertj.core.data.Offset.offset(1e-9));
    }

    @Test
    void inheritsFromDefaultsKeyByKey() {
        SluiceConfig config = loader.fromYaml("""
                defaults:
                  priority: {weights: {interactive: 4}}
                upstreams:
                  partner:
                    base_url: https://api.example.com
                    priority: {reserve: {interactive: 10%}}
                """);
        PriorityPolicy p = config.upstreams().get("partner").policy().priority().orElseThrow();
        assertThat(p.weight(Priority.INTERACTIVE)).isEqualTo(4);
        assertThat(p.reserve()).containsEntry(Priority.INTERACTIVE, 0.1);
    }

    @Test
    void errorsNameTheKey() {
        assertThatThrownBy(() -> upstream("{weights: {urgent: 3}}"))
                .hasMessageStartingWith("upstreams.partner.priority.weights.urgent: unknown key");
        assertThatThrownBy(() -> upstream("{weights: {batch: 0}}"))
                .hasMessageStartingWith("upstreams.partner.priority.weights.batch: must be 1 to 1000, got 0");
        assertThatThrownBy(() -> upstream("{reserve: {interactive: 100%}}"))
                .hasMessageStartingWith(
                        "upstreams.partner.priority.reserve.interactive: must be at least 0% and below 100%");
        assertThatThrownBy(() -> upstream("{reserve: {background: 10%}}"))
                .hasMessageStartingWith(
                        "upstreams.partner.priority.reserve.background: no class ranks below background");
        assertThatThrownBy(() -> upstream("{reserve: {interactive: 60%, batch: 50%}}"))
                .hasMessageStartingWith("upstreams.partner.priority: reserve: the shares add up to");
        assertThatThrownBy(() -> upstream("{default_batch: later}"))
                .hasMessageStartingWith("upstreams.partner.priority.default_batch: unknown priority \"later\"");
        assertThatThrownBy(() -> upstream("{weight: {batch: 1}}"))
                .hasMessageStartingWith("upstreams.partner.priority.weight: unknown key");
        assertThatThrownBy(() -> upstream("high"))
                .hasMessageStartingWith("upstreams.partner.priority: expected a mapping");
    }
}
