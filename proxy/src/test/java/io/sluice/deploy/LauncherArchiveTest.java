package io.sluice.deploy;

import static org.assertj.core.api.Assertions.assertThat;

import io.sluice.testing.SluiceProcess;
import io.sluice.testing.TestHttp;
import java.net.URI;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code ./sluice run} adds a class-data archive (AppCDS, {@code -XX:+AutoCreateSharedArchive}) to the
 * shared list: made by the first run, used by the next. Whatever state the archive is in, a start
 * never fails and the JVM prints nothing about it.
 */
class LauncherArchiveTest {
    private static final Pattern FLAGS = Pattern.compile("(?m)^\\s*archive_flags=\\((.*)\\)\\s*$");
    private static final String LAUNCHER_ARCHIVE = "proxy/target/sluice.jsa";

    /** The archive flags the launcher passes, as it writes them. */
    static List<String> launcherFlags() throws Exception {
        String launcher = Files.readString(DeployFiles.root().resolve("sluice"));
        Matcher m = FLAGS.matcher(launcher);
        assertThat(m.find()).as("archive_flags=(...) in ./sluice").isTrue();
        return Arrays.asList(m.group(1).strip().split("\\s+"));
    }

    /** The launcher's flags with its archive path replaced by {@code archive}. */
    private static List<String> flagsFor(Path archive) throws Exception {
        List<String> flags = new ArrayList<>();
        for (String flag : launcherFlags()) flags.add(flag.replace(LAUNCHER_ARCHIVE, archive.toString()));
        return flags;
    }

    @Test
    void theLauncherKeepsItsArchiveBesideTheJarAndRemovesOneOlderThanTheJar() throws Exception {
        assertThat(launcherFlags())
                .contains("-XX:SharedArchiveFile=" + LAUNCHER_ARCHIVE, "-XX:+AutoCreateSharedArchive")
                .anyMatch(f -> f.startsWith("-Xlog:cds") && f.endsWith("=off"));
        String launcher = Files.readString(DeployFiles.root().resolve("sluice"));
        assertThat(launcher)
                .contains("[ \"$archive\" -ot proxy/target/sluice.jar ]")
                .contains("java\" @deploy/jvm.options \"${archive_flags[@]}\" -jar proxy/target/sluice.jar");
    }

    @Test
    void aMissingArchiveStartsQuietlyAndExitsCleanly(@TempDir Path dir) throws Exception {
        startsQuietly(flagsFor(dir.resolve("sluice.jsa")));
    }

    @Test
    void anArchiveThatIsNotOneStartsQuietly(@TempDir Path dir) throws Exception {
        Path archive = dir.resolve("sluice.jsa");
        Files.write(archive, "not a class-data archive, e.g. half written or from another JDK".getBytes());
        startsQuietly(flagsFor(archive));
    }

    private static void startsQuietly(List<String> flags) throws Exception {
        try (SluiceProcess sluice = SluiceProcess.start("{}", flags)) {
            var health = TestHttp.get(URI.create("http://127.0.0.1:" + sluice.adminPort() + "/healthz"));
            assertThat(health.statusCode()).isEqualTo(200);
            // The JVM's unified logging starts its lines with "[<uptime>]"; none may reach the output.
            assertThat(sluice.output())
                    .noneMatch(l -> l.startsWith("["))
                    .noneMatch(l -> l.contains("[cds") || l.contains("[aot") || l.contains("shared archive"));
            // Not asserted: the exit. Here the classes come from directories (the test classpath), which
            // an archive cannot hold, so writing it at exit fails; from the jar it is written (see
            // deploy/bench/first_healthz.py and docs/performance.md).
            sluice.terminate();
            sluice.awaitExit(60);
        }
    }
}
