package io.sluice.deploy;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import io.sluice.config.ConfigLoader;
import io.sluice.config.SluiceConfig;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;
import okhttp3.tls.HeldCertificate;
import org.junit.jupiter.api.Test;

/** The Kubernetes base under deploy/kubernetes agrees with Sluice: ports, probes, config, lifecycle. */
class KubernetesManifestsTest {
    private static final SluiceConfig DEFAULTS = new ConfigLoader(Map.of()).defaults();

    private final Map<String, JsonNode> byKind = manifests();

    private static Map<String, JsonNode> manifests() {
        Map<String, JsonNode> kinds = new HashMap<>();
        for (String file : List.of("deployment.yaml", "configmap.yaml", "secret.yaml")) {
            for (JsonNode doc : DeployFiles.documents(DeployFiles.deploy("kubernetes/" + file))) {
                kinds.put(doc.path("kind").asText(), doc);
            }
        }
        return kinds;
    }

    private JsonNode podSpec() {
        return byKind.get("Deployment").path("spec").path("template").path("spec");
    }

    private JsonNode sidecar() {
        for (JsonNode c : podSpec().path("initContainers")) {
            if (c.path("name").asText().equals("sluice")) return c;
        }
        throw new AssertionError("no initContainers entry named sluice");
    }

    private Map<String, String> secretEnv() {
        Map<String, String> env = new HashMap<>();
        byKind.get("Secret")
                .path("stringData")
                .fields()
                .forEachRemaining(e -> env.put(e.getKey(), e.getValue().asText()));
        return env;
    }

    private String sluiceYaml() {
        return byKind.get("ConfigMap").path("data").path("sluice.yaml").asText();
    }

    /**
     * The ConfigMap's config as Sluice loads it. Its CA files live in the sluice-ca Secret's mount,
     * which this machine does not have: a throwaway CA stands in for them, at the same file names.
     */
    private SluiceConfig config() {
        return new ConfigLoader(secretEnv()).fromYaml(sluiceYaml().replace(CA_MOUNT + "/", caStandIn() + "/"));
    }

    private static final String CA_MOUNT = "/etc/sluice-ca";

    private static Path caStandIn() {
        try {
            Path dir = Files.createTempDirectory("sluice-k8s-ca");
            dir.toFile().deleteOnExit();
            HeldCertificate ca = new HeldCertificate.Builder()
                    .certificateAuthority(0)
                    .commonName("stand-in for the sluice-ca Secret")
                    .build();
            for (var file : Map.of("tls.crt", ca.certificatePem(), "tls.key", ca.privateKeyPkcs8Pem())
                    .entrySet()) {
                Path written = Files.writeString(dir.resolve(file.getKey()), file.getValue());
                written.toFile().deleteOnExit();
            }
            return dir;
        } catch (java.io.IOException e) {
            throw new java.io.UncheckedIOException(e);
        }
    }

    private JsonNode volume(String name) {
        for (JsonNode v : podSpec().path("volumes")) {
            if (v.path("name").asText().equals(name)) return v;
        }
        throw new AssertionError("no volume named " + name);
    }

    private static JsonNode mount(JsonNode container, String mountPath) {
        for (JsonNode m : container.path("volumeMounts")) {
            if (m.path("mountPath").asText().equals(mountPath)) return m;
        }
        throw new AssertionError(container.path("name").asText() + " mounts nothing at " + mountPath);
    }

    private JsonNode app() {
        return podSpec().path("containers").get(0);
    }

    private Map<String, String> appEnv() {
        Map<String, String> env = new HashMap<>();
        app().path("env")
                .forEach(e -> env.put(e.path("name").asText(), e.path("value").asText()));
        return env;
    }

    /** {@code key -> path} of a secret volume's items. */
    private static Map<String, String> items(JsonNode secretVolume) {
        Map<String, String> items = new HashMap<>();
        secretVolume
                .path("secret")
                .path("items")
                .forEach(i -> items.put(i.path("key").asText(), i.path("path").asText()));
        return items;
    }

    private int namedPort(JsonNode container, String name) {
        for (JsonNode port : container.path("ports")) {
            if (port.path("name").asText().equals(name))
                return port.path("containerPort").asInt();
        }
        throw new AssertionError("no port named " + name);
    }

    @Test
    void sluiceIsANativeSidecarNotAnAppContainer() {
        JsonNode sidecar = sidecar();
        assertThat(sidecar.path("restartPolicy").asText()).isEqualTo("Always");
        assertThat(podSpec().path("containers").findValuesAsText("name")).doesNotContain("sluice");
        assertThat(podSpec().path("containers")).isNotEmpty();
        // The app starts only once Sluice is listening: kubelet waits for a sidecar's startupProbe.
        assertThat(sidecar.path("startupProbe").path("httpGet").path("path").asText())
                .isEqualTo("/readyz");
    }

    @Test
    void probesHitTheAdminPortAtHealthzAndReadyz() {
        JsonNode sidecar = sidecar();
        int adminPort = namedPort(sidecar, "admin");
        assertThat(adminPort).isEqualTo(DEFAULTS.admin().listen().port());
        assertThat(config().admin().listen().port()).isEqualTo(adminPort);
        // The kubelet probes the pod IP, so the admin port must not be loopback-only.
        assertThat(config().admin().listen().host()).isEqualTo("0.0.0.0");
        for (String probe : List.of("startupProbe", "readinessProbe", "livenessProbe")) {
            JsonNode get = sidecar.path(probe).path("httpGet");
            assertThat(get.path("port").asText()).as(probe).isIn("admin", Integer.toString(adminPort));
        }
        assertThat(sidecar.path("livenessProbe").path("httpGet").path("path").asText())
                .isEqualTo("/healthz");
        assertThat(sidecar.path("readinessProbe").path("httpGet").path("path").asText())
                .isEqualTo("/readyz");
    }

    @Test
    void prometheusScrapesTheAdminPortsMetrics() {
        JsonNode annotations = byKind.get("Deployment")
                .path("spec")
                .path("template")
                .path("metadata")
                .path("annotations");
        assertThat(annotations.path("prometheus.io/scrape").asText()).isEqualTo("true");
        assertThat(annotations.path("prometheus.io/port").asText())
                .isEqualTo(Integer.toString(DEFAULTS.admin().listen().port()));
        assertThat(annotations.path("prometheus.io/path").asText()).isEqualTo("/metrics");
    }

    @Test
    void configMapIsAValidSluiceConfigWithSecretsFromTheSecret() {
        SluiceConfig config = config();
        assertThat(config.listen()).isEqualTo(DEFAULTS.listen()); // data port stays on the pod's loopback
        assertThat(config.admin().hasToken()).isTrue();
        assertThat(config.upstreams()).containsKey("github");
        assertThat(config.upstreams()
                        .get("github")
                        .policy()
                        .headers()
                        .get("Authorization")
                        .value())
                .isEqualTo("Bearer " + secretEnv().get("GITHUB_TOKEN"));

        // Every ${VAR} the config needs (outside comments, without a default) is a key of the Secret
        // the sidecar takes its environment from.
        Set<String> needed = new HashSet<>();
        for (String line : sluiceYaml().split("\n")) {
            if (line.strip().startsWith("#")) continue;
            Matcher m = Pattern.compile("\\$\\{([A-Za-z_][A-Za-z0-9_]*)}").matcher(line);
            while (m.find()) needed.add(m.group(1));
        }
        assertThat(needed).isNotEmpty();
        assertThat(secretEnv().keySet()).containsAll(needed);
        assertThat(sidecar().path("envFrom").findValuesAsText("name"))
                .contains(byKind.get("Secret").path("metadata").path("name").asText());
    }

    @Test
    void configIsMountedWhereTheArgsPointAndTheAppTalksToTheDataPort() {
        JsonNode sidecar = sidecar();
        List<String> args = new ArrayList<>();
        sidecar.path("args").forEach(a -> args.add(a.asText()));
        assertThat(args).containsSequence("--config", "/etc/sluice/sluice.yaml");
        assertThat(sidecar.path("volumeMounts").findValuesAsText("mountPath")).contains("/etc/sluice");
        JsonNode configVolume = null;
        for (JsonNode v : podSpec().path("volumes")) {
            if (v.has("configMap")) configVolume = v;
        }
        assertThat(configVolume).isNotNull();
        assertThat(configVolume.path("configMap").path("name").asText())
                .isEqualTo(byKind.get("ConfigMap").path("metadata").path("name").asText());
        assertThat(configVolume.path("configMap").path("items").findValuesAsText("path"))
                .contains("sluice.yaml");

        JsonNode app = podSpec().path("containers").get(0);
        Map<String, String> env = new HashMap<>();
        app.path("env")
                .forEach(e -> env.put(e.path("name").asText(), e.path("value").asText()));
        assertThat(env.get("SLUICE_URL"))
                .isEqualTo("http://127.0.0.1:" + config().listen().port());
    }

    @Test
    void sluiceCaIsTheOperatorsFromASecretMountedReadOnlyWhereTheConfigPoints() {
        SluiceConfig config = config();
        assertThat(sluiceYaml()).contains("ca_cert: " + CA_MOUNT + "/tls.crt", "ca_key: " + CA_MOUNT + "/tls.key");
        assertThat(config.tls().caCert()).isPresent();
        assertThat(config.tls().caKey()).isPresent();

        JsonNode mount = mount(sidecar(), CA_MOUNT);
        assertThat(mount.path("readOnly").asBoolean()).isTrue();
        JsonNode volume = volume(mount.path("name").asText());
        // YAML 1.1 octal, as the Kubernetes API reads it: 0400 is 256.
        assertThat(volume.path("secret").path("defaultMode").asInt()).isEqualTo(0400);
        assertThat(volume.path("secret").path("secretName").asText()).isEqualTo("sluice-ca");
        // kubectl create secret tls names the keys tls.crt and tls.key.
        assertThat(items(volume)).isEqualTo(Map.of("tls.crt", "tls.crt", "tls.key", "tls.key"));
        // A non-root Sluice reads root-owned secret files only through the pod's fsGroup.
        assertThat(podSpec().path("securityContext").path("fsGroup").asInt()).isEqualTo(DockerfileTest.imageUid());
        // No example CA key ships: the Secret is the operator's to create.
        assertThat(byKind.values())
                .noneSatisfy(doc ->
                        assertThat(doc.path("metadata").path("name").asText()).isEqualTo("sluice-ca"));
    }

    @Test
    void appUsesSluiceAsHttpsProxyAndTrustsItsCaCertificateButNeverSeesTheKey() {
        Map<String, String> env = appEnv();
        assertThat(env.get("HTTPS_PROXY"))
                .isEqualTo("http://127.0.0.1:" + config().listen().port());
        assertThat(env.get("NO_PROXY").split(",")).contains("127.0.0.1", "localhost");

        String bundle = env.get("SSL_CERT_FILE");
        assertThat(bundle).isNotEmpty();
        for (String variable : List.of("REQUESTS_CA_BUNDLE", "NODE_EXTRA_CA_CERTS", "CURL_CA_BUNDLE")) {
            assertThat(env.get(variable)).as(variable).isEqualTo(bundle);
        }
        Path file = Path.of(bundle);
        JsonNode mount = mount(app(), file.getParent().toString());
        assertThat(mount.path("readOnly").asBoolean()).isTrue();
        JsonNode volume = volume(mount.path("name").asText());
        assertThat(volume.path("secret").path("secretName").asText()).isEqualTo("sluice-ca");
        assertThat(items(volume)).isEqualTo(Map.of("tls.crt", file.getFileName().toString()));
        assertThat(app().path("volumeMounts").findValuesAsText("mountPath")).doesNotContain(CA_MOUNT);
    }

    @Test
    void gracePeriodCoversSluicesShutdownGrace() {
        long grace = podSpec().path("terminationGracePeriodSeconds").asLong();
        long shutdown = config().server().shutdownGrace().toSeconds();
        // The app drains first; Sluice's SIGTERM comes after it, inside the same budget.
        assertThat(grace).isGreaterThanOrEqualTo(shutdown + 10);
    }

    @Test
    void sidecarHasResourceRequestsAndLimitsAndRunsAsTheImagesUser() {
        JsonNode resources = sidecar().path("resources");
        for (String part : List.of("requests", "limits")) {
            assertThat(resources.path(part).path("memory").asText()).as(part).isNotEmpty();
            assertThat(resources.path(part).path("cpu").asText()).as(part).isNotEmpty();
        }
        assertThat(sidecar().path("securityContext").path("runAsUser").asInt()).isEqualTo(DockerfileTest.imageUid());
        assertThat(sidecar()
                        .path("securityContext")
                        .path("readOnlyRootFilesystem")
                        .asBoolean())
                .isTrue();
    }

    @Test
    void sidecarJvmFlagsAreTheImages() {
        String flags = null;
        for (JsonNode e : sidecar().path("env")) {
            if (e.path("name").asText().equals("JDK_JAVA_OPTIONS"))
                flags = e.path("value").asText();
        }
        assertThat(flags).isNotNull();
        assertThat(flags.strip().replaceAll("\\s+", " ")).isEqualTo(DockerfileTest.imageJvmFlags());
    }

    @Test
    void kustomizationListsEveryManifest() throws Exception {
        JsonNode kustomization = DeployFiles.document(DeployFiles.deploy("kubernetes/kustomization.yaml"));
        Set<String> listed = new HashSet<>();
        kustomization.path("resources").forEach(r -> listed.add(r.asText()));
        Path dir = DeployFiles.deploy("kubernetes");
        try (Stream<Path> files = Files.list(dir)) {
            List<String> manifests = files.map(p -> p.getFileName().toString())
                    .filter(n -> n.endsWith(".yaml") && !n.equals("kustomization.yaml"))
                    .toList();
            assertThat(listed).containsExactlyInAnyOrderElementsOf(manifests);
        }
        JsonNode images = kustomization.path("images");
        assertThat(images.findValuesAsText("name"))
                .contains(sidecar().path("image").asText().replaceAll(":[^:/]+$", ""));
    }
}
