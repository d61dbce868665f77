package io.sluice.limit;

import static org.assertj.core.api.Assertions.assertThat;

import io.sluice.config.RateLimit;
import io.sluice.time.FakeTimeSource;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import org.junit.jupiter.api.Test;

/** The bucket's guarantees, checked on fake time against the limits they come from. */
class TokenBucketMathTest {
    private final FakeTimeSource time = new FakeTimeSource();

    /** Takes a token only if it is available now (as a request with no wait budget would). */
    private static boolean tryTake(LocalTokenBucket bucket) {
        TokenBucket.Reservation r = bucket.reserveNow();
        if (r.waitNanos() == 0) return true;
        r.release();
        return false;
    }

    /** Over every window [t_i, t_j] of admissions, at most burst + rate × (t_j - t_i) of them. */
    private static void assertNoWindowExceeds(List<Long> admitted, RateLimit limit) {
        double perNano = (double) limit.tokens() / limit.period().toNanos();
        for (int i = 0; i < admitted.size(); i++) {
            for (int j = i; j < admitted.size(); j++) {
                long window = admitted.get(j) - admitted.get(i);
                if (window > 3 * limit.period().toNanos()) break;
                int count = j - i + 1;
                assertThat((double) count)
                        .as("admissions in a window of %d ns under %s", window, limit)
                        .isLessThanOrEqualTo(limit.burst() + perNano * window + 1e-9);
            }
        }
    }

    @Test
    void neverAdmitsMoreThanBurstPlusRateTimesWindow() {
        RateLimit limit = RateLimit.parse("10/s", 5L);
        LocalTokenBucket bucket = new LocalTokenBucket(List.of(limit), 1, time);
        Random random = new Random(42);
        List<Long> admitted = new ArrayList<>();
        for (int i = 0; i < 5000; i++) {
            // Bursty demand: idle gaps (the bucket refills) and clusters of attempts.
            time.advance(Duration.ofMillis(random.nextInt(10) < 8 ? random.nextInt(5) : random.nextInt(2000)));
            if (tryTake(bucket)) admitted.add(time.nanoTime());
        }
        assertThat(admitted).hasSizeGreaterThan(100);
        assertNoWindowExceeds(admitted, limit);
    }

    @Test
    void aMillisecondRateAdmitsWhatItsPerSecondSpellingAdmits() {
        // 5/ms is read as 5000/s with its burst of 5 (RateLimit.parse); it was once kept as 5 per 1 ms.
        RateLimit perSecond = RateLimit.parse("5/ms", null);
        assertThat(perSecond).isEqualTo(new RateLimit(5000, Duration.ofSeconds(1), 5));
        LocalTokenBucket asRead = new LocalTokenBucket(List.of(perSecond), 1, time);
        LocalTokenBucket asBefore = new LocalTokenBucket(List.of(new RateLimit(5, Duration.ofMillis(1), 5)), 1, time);
        Random random = new Random(7);
        int admitted = 0;
        for (int i = 0; i < 20_000; i++) {
            time.advance(Duration.ofNanos(random.nextInt(10) < 8 ? random.nextInt(50_000) : random.nextInt(3_000_000)));
            boolean taken = tryTake(asRead);
            assertThat(tryTake(asBefore)).as("attempt %d", i).isEqualTo(taken);
            if (taken) admitted++;
        }
        assertThat(admitted).isBetween(1000, 19_000);
    }

    @Test
    void everyLimitMustAdmit() {
        RateLimit hourly = RateLimit.parse("100/h", null);
        RateLimit perMinute = RateLimit.parse("10/min", 3L);
        LocalTokenBucket bucket = new LocalTokenBucket(List.of(hourly, perMinute), 1, time);
        List<Long> admitted = new ArrayList<>();
        for (int i = 0; i < 2 * 3600; i++) {
            if (tryTake(bucket)) admitted.add(time.nanoTime());
            time.advance(Duration.ofSeconds(1));
        }
        assertNoWindowExceeds(admitted, perMinute);
        assertNoWindowExceeds(admitted, hourly);
        // The hourly limit binds in the long run: its burst of 100 (spent at the per-minute pace)
        // plus 100 per hour, so at most 300 in two hours.
        assertThat(admitted.size()).isBetween(290, 300);
    }

    @Test
    void achievesTheRateWithinTwoPercentUnderSustainedDemand() {
        RateLimit limit = RateLimit.parse("50/s", 50L);
        LocalTokenBucket bucket = new LocalTokenBucket(List.of(limit), 1, time);
        int admitted = 0;
        Duration run = Duration.ofSeconds(600);
        for (long t = 0; t < run.toMillis(); t++) {
            // 4x the rate: 200 attempts per second.
            if (t % 5 == 0 && tryTake(bucket)) admitted++;
            time.advance(Duration.ofMillis(1));
        }
        double achieved = admitted / (double) run.toSeconds();
        assertThat(achieved).isCloseTo(50.0, org.assertj.core.data.Percentage.withPercentage(2));
    }

    @Test
    void reservationsQueueInOrderWithExactWaits() {
        LocalTokenBucket bucket = new LocalTokenBucket(List.of(RateLimit.parse("10/s", 2L)), 1, time);
        List<Long> waits = new ArrayList<>();
        for (int i = 0; i < 5; i++) waits.add(bucket.reserveNow().waitNanos());
        assertThat(waits).containsExactly(0L, 0L, 100_000_000L, 200_000_000L, 300_000_000L);
    }

    @Test
    void releasedReservationGivesItsPlaceBack() {
        LocalTokenBucket bucket = new LocalTokenBucket(List.of(RateLimit.parse("10/s", 1L)), 1, time);
        bucket.reserveNow();
        TokenBucket.Reservation second = bucket.reserveNow();
        assertThat(second.waitNanos()).isEqualTo(100_000_000L);
        second.release();
        assertThat(bucket.reserveNow().waitNanos()).isEqualTo(100_000_000L);
    }

    @Test
    void appliesChangedLimitsLiveKeepingTokens() {
        LocalTokenBucket bucket = new LocalTokenBucket(List.of(RateLimit.parse("10/s", 10L)), 1, time);
        for (int i = 0; i < 4; i++) assertThat(tryTake(bucket)).isTrue();
        bucket.reconfigure(List.of(RateLimit.parse("1/s", 3L)));
        // Six tokens were left; the new burst of three caps them.
        assertThat(bucket.availableTokens()).hasValue(3);
        for (int i = 0; i < 3; i++) assertThat(tryTake(bucket)).isTrue();
        assertThat(bucket.reserveNow().waitNanos()).isEqualTo(1_000_000_000L);
    }

    @Test
    void localShareScalesRateAndBurst() {
        LocalTokenBucket bucket = new LocalTokenBucket(List.of(RateLimit.parse("10/s", 10L)), 0.5, time);
        List<Long> waits = new ArrayList<>();
        for (int i = 0; i < 6; i++) waits.add(bucket.reserveNow().waitNanos());
        assertThat(waits).containsExactly(0L, 0L, 0L, 0L, 0L, 200_000_000L);
    }
}
