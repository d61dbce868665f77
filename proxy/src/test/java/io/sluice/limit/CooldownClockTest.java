package io.sluice.limit;

import static org.assertj.core.api.Assertions.assertThat;

import io.sluice.time.FakeTimeSource;
import java.time.Duration;
import org.junit.jupiter.api.Test;

/** {@code nanoTime} is only meaningful as a difference; its absolute value may be anything. */
class CooldownClockTest {
    @Test
    void anUpstreamThatNeverCooledDownHasNoCooldownWhateverTheTickerReads() {
        FakeTimeSource time = new FakeTimeSource();
        time.advance(Duration.ofDays(3650)); // a ticker far from zero, as System.nanoTime often is
        AdmissionStage stage = AdmissionStage.local(time, Runnable::run);

        stage.gateFor("api");

        assertThat(stage.cooldownRemaining("api")).isZero();
    }
}
