package io.sluice.deploy;

import static org.assertj.core.api.Assertions.assertThat;

import io.sluice.config.ConfigLoader;
import io.sluice.config.SluiceConfig;
import java.nio.file.Files;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;

/** deploy/Dockerfile: stages, user, ports, health check, config path and flags agree with Sluice. */
class DockerfileTest {
    private static final SluiceConfig DEFAULTS = new ConfigLoader(Map.of()).defaults();
    private static final List<String[]> INSTRUCTIONS = DeployFiles.dockerfile(DeployFiles.deploy("Dockerfile"));

    private static List<String> all(String instruction) {
        List<String> found = new ArrayList<>();
        for (String[] i : INSTRUCTIONS) if (i[0].equals(instruction)) found.add(i[1]);
        return found;
    }

    private static String last(String instruction) {
        List<String> found = all(instruction);
        assertThat(found).as(instruction).isNotEmpty();
        return found.get(found.size() - 1);
    }

    /** The exec-form array of an instruction, e.g. CMD ["--config", "..."]. */
    private static List<String> execForm(String value) {
        assertThat(value).startsWith("[").endsWith("]");
        List<String> parts = new ArrayList<>();
        Matcher m = Pattern.compile("\"((?:[^\"\\\\]|\\\\.)*)\"").matcher(value);
        while (m.find()) parts.add(m.group(1));
        return parts;
    }

    static int imageUid() {
        for (String arg : all("ARG")) {
            if (arg.startsWith("SLUICE_UID=")) return Integer.parseInt(arg.substring("SLUICE_UID=".length()));
        }
        throw new AssertionError("no ARG SLUICE_UID");
    }

    /** The JVM flags the image runs with (ENV JDK_JAVA_OPTIONS). */
    static String imageJvmFlags() {
        for (String env : all("ENV")) {
            if (env.startsWith("JDK_JAVA_OPTIONS=")) {
                return env.substring("JDK_JAVA_OPTIONS=".length())
                        .replace("\"", "")
                        .strip();
            }
        }
        throw new AssertionError("no ENV JDK_JAVA_OPTIONS");
    }

    @Test
    void buildsWithTheWrapperAndRunsOnAJre25() {
        List<String> froms = all("FROM");
        assertThat(froms).hasSizeGreaterThanOrEqualTo(2);
        assertThat(froms.get(0)).matches("eclipse-temurin:25-jdk\\S* AS build");
        assertThat(froms.get(froms.size() - 1)).matches("eclipse-temurin:25-jre\\S*( AS \\w+)?");
        assertThat(all("RUN"))
                .anySatisfy(run -> assertThat(run).contains("./mvnw").contains("package"));
        assertThat(all("COPY")).anySatisfy(copy -> assertThat(copy).startsWith("--from=build"));
    }

    @Test
    void runsAsANonRootUser() {
        String user = last("USER");
        assertThat(user.split(":")[0]).isNotIn("root", "0");
        assertThat(imageUid()).isGreaterThanOrEqualTo(10000);
    }

    @Test
    void exposesSluicesDefaultPortsAndListensOnAllInterfaces() {
        assertThat(Arrays.asList(last("EXPOSE").split(" ")))
                .containsExactlyInAnyOrder(
                        Integer.toString(DEFAULTS.listen().port()),
                        Integer.toString(DEFAULTS.admin().listen().port()));
        List<String> cmd = execForm(last("CMD"));
        assertThat(cmd).containsSequence("--config", "/etc/sluice/sluice.yaml");
        assertThat(cmd)
                .containsSequence("--listen", "0.0.0.0:" + DEFAULTS.listen().port());
        assertThat(cmd)
                .containsSequence(
                        "--admin-listen", "0.0.0.0:" + DEFAULTS.admin().listen().port());
        assertThat(execForm(last("ENTRYPOINT"))).containsSequence("-jar", "/opt/sluice/sluice.jar");
        assertThat(last("STOPSIGNAL")).isEqualTo("SIGTERM");
    }

    @Test
    void healthCheckAsksForReadinessWithTheShippedScript() {
        String healthcheck = last("HEALTHCHECK");
        List<String> cmd = execForm(healthcheck.substring(healthcheck.indexOf("CMD ") + 4));
        assertThat(cmd).containsExactly("/opt/sluice/healthcheck.sh", "/readyz");
        assertThat(all("COPY"))
                .anySatisfy(copy -> assertThat(copy)
                        .contains("deploy/docker/healthcheck.sh")
                        .endsWith("/opt/sluice/"));
        // The script's default port is the admin port.
        assertThat(DeployFiles.read(DeployFiles.deploy("docker/healthcheck.sh")))
                .contains("${SLUICE_ADMIN_PORT:-" + DEFAULTS.admin().listen().port() + "}");
    }

    @Test
    void bakedInConfigIsAValidSluiceConfig() {
        assertThat(all("COPY")).contains("deploy/docker/sluice.yaml /etc/sluice/sluice.yaml");
        SluiceConfig config = new ConfigLoader(Map.of()).load(DeployFiles.deploy("docker/sluice.yaml"));
        assertThat(config.admin().stateFile())
                .hasValueSatisfying(p -> assertThat(p.toString()).startsWith("/var/lib/sluice/"));
        // The generated CA goes where the image's user may write (the root file system may be read-only).
        assertThat(config.tls().caDir().toString()).startsWith("/var/lib/sluice/");
        assertThat(all("RUN")).anySatisfy(run -> assertThat(run).contains("chown sluice:sluice /var/lib/sluice"));
    }

    @Test
    void everyCopiedFileExistsInTheRepository() {
        for (String copy : all("COPY")) {
            if (copy.startsWith("--from")) continue;
            String[] parts = copy.split(" ");
            for (int i = 0; i < parts.length - 1; i++) {
                assertThat(Files.exists(DeployFiles.root().resolve(parts[i])))
                        .as(parts[i])
                        .isTrue();
            }
        }
    }

    @Test
    void aotCacheIsTrainedWhereTheRuntimeFlagsLookForIt() {
        Matcher cache = Pattern.compile("-XX:AOTCache=(\\S+)").matcher(imageJvmFlags());
        assertThat(cache.find()).isTrue();
        assertThat(all("RUN"))
                .anySatisfy(run -> assertThat(run).contains("train.sh /opt/sluice/sluice.jar " + cache.group(1)));
        assertThat(imageJvmFlags()).startsWith("@/opt/sluice/jvm.options ");
    }

    @Test
    void theImageRunsWithTheOneListOfJvmFlags() {
        assertThat(all("COPY")).contains("deploy/jvm.options /opt/sluice/jvm.options");
        // What the image adds to the list is its own (the AOT cache), never a flag of the list again.
        for (String flag : imageJvmFlags().split("\\s+")) {
            if (flag.startsWith("@")) continue;
            assertThat(JvmOptionsTest.sharedFlagNames()).doesNotContain(JvmOptionsTest.name(flag));
        }
    }
}
