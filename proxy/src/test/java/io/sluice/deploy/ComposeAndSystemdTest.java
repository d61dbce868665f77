package io.sluice.deploy;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import io.sluice.config.ConfigLoader;
import io.sluice.config.Durations;
import io.sluice.config.SluiceConfig;
import java.net.URI;
import java.nio.file.Files;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;

/** deploy/compose and deploy/systemd agree with Sluice's ports, paths and shutdown. */
class ComposeAndSystemdTest {
    private static final SluiceConfig DEFAULTS = new ConfigLoader(Map.of()).defaults();

    private final JsonNode compose = DeployFiles.document(DeployFiles.deploy("compose/compose.yaml"));

    private JsonNode service(String name) {
        JsonNode service = compose.path("services").path(name);
        assertThat(service.isObject()).as("service " + name).isTrue();
        return service;
    }

    private static List<String> strings(JsonNode array) {
        List<String> values = new ArrayList<>();
        array.forEach(v -> values.add(v.asText()));
        return values;
    }

    private SluiceConfig composeConfig() {
        return new ConfigLoader(Map.of("SLUICE_ADMIN_TOKEN", "test-token"))
                .load(DeployFiles.deploy("compose/sluice.yaml"));
    }

    @Test
    void composeRunsSluiceAppRedisAndPrometheus() {
        assertThat(compose.path("services").fieldNames()).toIterable().contains("sluice", "app", "redis", "prometheus");
        JsonNode build = service("sluice").path("build");
        assertThat(DeployFiles.deploy("compose")
                        .resolve(build.path("context").asText())
                        .resolve(build.path("dockerfile").asText())
                        .normalize())
                .isEqualTo(DeployFiles.deploy("Dockerfile"));
    }

    @Test
    void composeSluiceListensOnTheDefaultPortsAndMountsItsConfig() {
        JsonNode sluice = service("sluice");
        List<String> command = strings(sluice.path("command"));
        assertThat(command).containsSequence("--config", "/etc/sluice/sluice.yaml");
        assertThat(command)
                .containsSequence("--listen", "0.0.0.0:" + DEFAULTS.listen().port());
        assertThat(command)
                .containsSequence(
                        "--admin-listen", "0.0.0.0:" + DEFAULTS.admin().listen().port());
        assertThat(strings(sluice.path("volumes"))).contains("./sluice.yaml:/etc/sluice/sluice.yaml:ro");
        // Published only on the host's loopback; the data port not at all.
        assertThat(strings(sluice.path("ports")))
                .containsExactly("127.0.0.1:" + DEFAULTS.admin().listen().port() + ":"
                        + DEFAULTS.admin().listen().port());
        assertThat(service("app").path("environment").path("SLUICE_URL").asText())
                .isEqualTo("http://sluice:" + DEFAULTS.listen().port());
        assertThat(service("app")
                        .path("depends_on")
                        .path("sluice")
                        .path("condition")
                        .asText())
                .isEqualTo("service_healthy");
    }

    @Test
    void composeConfigIsValidAndPointsRedisAtTheRedisService() {
        SluiceConfig config = composeConfig();
        assertThat(config.redis()).isPresent();
        URI redis = URI.create(config.redis().get().uri().value());
        assertThat(redis.getHost()).isEqualTo("redis");
        assertThat(service("redis").path("healthcheck").path("test").toString()).contains("ping");
        assertThat(service("sluice")
                        .path("depends_on")
                        .path("redis")
                        .path("condition")
                        .asText())
                .isEqualTo("service_healthy");
    }

    @Test
    void composeKeepsTheGeneratedCaInTheStateVolume() {
        String caDir = composeConfig().tls().caDir().toString();
        String stateVolume = strings(service("sluice").path("volumes")).stream()
                .filter(v -> v.startsWith("sluice-state:"))
                .findFirst()
                .orElseThrow();
        // A CA regenerated with each new container would break every client that trusts the old one.
        assertThat(caDir).startsWith(stateVolume.split(":")[1] + "/");
    }

    @Test
    void composeStopGraceExceedsShutdownGrace() {
        Duration stop =
                Durations.parse(service("sluice").path("stop_grace_period").asText());
        assertThat(stop).isGreaterThan(composeConfig().server().shutdownGrace());
    }

    @Test
    void prometheusScrapesSluicesAdminPort() {
        JsonNode prometheus = DeployFiles.document(DeployFiles.deploy("compose/prometheus.yml"));
        JsonNode job = prometheus.path("scrape_configs").get(0);
        assertThat(job.path("metrics_path").asText()).isEqualTo("/metrics");
        assertThat(job.path("static_configs").get(0).path("targets").get(0).asText())
                .isEqualTo("sluice:" + DEFAULTS.admin().listen().port());
        assertThat(strings(service("prometheus").path("volumes")))
                .contains("./prometheus.yml:/etc/prometheus/prometheus.yml:ro");
    }

    private Map<String, List<String>> systemdService() {
        var unit = DeployFiles.unit(DeployFiles.deploy("systemd/sluice.service"));
        assertThat(unit).containsKeys("Unit", "Service", "Install");
        return unit.get("Service");
    }

    private static String one(Map<String, List<String>> section, String key) {
        assertThat(section).containsKey(key);
        List<String> values = section.get(key);
        return values.get(values.size() - 1);
    }

    @Test
    void systemdRunsTheJarWithTheDocumentedConfigOnLoopback() {
        var service = systemdService();
        String exec = one(service, "ExecStart");
        assertThat(exec).startsWith("/usr/bin/java ").contains(" -jar /opt/sluice/sluice.jar ");
        assertThat(exec).contains("--config /etc/sluice/sluice.yaml");
        // No --listen override: on a VM the app is on the same host, and Sluice's default is loopback.
        assertThat(exec).doesNotContain("--listen").doesNotContain("--admin-listen");
        assertThat(DEFAULTS.listen().host()).isEqualTo("127.0.0.1");
        assertThat(DEFAULTS.admin().listen().host()).isEqualTo("127.0.0.1");
    }

    @Test
    void systemdStopsWithSigtermAndWaitsLongerThanShutdownGrace() {
        var service = systemdService();
        assertThat(one(service, "KillSignal")).isEqualTo("SIGTERM");
        Duration timeout = Durations.parse(one(service, "TimeoutStopSec"));
        assertThat(timeout).isGreaterThan(DEFAULTS.server().shutdownGrace());
    }

    @Test
    void systemdUnitIsHardened() {
        var service = systemdService();
        assertThat(one(service, "DynamicUser")).isEqualTo("yes");
        assertThat(one(service, "ProtectSystem")).isEqualTo("strict");
        assertThat(one(service, "NoNewPrivileges")).isEqualTo("yes");
        assertThat(one(service, "PrivateTmp")).isEqualTo("yes");
        assertThat(one(service, "ProtectHome")).isEqualTo("yes");
        assertThat(one(service, "CapabilityBoundingSet")).isEmpty();
        assertThat(one(service, "RestrictAddressFamilies").split(" ")).contains("AF_INET", "AF_INET6");
        // The JIT writes and then executes code: MemoryDenyWriteExecute would kill the JVM.
        assertThat(service.getOrDefault("MemoryDenyWriteExecute", List.of("no")))
                .containsOnly("no");
        // Heap ceiling below the cgroup ceiling, with room for metaspace, code cache and stacks.
        Matcher xmx = Pattern.compile("-Xmx(\\d+)m").matcher(one(service, "ExecStart"));
        assertThat(xmx.find()).isTrue();
        Matcher max = Pattern.compile("(\\d+)M").matcher(one(service, "MemoryMax"));
        assertThat(max.matches()).isTrue();
        assertThat(Integer.parseInt(xmx.group(1))).isLessThanOrEqualTo(Integer.parseInt(max.group(1)) / 2);
        // The dynamic CDS archive goes where the service may write.
        assertThat(one(service, "ExecStart")).contains("-XX:SharedArchiveFile=/var/cache/sluice/");
        assertThat(one(service, "CacheDirectory")).isEqualTo("sluice");
        // The JVM refuses an archive of an older jar and never replaces it: the unit drops it first.
        assertThat(one(service, "ExecStartPre"))
                .contains(
                        "test /var/cache/sluice/sluice.jsa -nt /opt/sluice/sluice.jar || rm -f /var/cache/sluice/sluice.jsa");
    }

    @Test
    void everyYamlDocumentUnderDeployParses() {
        var files = DeployFiles.yamlFiles();
        assertThat(files).hasSizeGreaterThanOrEqualTo(8);
        for (var file : files) {
            List<JsonNode> docs = DeployFiles.documents(file);
            assertThat(docs).as(file.toString()).isNotEmpty();
            assertThat(docs)
                    .as(file.toString())
                    .allSatisfy(doc -> assertThat(doc.isObject()).isTrue());
        }
        assertThat(Files.isExecutable(DeployFiles.deploy("bench/startup.sh"))).isTrue();
    }
}
