package io.sluice.limit;

import java.io.File;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.TimeUnit;

/**
 * A real {@code redis-server} on a free port, without persistence, owned by one test: it can be
 * killed (as a crashed Redis would be) and started again on the same port.
 */
final class RedisServer implements AutoCloseable {
    private static final Path BINARY = Path.of("/usr/bin/redis-server");

    private final int port;
    /** Arguments after the port: a replica's {@code --replicaof}, a sentinel's config file. */
    private final List<String> role;

    private Process process;

    private RedisServer(int port, List<String> role) {
        this.port = port;
        this.role = role;
    }

    /** Starts a server; skips the test when {@code redis-server} is not installed. */
    static RedisServer start() throws IOException {
        io.sluice.testing.RequiredTool.require(
                Files.isExecutable(BINARY), "redis-server at " + BINARY + " (Debian package redis-server)");
        RedisServer server = new RedisServer(io.sluice.testing.LocalPorts.free(), List.of());
        server.startProcess();
        return server;
    }

    /** A replica of {@code master} (it syncs in the background; see the test for how to wait). */
    static RedisServer replicaOf(RedisServer master) throws IOException {
        // Loads the master's snapshot from the socket: nothing is written to the working directory.
        RedisServer server = new RedisServer(
                io.sluice.testing.LocalPorts.free(),
                List.of(
                        "--replicaof",
                        "127.0.0.1",
                        Integer.toString(master.port),
                        "--repl-diskless-load",
                        "on-empty-db"));
        server.startProcess();
        return server;
    }

    /**
     * A Sentinel watching {@code master} as {@code name}, alone (quorum 1), quick to act: down after
     * 500 ms. Its config file lives in {@code dir}, since a Sentinel rewrites it.
     */
    static RedisServer sentinel(RedisServer master, String name, Path dir) throws IOException {
        int port = io.sluice.testing.LocalPorts.free();
        Path conf = dir.resolve("sentinel-" + port + ".conf");
        Files.writeString(
                conf,
                String.join(
                        "\n",
                        "port " + port,
                        "bind 127.0.0.1",
                        "sentinel monitor " + name + " 127.0.0.1 " + master.port + " 1",
                        "sentinel down-after-milliseconds " + name + " 500",
                        "sentinel failover-timeout " + name + " 5000",
                        "sentinel parallel-syncs " + name + " 1",
                        ""));
        RedisServer server = new RedisServer(port, List.of("--sentinel"));
        server.sentinelConf = conf;
        server.startProcess();
        return server;
    }

    private Path sentinelConf;

    /**
     * A node of a Redis Cluster, not yet in one (see {@link RedisCluster}): its cluster bus on a
     * second free port ({@code cluster-port}, Redis 7), its node file in {@code dir}.
     */
    static RedisServer clusterNode(Path dir) throws IOException {
        io.sluice.testing.RequiredTool.require(
                Files.isExecutable(BINARY), "redis-server at " + BINARY + " (Debian package redis-server)");
        int port = io.sluice.testing.LocalPorts.free();
        RedisServer server = new RedisServer(
                port,
                List.of(
                        "--cluster-enabled",
                        "yes",
                        "--cluster-port",
                        Integer.toString(io.sluice.testing.LocalPorts.free()),
                        "--cluster-config-file",
                        dir.resolve("nodes-" + port + ".conf").toString(),
                        "--cluster-node-timeout",
                        "2000"));
        server.startProcess();
        return server;
    }

    int port() {
        return port;
    }

    String uri() {
        return "redis://127.0.0.1:" + port;
    }

    /** Kills the server at once (SIGKILL), as a crash or a lost host would. */
    void kill() {
        process.destroyForcibly();
        try {
            process.waitFor(10, TimeUnit.SECONDS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    /** Freezes the server (SIGSTOP): connections stay open but nothing answers, as with a hung host. */
    void freeze() throws IOException, InterruptedException {
        signal("STOP");
    }

    /** Lets a frozen server run again (SIGCONT). */
    void thaw() throws IOException, InterruptedException {
        signal("CONT");
    }

    private void signal(String name) throws IOException, InterruptedException {
        int exit = new ProcessBuilder("kill", "-" + name, Long.toString(process.pid()))
                .inheritIO()
                .start()
                .waitFor();
        if (exit != 0) throw new IOException("kill -" + name + " failed with " + exit);
    }

    /** Starts it again on the same port, empty. */
    void restart() throws IOException {
        startProcess();
    }

    private void startProcess() throws IOException {
        List<String> command = new java.util.ArrayList<>();
        command.add(BINARY.toString());
        if (sentinelConf != null) {
            command.addAll(List.of(sentinelConf.toString(), "--sentinel"));
        } else {
            command.addAll(List.of(
                    "--port", Integer.toString(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"));
            command.addAll(role);
        }
        process = new ProcessBuilder(command)
                .redirectErrorStream(true)
                .redirectOutput(new File("/dev/null"))
                .start();
        io.sluice.testing.LocalPorts.awaitListening(process, port, () -> "redis-server did not start");
    }

    @Override
    public void close() {
        if (process != null) kill();
    }
}
