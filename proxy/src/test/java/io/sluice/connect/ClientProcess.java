package io.sluice.connect;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;

/**
 * A client program run to completion within a timeout, its output kept for assertions and their
 * messages. The environment starts from the test JVM's, less every proxy and CA variable a developer
 * or CI may have set, so only what the test passes decides where the client goes and whom it trusts.
 */
record ClientProcess(List<String> command, int exitCode, String stdout, String stderr) {
    private static final List<String> INHERITED_BUT_DECIDED_BY_THE_TEST = List.of(
            "HTTPS_PROXY",
            "https_proxy",
            "HTTP_PROXY",
            "http_proxy",
            "ALL_PROXY",
            "all_proxy",
            "NO_PROXY",
            "no_proxy",
            "SSL_CERT_FILE",
            "SSL_CERT_DIR",
            "CURL_CA_BUNDLE",
            "REQUESTS_CA_BUNDLE",
            "NODE_EXTRA_CA_CERTS",
            "NODE_OPTIONS");

    static ClientProcess run(List<String> command, Map<String, String> env, Path dir, Duration timeout)
            throws IOException, InterruptedException {
        ProcessBuilder builder = new ProcessBuilder(command).directory(dir.toFile());
        INHERITED_BUT_DECIDED_BY_THE_TEST.forEach(builder.environment()::remove);
        builder.environment().putAll(env);
        // Files, not pipes: a chatty client can never block on a full pipe while we wait for it.
        Path out = Files.createTempFile("sluice-client", ".out");
        Path err = Files.createTempFile("sluice-client", ".err");
        try {
            return run(builder, out, err, command, timeout);
        } finally {
            Files.deleteIfExists(out);
            Files.deleteIfExists(err);
        }
    }

    private static ClientProcess run(ProcessBuilder builder, Path out, Path err, List<String> command, Duration timeout)
            throws IOException, InterruptedException {
        Process process = builder.redirectOutput(out.toFile())
                .redirectError(err.toFile())
                .redirectInput(ProcessBuilder.Redirect.from(new java.io.File("/dev/null")))
                .start();
        boolean exited = process.waitFor(timeout.toMillis(), TimeUnit.MILLISECONDS);
        if (!exited) {
            process.destroyForcibly().waitFor(10, TimeUnit.SECONDS);
        }
        var result = new ClientProcess(
                command,
                exited ? process.exitValue() : -1,
                Files.readString(out, StandardCharsets.UTF_8),
                Files.readString(err, StandardCharsets.UTF_8));
        if (!exited) {
            throw new AssertionError("timed out after " + timeout + ": " + result);
        }
        return result;
    }

    /** Whether {@code program} runs at all here ({@code program args...} exits 0 within 30 s). */
    static boolean available(String... versionCommand) {
        try {
            Process p = new ProcessBuilder(versionCommand)
                    .redirectErrorStream(true)
                    .redirectOutput(ProcessBuilder.Redirect.DISCARD)
                    .start();
            return p.waitFor(30, TimeUnit.SECONDS) && p.exitValue() == 0;
        } catch (IOException e) {
            return false;
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return false;
        }
    }

    @Override
    public String toString() {
        return String.join(" ", command) + " exited " + exitCode + "\n--- stdout\n" + stdout + "\n--- stderr\n"
                + stderr;
    }
}
