package io.sluice.limit;

import static org.assertj.core.api.Assertions.assertThat;

import io.lettuce.core.RedisClient;
import io.lettuce.core.api.StatefulRedisConnection;
import io.sluice.config.Interpolated;
import io.sluice.config.RateLimit;
import io.sluice.config.RedisConfig;
import io.sluice.fetch.FetchOutcome;
import io.sluice.time.FakeTimeSource;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.locks.LockSupport;
import java.util.function.BooleanSupplier;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Shared mode behind Redis Sentinel, all real processes on loopback: a master, its replica and one
 * Sentinel. The master dies; decisions fall back to local buckets at once (none hangs), Sentinel
 * promotes the replica, and the sidecar — whose {@code redis.uri} names only the Sentinel — decides
 * through the new master again, where the budget's state had been replicated. Bucket arithmetic
 * runs on fake time; Redis, its replication and the failover run in real time, waited for with
 * bounds so that a hang fails the test.
 */
class SentinelFailoverTest {
    private static final String MASTER_NAME = "sluice-limits";

    private final FakeTimeSource time = new FakeTimeSource();

    @TempDir
    Path dir;

    @Test
    void fallsBackWhileTheMasterIsDownAndDecidesThroughThePromotedReplica() throws Exception {
        try (RedisServer master = RedisServer.start();
                RedisServer replica = RedisServer.replicaOf(master);
                RedisServer sentinel = RedisServer.sentinel(master, MASTER_NAME, dir)) {
            RedisClient direct = RedisClient.create("redis://127.0.0.1:" + replica.port());
            try (StatefulRedisConnection<String, String> toReplica = direct.connect();
                    SharedLimits shared = SharedLimits.connect(
                            new RedisConfig(
                                    Interpolated.literal(
                                            "redis-sentinel://127.0.0.1:" + sentinel.port() + "#" + MASTER_NAME),
                                    0.5,
                                    Duration.ofSeconds(1),
                                    "sluice:",
                                    java.util.Optional.empty()),
                            time)) {
                await(
                        "replica in sync",
                        () -> toReplica.sync().info("replication").contains("master_link_status:up"));
                awaitRedis(shared);
                // 10 an hour: the fake minutes that waiting for the failover drives (probe timers) refill
                // less than one token, so what is left after it is what the master had spent.
                Harness h = Harness.of(
                        time,
                        "limits: [{rate: 10/h, burst: 10}]\nmax_wait: 0s",
                        AdmissionStage.shared(shared, time, Runnable::run));
                // Spend 4 of the shared burst of 10 through the master; the state reaches the replica.
                int before = 0;
                for (int i = 0; i < 4; i++) before += admitted(h.execute(Harness.get("/before")));
                assertThat(before).isEqualTo(4);
                await(
                        "bucket state replicated",
                        () -> !toReplica.sync().keys("sluice:*").isEmpty());

                master.kill();
                int during = 0;
                for (int i = 0; i < 10; i++) during += admitted(h.execute(Harness.get("/during")));
                assertThat(shared.usingRedis()).isFalse();
                // The local bucket holds local_share (half) of the burst while Redis is away.
                assertThat(during).isEqualTo(5);

                await(
                        "Sentinel promoted the replica",
                        () -> toReplica.sync().info("replication").contains("role:master"));
                awaitRedis(shared);
                int after = 0;
                for (int i = 0; i < 10; i++) after += admitted(h.execute(Harness.get("/after")));
                // The promoted replica kept the bucket: 6 of the 10 were left, not a fresh burst.
                assertThat(after).isEqualTo(6);
                assertThat(shared.usingRedis()).isTrue();
                assertThat(shared.failovers()).isEqualTo(1);
            } finally {
                direct.shutdown(0, 1, TimeUnit.SECONDS);
            }
        }
    }

    /** Waits until the sidecar decides through Redis, then warms it up off the counted decisions. */
    private void awaitRedis(SharedLimits shared) {
        SharedModeKit.awaitRedis(shared, time, Duration.ofSeconds(20));
        // First-use costs (scripts loading) off the counted decisions.
        try {
            TokenBucket warm = shared.store().bucket("warm-up", List.of(RateLimit.parse("1000/s", 1000L)));
            for (int i = 0; i < 5; i++) warm.reserve().get(5, TimeUnit.SECONDS);
        } catch (Exception e) {
            throw new AssertionError(e);
        }
    }

    private static void await(String what, BooleanSupplier done) {
        long giveUpAt = System.nanoTime() + TimeUnit.SECONDS.toNanos(20);
        while (!done.getAsBoolean()) {
            assertThat(System.nanoTime()).as(what).isLessThan(giveUpAt);
            LockSupport.parkNanos(TimeUnit.MILLISECONDS.toNanos(50));
        }
    }

    private static int admitted(CompletableFuture<FetchOutcome> outcome) throws Exception {
        return SharedModeKit.admitted(outcome);
    }
}
