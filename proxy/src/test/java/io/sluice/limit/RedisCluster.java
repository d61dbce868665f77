package io.sluice.limit;

import io.lettuce.core.RedisClient;
import io.lettuce.core.api.StatefulRedisConnection;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.locks.LockSupport;

/**
 * A real three-master Redis Cluster on loopback, without replicas: three {@link RedisServer} nodes
 * joined by {@code redis-cli --cluster create}, which splits the 16,384 slots between them. Skips the
 * test (fails it under CI) when {@code redis-cli} is missing.
 */
final class RedisCluster implements AutoCloseable {
    private static final Path CLI = Path.of("/usr/bin/redis-cli");

    private final List<RedisServer> nodes = new ArrayList<>();

    private RedisCluster() {}

    static RedisCluster start(Path dir) throws IOException, InterruptedException {
        io.sluice.testing.RequiredTool.require(
                Files.isExecutable(CLI), "redis-cli at " + CLI + " (Debian package redis-tools)");
        RedisCluster cluster = new RedisCluster();
        try {
            for (int i = 0; i < 3; i++) cluster.nodes.add(RedisServer.clusterNode(dir));
            List<String> command = new ArrayList<>(List.of(CLI.toString(), "--cluster", "create"));
            for (RedisServer node : cluster.nodes) command.add("127.0.0.1:" + node.port());
            command.addAll(List.of("--cluster-replicas", "0", "--cluster-yes"));
            Process create =
                    new ProcessBuilder(command).redirectErrorStream(true).start();
            String output = new String(create.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
            if (!create.waitFor(30, TimeUnit.SECONDS) || create.exitValue() != 0) {
                throw new IOException("redis-cli --cluster create failed:\n" + output);
            }
            cluster.awaitOk();
            return cluster;
        } catch (IOException | InterruptedException | RuntimeException e) {
            cluster.close();
            throw e;
        }
    }

    List<RedisServer> nodes() {
        return nodes;
    }

    /** {@code redis-cluster://} naming the first two nodes only: the client learns the third from them. */
    String uri() {
        return "redis-cluster://127.0.0.1:" + nodes.get(0).port() + ",127.0.0.1:"
                + nodes.get(1).port();
    }

    /** Waits (bounded) until every node reports the cluster ok: slots are assigned as the nodes gossip. */
    private void awaitOk() throws IOException {
        long giveUpAt = System.nanoTime() + TimeUnit.SECONDS.toNanos(20);
        for (RedisServer node : nodes) {
            RedisClient direct = RedisClient.create("redis://127.0.0.1:" + node.port());
            try (StatefulRedisConnection<String, String> c = direct.connect()) {
                while (!c.sync().clusterInfo().contains("cluster_state:ok")) {
                    if (System.nanoTime() > giveUpAt) throw new IOException("cluster never became ok");
                    LockSupport.parkNanos(TimeUnit.MILLISECONDS.toNanos(50));
                }
            } finally {
                direct.shutdown(0, 1, TimeUnit.SECONDS);
            }
        }
    }

    @Override
    public void close() {
        for (RedisServer node : nodes) node.close();
    }
}
