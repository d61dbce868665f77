package io.sluice;

import static org.assertj.core.api.Assertions.assertThat;

import io.sluice.testing.SluiceProcess;
import io.sluice.testing.TestHttp;
import java.lang.management.ManagementFactory;
import java.net.URI;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * XNIO and its thread pools register MBeans, and the first registration made the JVM's platform MBean
 * server with every platform MXBean at each start; Sluice starts XNIO so that none is made, and leaves
 * the JDK able to make one when asked later (see {@link SluiceBuilder#xnio}).
 */
class XnioMBeansTest {
    private static final String BUILDER = "javax.management.builder.initial";

    @Test
    void aStartMakesNoPlatformMBeanServer(@TempDir Path dir) throws Exception {
        Path classes = dir.resolve("classes.log");
        try (var sluice = SluiceProcess.start("", List.of("-Xlog:class+load=info:file=" + classes))) {
            var health = TestHttp.get(URI.create("http://127.0.0.1:" + sluice.adminPort() + "/healthz"));
            assertThat(health.statusCode()).isEqualTo(200);
        }
        assertThat(Files.readString(classes))
                .contains("org.xnio.nio.NioXnioWorker ")
                .doesNotContain("com.sun.jmx.mbeanserver.JmxMBeanServer ");
    }

    @Test
    void aPlatformMBeanServerAskedForAfterXnioStartsIsMadeAsUsual() {
        SluiceBuilder.xnio();

        assertThat(System.getProperty(BUILDER)).isNull();
        assertThat(ManagementFactory.getPlatformMBeanServer().getMBeanCount()).isPositive();
    }

    @Test
    void aBuilderTheOperatorNamedIsLeftAlone() {
        System.setProperty(BUILDER, "javax.management.MBeanServerBuilder");
        try {
            SluiceBuilder.xnio();

            assertThat(System.getProperty(BUILDER)).isEqualTo("javax.management.MBeanServerBuilder");
        } finally {
            System.clearProperty(BUILDER);
        }
    }
}
