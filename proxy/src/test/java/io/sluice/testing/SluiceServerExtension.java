package io.sluice.testing;

import io.sluice.Sluice;
import io.sluice.config.ConfigLoader;
import io.sluice.config.SluiceConfig;
import io.sluice.time.TimeSource;
import java.net.URI;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.extension.AfterEachCallback;
import org.junit.jupiter.api.extension.ExtensionContext;

/**
 * Starts Sluice as a real server on port 0 (data and admin), with the test's config, and stops it
 * after each test. Register with {@code @RegisterExtension final SluiceServerExtension sluice = new
 * SluiceServerExtension();} and call {@link #start(String)} once the fake upstreams are up.
 */
public final class SluiceServerExtension implements AfterEachCallback {
    private final List<Sluice> started = new ArrayList<>();
    private io.sluice.config.TlsProvider tlsProvider;

    /** Every Sluice this starts uses {@code provider} for {@code tls.provider}, whatever its YAML says. */
    public SluiceServerExtension tlsProvider(io.sluice.config.TlsProvider provider) {
        this.tlsProvider = provider;
        return this;
    }

    /** Starts Sluice with {@code yaml} merged over the built-in defaults, listening on loopback port 0. */
    public Running start(String yaml) {
        return start(yaml, Map.of(), TimeSource.system());
    }

    public Running start(String yaml, Map<String, String> env, TimeSource time) {
        SluiceConfig config = new ConfigLoader(env).fromYaml(yaml);
        config = config.withListen(io.sluice.config.HostPort.parse("127.0.0.1:0"))
                .withAdminListen(io.sluice.config.HostPort.parse("127.0.0.1:0"));
        // Unless the test chose one, the interception CA lives in a directory of this test run's own,
        // not in the developer's ~/.sluice.
        if (config.tls()
                .caDir()
                .equals(new ConfigLoader(Map.of()).defaults().tls().caDir())) {
            config = config.withTlsCaDir(TestCa.DIR);
        }
        if (tlsProvider != null) config = config.withTlsProvider(tlsProvider);
        Sluice sluice = Sluice.builder(config).time(time).env(env).start();
        started.add(sluice);
        return new Running(sluice);
    }

    @Override
    public void afterEach(ExtensionContext context) {
        started.forEach(Sluice::close);
        started.clear();
    }

    /** One CA directory for the whole test JVM, removed when it exits. */
    static final class TestCa {
        static final java.nio.file.Path DIR = create();

        private static java.nio.file.Path create() {
            try {
                java.nio.file.Path dir = java.nio.file.Files.createTempDirectory("sluice-test-ca");
                Runtime.getRuntime().addShutdownHook(new Thread(() -> SluiceProcess.deleteTree(dir)));
                return dir;
            } catch (java.io.IOException e) {
                throw new java.io.UncheckedIOException(e);
            }
        }
    }

    /** A started Sluice and its addresses. */
    public record Running(Sluice sluice) {
        public URI data(String path) {
            return URI.create("http://127.0.0.1:" + sluice.dataAddress().getPort() + path);
        }

        public URI admin(String path) {
            return URI.create("http://127.0.0.1:" + sluice.adminAddress().getPort() + path);
        }

        public int dataPort() {
            return sluice.dataAddress().getPort();
        }
    }
}
