package io.sluice.limit;

import static org.assertj.core.api.Assertions.assertThat;

import io.lettuce.core.RedisClient;
import io.lettuce.core.api.StatefulRedisConnection;
import io.lettuce.core.cluster.SlotHash;
import io.sluice.config.Interpolated;
import io.sluice.config.RateLimit;
import io.sluice.config.RedisConfig;
import io.sluice.fetch.FetchOutcome;
import io.sluice.time.FakeTimeSource;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.locks.LockSupport;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Shared mode on a real three-master Redis Cluster ({@code redis-cluster://}), started for this
 * class: two sidecars spend one budget, and buckets and cooldowns work whichever master owns their
 * key's slot; and on a cluster of its own, a master killed mid-use sends decisions to the local
 * share at once. Bucket arithmetic runs on fake time; the cluster runs in real time, waited for with
 * bounds so that a hang fails the test.
 */
class RedisClusterSharedModeTest {
    @TempDir
    static Path dir;

    private static RedisCluster cluster;

    private final FakeTimeSource time = new FakeTimeSource();

    @BeforeAll
    static void startCluster() throws Exception {
        cluster = RedisCluster.start(dir);
    }

    @AfterAll
    static void stopCluster() {
        if (cluster != null) cluster.close();
    }

    private SharedLimits sidecar() {
        SharedLimits shared = SharedLimits.connect(
                new RedisConfig(
                        Interpolated.literal(cluster.uri()),
                        0.5,
                        Duration.ofSeconds(1),
                        "sluice:",
                        java.util.Optional.empty()),
                time);
        SharedModeKit.awaitRedis(shared, time, Duration.ofSeconds(15));
        return shared;
    }

    @Test
    void twoSidecarsSpendOneBudgetThroughTheCluster() throws Exception {
        try (SharedLimits one = sidecar();
                SharedLimits two = sidecar()) {
            String policy = "limits: [{rate: 10/h, burst: 10}]\nmax_wait: 0s";
            Harness a = Harness.of(time, policy, AdmissionStage.shared(one, time, Runnable::run));
            Harness b = Harness.of(time, policy, AdmissionStage.shared(two, time, Runnable::run));

            int total = 0;
            for (int i = 0; i < 10; i++) {
                total += admitted(a.execute(Harness.get("/a")));
                total += admitted(b.execute(Harness.get("/b")));
            }

            // One burst of 10 between them, not 10 each, nor the local share (5 each) of a fallback.
            assertThat(total).isEqualTo(10);
            assertThat(a.upstream.count()).isPositive();
            assertThat(b.upstream.count()).isPositive();
            assertThat(one.usingRedis()).isTrue();
            assertThat(two.usingRedis()).isTrue();
            assertThat(one.failovers() + two.failovers()).isZero();
        }
    }

    @Test
    void bucketsAndCooldownsWorkOnEveryMasterSlotRange() throws Exception {
        List<long[]> ranges = slotRanges(); // {first slot, last slot, owner's port}
        assertThat(ranges.stream().mapToLong(r -> r[2]).distinct().count())
                .as("three masters own slots")
                .isEqualTo(3);
        try (SharedLimits one = sidecar();
                SharedLimits two = sidecar()) {
            for (long[] range : ranges) {
                String bucketName = nameWhoseKeyIsIn("sluice:bucket:", range);
                String cooldownName = nameWhoseKeyIsIn("sluice:cooldown:", range);
                List<RateLimit> limits = List.of(RateLimit.parse("1/h", 1L));

                long first = one.store()
                        .bucket(bucketName, limits)
                        .reserve()
                        .get(5, TimeUnit.SECONDS)
                        .waitNanos();
                long second = two.store()
                        .bucket(bucketName, limits)
                        .reserve()
                        .get(5, TimeUnit.SECONDS)
                        .waitNanos();
                assertThat(first)
                        .as("slot range %d-%d: the one token", range[0], range[1])
                        .isZero();
                assertThat(second)
                        .as("slot range %d-%d: the other sidecar waits for the next", range[0], range[1])
                        .isPositive();

                Instant end = time.clock().instant().plusSeconds(60);
                one.store().shareCooldown(cooldownName, end);
                awaitCooldown(two, cooldownName, end);

                // The keys live on the master that owns their slot.
                RedisClient direct = RedisClient.create("redis://127.0.0.1:" + range[2]);
                try (StatefulRedisConnection<String, String> owner = direct.connect()) {
                    // One key per command: EXISTS of two keys in two slots would be refused (CROSSSLOT).
                    assertThat(owner.sync().exists("sluice:bucket:" + bucketName))
                            .isEqualTo(1);
                    assertThat(owner.sync().exists("sluice:cooldown:" + cooldownName))
                            .isEqualTo(1);
                } finally {
                    direct.shutdown(0, 1, TimeUnit.SECONDS);
                }
            }
            assertThat(one.usingRedis()).isTrue();
            assertThat(two.usingRedis()).isTrue();
            assertThat(one.failovers() + two.failovers()).isZero();
        }
    }

    @Test
    void aKilledMastersSlotsFallBackToTheLocalShareAndNothingHangs(@TempDir Path own) throws Exception {
        // A cluster of its own: this one loses a node.
        try (RedisCluster losing = RedisCluster.start(own);
                SharedLimits shared = SharedLimits.connect(
                        new RedisConfig(
                                Interpolated.literal(losing.uri()),
                                0.5,
                                Duration.ofSeconds(1),
                                "sluice:",
                                java.util.Optional.empty()),
                        time)) {
            SharedModeKit.awaitRedis(shared, time, Duration.ofSeconds(15));
            RedisServer victim = losing.nodes().get(2);
            long[] range = slotRanges(losing).stream()
                    .filter(r -> r[2] == victim.port())
                    .findFirst()
                    .orElseThrow();
            String name = nameWhoseKeyIsIn("sluice:bucket:", range);
            TokenBucket bucket = shared.store().bucket(name, List.of(RateLimit.parse("10/h", 10L)));
            assertThat(bucket.reserve().get(5, TimeUnit.SECONDS).waitNanos()).isZero();
            assertThat(shared.usingRedis()).isTrue();

            victim.kill();
            int admitted = 0;
            for (int i = 0; i < 10; i++) {
                // Each decision is made within the 5 s bound, the first failed command's included.
                if (bucket.reserve().get(5, TimeUnit.SECONDS).waitNanos() == 0) admitted++;
            }

            assertThat(shared.usingRedis()).isFalse();
            assertThat(shared.failovers()).isEqualTo(1);
            // The local bucket holds local_share (half) of the burst while Redis is away.
            assertThat(admitted).isEqualTo(5);
        }
    }

    /** The cluster's slot ranges and the port of the master owning each, as {@code CLUSTER SLOTS} tells them. */
    private static List<long[]> slotRanges() {
        return slotRanges(cluster);
    }

    private static List<long[]> slotRanges(RedisCluster of) {
        RedisClient direct =
                RedisClient.create("redis://127.0.0.1:" + of.nodes().get(0).port());
        try (StatefulRedisConnection<String, String> c = direct.connect()) {
            List<long[]> ranges = new ArrayList<>();
            for (Object slot : c.sync().clusterSlots()) {
                List<?> entry = (List<?>) slot;
                List<?> master = (List<?>) entry.get(2);
                ranges.add(new long[] {(Long) entry.get(0), (Long) entry.get(1), (Long) master.get(1)});
            }
            return ranges;
        } finally {
            direct.shutdown(0, 1, TimeUnit.SECONDS);
        }
    }

    private static String nameWhoseKeyIsIn(String prefix, long[] range) {
        for (int i = 0; ; i++) {
            int slot = SlotHash.getSlot(prefix + "u" + i);
            if (slot >= range[0] && slot <= range[1]) return "u" + i;
        }
    }

    /** The other sidecar reads the shared cooldown (written asynchronously), within 10 s of real time. */
    private static void awaitCooldown(SharedLimits shared, String upstream, Instant end) throws Exception {
        long giveUpAt = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
        while (!shared.store()
                .sharedCooldownEnd(upstream)
                .get(5, TimeUnit.SECONDS)
                .equals(Instant.ofEpochMilli(end.toEpochMilli()))) {
            assertThat(System.nanoTime()).as("cooldown of %s shared", upstream).isLessThan(giveUpAt);
            LockSupport.parkNanos(TimeUnit.MILLISECONDS.toNanos(20));
        }
    }

    private static int admitted(CompletableFuture<FetchOutcome> outcome) throws Exception {
        return SharedModeKit.admitted(outcome);
    }
}
