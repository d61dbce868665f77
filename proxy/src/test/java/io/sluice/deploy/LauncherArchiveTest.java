package io.sluice.deploy;

import static org.assertj.core.api.Assertions.assertThat;

import io.sluice.testing.SluiceProcess;
import io.sluice.testing.TestHttp;
import java.net.URI;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code ./sluice run} and the README's plain command add deploy/archive.options after the shared
 * list: a class-data archive (AppCDS, {@code -XX:+AutoCreateSharedArchive}) made by the first run's
 * exit and used by the next. Whatever state the archive is in, a start never fails and the JVM
 * prints nothing about it.
 */
class LauncherArchiveTest {
    private static final String ARCHIVE = "proxy/target/sluice.jsa";

    /** The flags in deploy/archive.options, comments and blank lines left out. */
    static List<String> archiveFlags() {
        return DeployFiles.read(DeployFiles.deploy("archive.options"))
                .lines()
                .map(String::strip)
                .filter(l -> !l.isEmpty() && !l.startsWith("#"))
                .toList();
    }

    /** The launcher's flags with its archive path replaced by {@code archive}. */
    private static List<String> flagsFor(Path archive) throws Exception {
        List<String> flags = new ArrayList<>();
        for (String flag : archiveFlags()) flags.add(flag.replace(ARCHIVE, archive.toString()));
        return flags;
    }

    @Test
    void theArchiveLivesBesideTheJarAndTheLauncherAndTheReadmeUseIt() throws Exception {
        assertThat(archiveFlags())
                .containsExactly(
                        "-XX:SharedArchiveFile=" + ARCHIVE,
                        "-XX:+AutoCreateSharedArchive",
                        "-Xlog:cds=off",
                        "-Xlog:cds+dynamic=off");
        String launcher = Files.readString(DeployFiles.root().resolve("sluice"));
        assertThat(launcher)
                .contains(
                        "java\" @deploy/jvm.options ${with_archive[@]+\"${with_archive[@]}\"} -jar proxy/target/sluice.jar")
                // an archive of an older jar is refused by the JVM and never replaced: the launcher drops it
                .contains("[ \"$archive\" -ot proxy/target/sluice.jar ]")
                // nor is one written by a run that stopped at a config error (2-6 MB; a full one is ~17 MB)
                .contains("[ \"$(wc -c <\"$archive\")\" -lt 10000000 ]")
                // --help and --version exit at once: an archive of their few classes would stay
                .contains("-h | --help | -V | --version | -hV | -Vh) with_archive=() ;;");
        String readme = Files.readString(DeployFiles.root().resolve("README.md"));
        assertThat(readme).contains("java @deploy/jvm.options @deploy/archive.options -jar proxy/target/sluice.jar");
    }

    @Test
    void theBuildDropsTheArchiveOfThePreviousJar() throws Exception {
        String pom = Files.readString(DeployFiles.root().resolve("proxy/pom.xml"));
        assertThat(pom).contains("<id>drop-class-data-archive</id>").contains("<include>sluice.jsa</include>");
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
