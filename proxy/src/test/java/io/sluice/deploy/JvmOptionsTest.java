package io.sluice.deploy;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Files;
import java.util.List;
import java.util.Set;
import java.util.stream.Collectors;
import org.junit.jupiter.api.Test;

/**
 * One list of JVM flags (deploy/jvm.options) for every way Sluice is started: the launcher, the
 * image (and so the Kubernetes manifest) and the systemd unit read it as a java @argfile, and none
 * of them states one of its flags again.
 */
class JvmOptionsTest {

    /** The flags in deploy/jvm.options, comments and blank lines left out. */
    static List<String> sharedFlags() {
        return DeployFiles.read(DeployFiles.deploy("jvm.options"))
                .lines()
                .map(String::strip)
                .filter(l -> !l.isEmpty() && !l.startsWith("#"))
                .toList();
    }

    static Set<String> sharedFlagNames() {
        return sharedFlags().stream().map(JvmOptionsTest::name).collect(Collectors.toSet());
    }

    /** What a flag sets, whatever its value: {@code -XX:MaxRAMPercentage=40} → {@code MaxRAMPercentage}. */
    static String name(String flag) {
        String f = flag.replaceFirst("^-XX:[+-]?", "").replaceFirst("=.*", "");
        if (f.startsWith("-Xms") || f.startsWith("-Xmx") || f.startsWith("-Xss")) return f.substring(0, 4);
        return f;
    }

    @Test
    void theListIsASidecarsSerialCollectorWithAHeapThatFollowsTheMemoryLimit() {
        assertThat(sharedFlags())
                .contains("-XX:+UseSerialGC", "-XX:-UsePerfData")
                .anyMatch(f -> f.startsWith("-XX:MaxRAMPercentage="));
        // Measured: C1 only costs twice the CPU per request under load, so it is a commented option.
        assertThat(sharedFlags()).noneMatch(f -> f.contains("TieredStopAtLevel"));
    }

    @Test
    void aFixedYoungGenerationIsOneCommentedSwitchThatOverridesTheSmallStartHeap() {
        List<String> lines = DeployFiles.read(DeployFiles.deploy("jvm.options"))
                .lines()
                .map(String::strip)
                .toList();
        // Measured: less collector CPU and RSS under load, ~8 MB more idle RSS (issue 27's 80 MB).
        assertThat(lines).contains("#-Xms48m", "#-Xmn32m");
        // Later flags win, so the pair must come after the list's -Xms16m to replace it.
        assertThat(lines.indexOf("#-Xms48m")).isGreaterThan(lines.indexOf("-Xms16m"));
        assertThat(sharedFlags()).noneMatch(f -> f.startsWith("-Xmn"));
    }

    @Test
    void theLauncherRunsTheJarWithTheList() throws Exception {
        String launcher = Files.readString(DeployFiles.root().resolve("sluice"));
        // Its class-data archive flags come after the list (see LauncherArchiveTest).
        assertThat(launcher)
                .contains(
                        "java\" @deploy/jvm.options ${with_archive[@]+\"${with_archive[@]}\"} -jar proxy/target/sluice.jar");
    }

    @Test
    void theSystemdUnitRunsWithTheListAndAddsOnlyItsOwn() {
        var service =
                DeployFiles.unit(DeployFiles.deploy("systemd/sluice.service")).get("Service");
        String execStart = String.join(" ", service.get("ExecStart"));
        assertThat(execStart).contains("/usr/bin/java @/opt/sluice/jvm.options ");
        for (String word : execStart.split("\\s+")) {
            if (word.startsWith("-X") && !word.startsWith("-Xmx")) {
                assertThat(sharedFlagNames()).as(word).doesNotContain(name(word));
            }
        }
    }
}
