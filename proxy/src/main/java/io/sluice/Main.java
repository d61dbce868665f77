package io.sluice;

import io.sluice.config.ConfigException;
import io.sluice.config.ConfigLoader;
import io.sluice.config.HostPort;
import io.sluice.config.SluiceConfig;
import io.sluice.fetch.ResponseHeaderLimits;
import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Path;
import java.util.Properties;
import java.util.concurrent.Callable;
import java.util.concurrent.CountDownLatch;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/** The command line: {@code java -jar sluice.jar [--config FILE] [--listen HOST:PORT] [--admin-listen HOST:PORT]}. */
@Command(
        name = "sluice",
        mixinStandardHelpOptions = true,
        versionProvider = Main.Version.class,
        description = "Meters an application's outbound HTTP: batch fetch and passthrough with per-upstream "
                + "rate limits, Retry-After cooldowns, retries, timeouts and a response cache.",
        footer = "%nWith no --config, Sluice runs with its built-in defaults (see README).")
public final class Main implements Callable<Integer> {
    @Option(names = "--config", paramLabel = "FILE", description = "YAML config file (every key optional).")
    Path config;

    @Option(names = "--listen", paramLabel = "HOST:PORT", description = "Data port (default 127.0.0.1:7600).")
    String listen;

    @Option(names = "--admin-listen", paramLabel = "HOST:PORT", description = "Admin port (default 127.0.0.1:7601).")
    String adminListen;

    public static void main(String[] args) {
        // java.net.http completes every sendAsync through CompletableFuture's default executor, which
        // some JDKs make a thread per task when the common pool's parallelism is 1 (any 2-core
        // machine). Measured on JDK 25 it does not (18 vs 19 threads started over 3 s of load); this
        // guards older runtimes. Must run before anything touches CompletableFuture; -D wins.
        // Lettuce's Netty reaches for sun.misc.Unsafe, which JDK 24+ announces with four WARNING lines
        // on the first Redis connection; its safe paths are plenty for a few commands per request.
        if (System.getProperty("io.netty.noUnsafe") == null) {
            System.setProperty("io.netty.noUnsafe", "true");
        }
        if (System.getProperty("java.util.concurrent.ForkJoinPool.common.parallelism") == null) {
            System.setProperty("java.util.concurrent.ForkJoinPool.common.parallelism", "2");
        }
        System.setProperty("java.util.logging.SimpleFormatter.format", "%1$tFT%1$tT.%1$tLZ %4$s %3$s: %5$s%6$s%n");
        int code = new CommandLine(new Main()).execute(args);
        if (code != 0) System.exit(code);
    }

    @Override
    public Integer call() throws InterruptedException {
        SluiceConfig cfg;
        try {
            cfg = load();
        } catch (ConfigException e) {
            System.err.println("sluice: config error: " + e.getMessage());
            return 2;
        }
        io.sluice.log.Logs.install(cfg.log());
        // java.net.http bounds a response head only by this JVM-wide property, read once: set it from
        // the config before any client exists (an explicit -D wins).
        if (System.getProperty("jdk.http.maxHeaderSize") == null) {
            System.setProperty(
                    "jdk.http.maxHeaderSize",
                    Long.toString(ResponseHeaderLimits.of(cfg.server()).jdkMaxHeaderSize()));
        }
        Sluice sluice;
        try {
            sluice = Sluice.start(cfg);
        } catch (ConfigException e) {
            // Found only when starting: a CA file that cannot be read or generated.
            System.err.println("sluice: config error: " + e.getMessage());
            return 2;
        } catch (RuntimeException e) {
            System.err.println("sluice: cannot start: " + describe(e));
            return 1;
        }
        var data = sluice.dataAddress();
        var admin = sluice.adminAddress();
        System.out.println("sluice " + Version.current() + " listening on http://" + hostPort(data) + " (admin http://"
                + hostPort(admin) + ")");
        // What HTTPS_PROXY clients must trust; the key beside it is never printed, served or logged.
        System.out.println("HTTPS_PROXY clients trust Sluice's CA: "
                + sluice.certificateAuthority()
                        .certificateFile()
                        .map(Object::toString)
                        .orElse("(operator CA)")
                + " (also at http://" + hostPort(admin) + "/api/tls/ca.pem)");
        System.out.flush();

        CountDownLatch stopped = new CountDownLatch(1);
        Runnable stop = () -> {
            sluice.drainAndStop(cfg.server().shutdownGrace());
            stopped.countDown();
        };
        // SIGTERM and SIGINT drain, then exit 0: the Kubernetes sidecar lifecycle treats any other
        // code as a failure.
        for (String signal : new String[] {"TERM", "INT"}) {
            sun.misc.Signal.handle(new sun.misc.Signal(signal), s -> new Thread(stop, "sluice-shutdown").start());
        }
        stopped.await();
        return 0;
    }

    private SluiceConfig load() {
        ConfigLoader loader = new ConfigLoader(System.getenv());
        SluiceConfig cfg = config == null ? loader.defaults() : loader.load(config);
        if (config != null && cfg.admin().stateFile().isEmpty()) {
            // Admin changes persist beside the config unless admin.state_file says where.
            String name = config.getFileName().toString().replaceFirst("\\.(ya?ml|json)$", "");
            cfg = cfg.withStateFile(config.resolveSibling(name + ".state.json"));
        }
        if (listen != null) cfg = cfg.withListen(parse("--listen", listen));
        if (adminListen != null) cfg = cfg.withAdminListen(parse("--admin-listen", adminListen));
        return cfg;
    }

    private static HostPort parse(String option, String value) {
        try {
            return HostPort.parse(value);
        } catch (IllegalArgumentException e) {
            throw new ConfigException(option, e.getMessage());
        }
    }

    private static String hostPort(java.net.InetSocketAddress address) {
        String host = address.getAddress().getHostAddress();
        return (host.contains(":") ? "[" + host + "]" : host) + ":" + address.getPort();
    }

    private static String describe(Throwable e) {
        Throwable root = e;
        while (root.getCause() != null) root = root.getCause();
        return root.getMessage() == null ? root.toString() : root.getMessage();
    }

    static final class Version implements CommandLine.IVersionProvider {
        @Override
        public String[] getVersion() {
            return new String[] {"sluice " + current(), "Java " + Runtime.version()};
        }

        static String current() {
            try (InputStream in = Main.class.getResourceAsStream("/sluice-version.properties")) {
                Properties p = new Properties();
                if (in != null) p.load(in);
                return p.getProperty("version", "dev");
            } catch (IOException e) {
                return "dev";
            }
        }
    }
}
