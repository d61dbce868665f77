package io.sluice.deploy;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.net.URI;
import java.nio.file.Path;
import java.time.Duration;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.testcontainers.DockerClientFactory;
import org.testcontainers.containers.GenericContainer;
import org.testcontainers.containers.wait.strategy.Wait;
import org.testcontainers.images.builder.ImageFromDockerfile;
import org.testcontainers.images.builder.Transferable;

/**
 * Builds the image from deploy/Dockerfile and runs {@link BatchScenario} through the container; then
 * stops it and expects exit code 0. Skipped, saying so, where no Docker engine is reachable (as on
 * CI); {@link ProcessBatchTest} runs the same scenario against the process everywhere.
 */
class ContainerImageTest {
    private static final int DATA = 7600;
    private static final int ADMIN = 7601;

    @BeforeEach
    void requireDocker() {
        boolean docker;
        try {
            docker = DockerClientFactory.instance().isDockerAvailable();
        } catch (RuntimeException | LinkageError e) {
            docker = false;
        }
        assumeTrue(
                docker,
                "No Docker engine reachable: skipping the image build/run test of deploy/Dockerfile"
                        + " (ProcessBatchTest runs the same scenario against the jar's process)");
    }

    @Test
    void imageRunsABatchAndExitsZeroOnStop() {
        Path root = DeployFiles.root();
        var image = new ImageFromDockerfile("sluice-test", true)
                .withDockerfilePath("deploy/Dockerfile")
                // The context is the repository minus build output and VCS data.
                .withFileFromPath(".mvn", root.resolve(".mvn"))
                .withFileFromPath("mvnw", root.resolve("mvnw"))
                .withFileFromPath("pom.xml", root.resolve("pom.xml"))
                .withFileFromPath("admin-ui/pom.xml", root.resolve("admin-ui/pom.xml"))
                .withFileFromPath("admin-ui/src", root.resolve("admin-ui/src"))
                .withFileFromPath("proxy/pom.xml", root.resolve("proxy/pom.xml"))
                .withFileFromPath("proxy/src", root.resolve("proxy/src"))
                .withFileFromPath("deploy/docker", root.resolve("deploy/docker"))
                .withFileFromPath("deploy/Dockerfile", root.resolve("deploy/Dockerfile"));
        try (var container = new GenericContainer<>(image)
                .withCopyToContainer(Transferable.of(BatchScenario.CONFIG), "/etc/sluice/sluice.yaml")
                .withExposedPorts(DATA, ADMIN)
                // The image's own HEALTHCHECK (GET /readyz) decides when it is up.
                .waitingFor(Wait.forHealthcheck().withStartupTimeout(Duration.ofMinutes(2)))) {
            container.start();
            String host = container.getHost();
            BatchScenario.run(
                    URI.create("http://" + host + ":" + container.getMappedPort(DATA)),
                    URI.create("http://" + host + ":" + container.getMappedPort(ADMIN)),
                    "http://127.0.0.1:" + ADMIN);

            var docker = container.getDockerClient();
            docker.stopContainerCmd(container.getContainerId()).withTimeout(40).exec();
            Long exit = docker.inspectContainerCmd(container.getContainerId())
                    .exec()
                    .getState()
                    .getExitCodeLong();
            assertThat(exit).isZero();
        }
    }
}
