package io.sluice.testing;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Sluice as a separate JVM, started from the test classpath with {@code io.sluice.Main}, for what
 * only a real process shows: signals, exit codes, a bounded heap. The ports come from the line Sluice
 * prints when it is listening.
 */
public final class SluiceProcess implements AutoCloseable {
    private final java.util.Collection<String> output;
    private static final Pattern LISTENING =
            Pattern.compile("listening on http://127\\.0\\.0\\.1:(\\d+) \\(admin http://127\\.0\\.0\\.1:(\\d+)\\)");

    private final Process process;
    private final int dataPort;
    private final int adminPort;

    private SluiceProcess(Process process, int dataPort, int adminPort, java.util.Collection<String> output) {
        this.output = output;
        this.process = process;
        this.dataPort = dataPort;
        this.adminPort = adminPort;
    }

    /** Starts Sluice with {@code yaml} and the extra JVM options, waiting until it listens. */
    public static SluiceProcess start(String yaml, List<String> jvmOptions) throws IOException, InterruptedException {
        Path config = Files.createTempFile("sluice-test", ".yaml");
        Files.writeString(config, yaml);
        // The process's home, so that its interception CA (tls.ca_dir: ~/.sluice) is its own and goes with it.
        Path home = Files.createTempDirectory("sluice-test-home");
        List<String> command = new ArrayList<>();
        command.add(Path.of(System.getProperty("java.home"), "bin", "java").toString());
        command.add("-Duser.home=" + home);
        // What the shaded jar's manifest says (Enable-Native-Access): Conscrypt loads its JNI library,
        // and JDK 24+ warns on a class path run without it.
        command.add("--enable-native-access=ALL-UNNAMED");
        command.addAll(jvmOptions);
        command.addAll(List.of(
                "-cp",
                System.getProperty("java.class.path"),
                "io.sluice.Main",
                "--config",
                config.toString(),
                "--listen",
                "127.0.0.1:0",
                "--admin-listen",
                "127.0.0.1:0"));
        Process process = new ProcessBuilder(command).redirectErrorStream(true).start();
        // Sluice reads its config once, at start; the file goes when the process does, not at JVM exit,
        // so a run of the whole suite leaves nothing behind in the temp directory.
        process.onExit().thenRun(() -> {
            deleteQuietly(config);
            deleteTree(home);
        });
        BufferedReader reader =
                new BufferedReader(new InputStreamReader(process.getInputStream(), StandardCharsets.UTF_8));
        CompletableFuture<int[]> ports = new CompletableFuture<>();
        LinkedBlockingQueue<String> lines = new LinkedBlockingQueue<>();
        Thread pump = new Thread(
                () -> {
                    try {
                        String line;
                        while ((line = reader.readLine()) != null) {
                            lines.add(line);
                            Matcher m = LISTENING.matcher(line);
                            if (m.find())
                                ports.complete(new int[] {Integer.parseInt(m.group(1)), Integer.parseInt(m.group(2))});
                        }
                    } catch (IOException e) {
                        // the process ended
                    }
                    ports.completeExceptionally(new IllegalStateException("Sluice exited before listening: " + lines));
                },
                "sluice-process-output");
        pump.setDaemon(true);
        pump.start();
        int[] p;
        try {
            p = ports.get(60, TimeUnit.SECONDS);
        } catch (Exception e) {
            process.destroyForcibly();
            throw new IllegalStateException("Sluice did not start: " + lines, e);
        }
        return new SluiceProcess(process, p[0], p[1], lines);
    }

    public int dataPort() {
        return dataPort;
    }

    /** What the process has printed so far (stdout and stderr), line by line. */
    public List<String> output() {
        return List.copyOf(output);
    }

    public int adminPort() {
        return adminPort;
    }

    /** Sends SIGTERM (what {@link Process#destroy()} does on Linux). */
    public void terminate() {
        process.destroy();
    }

    /** Waits for the exit code (bounded, so a hung process fails the test instead of the build). */
    public int awaitExit(long seconds) throws InterruptedException {
        if (!process.waitFor(seconds, TimeUnit.SECONDS)) {
            process.destroyForcibly();
            throw new AssertionError("Sluice did not exit within " + seconds + " s");
        }
        return process.exitValue();
    }

    public boolean isAlive() {
        return process.isAlive();
    }

    @Override
    public void close() {
        process.destroyForcibly();
    }

    private static void deleteQuietly(Path file) {
        try {
            Files.deleteIfExists(file);
        } catch (IOException e) {
            // a temp file left behind is not worth failing a test for
        }
    }

    /** Deletes {@code dir} and everything under it, quietly. */
    static void deleteTree(Path dir) {
        try (var paths = Files.walk(dir)) {
            paths.sorted(java.util.Comparator.reverseOrder()).forEach(SluiceProcess::deleteQuietly);
        } catch (IOException e) {
            // Best effort: a leftover temp directory is not worth failing a test for.
        }
    }
}
