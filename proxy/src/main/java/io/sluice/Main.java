package io.sluice;

import io.sluice.config.ConfigException;
import io.sluice.config.ConfigLoader;
import io.sluice.config.HostPort;
import io.sluice.config.SluiceConfig;
import io.sluice.send.ResponseHeaderLimits;
import java.io.IOException;
import java.io.InputStream;
import java.io.PrintStream;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.concurrent.CountDownLatch;

/**
 * The command line: {@code java -jar sluice.jar [--config FILE] [--listen HOST:PORT] [--admin-listen HOST:PORT]}.
 *
 * <p>Three options, parsed by hand: picocli cost about a tenth of the CPU a start takes (its classes
 * are Java 5 class files, verified the slow way and left out of class-data archives, each with a
 * warning line when one is made). See docs/performance.md, "Start time and footprint".
 */
public final class Main {
    static final String USAGE = """
            Usage: sluice [-hV] [--config=FILE] [--listen=HOST:PORT] [--admin-listen=HOST:PORT]
            Meters an application's outbound HTTP: batch fetch and passthrough with
            per-upstream rate limits, Retry-After cooldowns, retries, timeouts and a
            response cache.
                  --config=FILE        YAML config file (every key optional).
                  --listen=HOST:PORT   Data port (default 127.0.0.1:7600).
                  --admin-listen=HOST:PORT
                                       Admin port (default 127.0.0.1:7601).
              -h, --help               Show this help message and exit.
              -V, --version            Print version information and exit.

            With no --config, Sluice runs with its built-in defaults (see README).
            """;

    private static final List<String> VALUE_OPTIONS = List.of("--config", "--listen", "--admin-listen");

    final Path config;
    final String listen;
    final String adminListen;

    private Main(Path config, String listen, String adminListen) {
        this.config = config;
        this.listen = listen;
        this.adminListen = adminListen;
    }

    /** A command line that cannot be run: the message names the argument. */
    static final class UsageException extends Exception {
        UsageException(String message) {
            super(message);
        }
    }

    /** What the command line asks for: to run (with these options), or only help or the version. */
    sealed interface Command permits Run, Help, ShowVersion {}

    record Run(Main main) implements Command {}

    record Help() implements Command {}

    record ShowVersion() implements Command {}

    /**
     * Parses {@code args}: {@code --name value} or {@code --name=value} for the three options (each at
     * most once), {@code -h}/{@code --help}, {@code -V}/{@code --version}; anything else is refused.
     */
    static Command parse(String[] args) throws UsageException {
        Map<String, String> values = new LinkedHashMap<>();
        boolean help = false;
        boolean version = false;
        for (int i = 0; i < args.length; i++) {
            String arg = args[i];
            switch (arg) {
                case "-h", "--help" -> help = true;
                case "-V", "--version" -> version = true;
                case "-hV", "-Vh" -> help = version = true;
                default -> {
                    int eq = arg.indexOf('=');
                    String name = eq < 0 ? arg : arg.substring(0, eq);
                    if (!VALUE_OPTIONS.contains(name)) {
                        throw new UsageException(
                                arg.startsWith("-")
                                        ? "Unknown option: '" + arg + "'"
                                        : "Unmatched argument at index " + i + ": '" + arg + "'");
                    }
                    String value;
                    if (eq >= 0) {
                        value = arg.substring(eq + 1);
                    } else if (i + 1 < args.length) {
                        value = args[++i];
                    } else {
                        throw new UsageException("Missing required parameter for option '" + name + "'");
                    }
                    if (values.putIfAbsent(name, value) != null) {
                        throw new UsageException("option '" + name + "' should be specified only once");
                    }
                }
            }
        }
        if (help) return new Help();
        if (version) return new ShowVersion();
        String config = values.get("--config");
        return new Run(new Main(
                config == null ? null : Path.of(config), values.get("--listen"), values.get("--admin-listen")));
    }

    static List<String> versionLines() {
        return List.of("sluice " + Version.current(), "Java " + Runtime.version());
    }

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
        int code = run(args, System.out, System.err);
        if (code != 0) System.exit(code);
    }

    /** Runs the command line; returns the exit code (2: bad usage or config, 1: cannot start). */
    static int run(String[] args, PrintStream out, PrintStream err) {
        Command command;
        try {
            command = parse(args);
        } catch (UsageException e) {
            err.println(e.getMessage());
            err.print(USAGE);
            return 2;
        }
        return switch (command) {
            case Help h -> {
                out.print(USAGE);
                yield 0;
            }
            case ShowVersion v -> {
                versionLines().forEach(out::println);
                yield 0;
            }
            case Run r -> {
                try {
                    yield r.main().call(out, err);
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                    yield 1;
                }
            }
        };
    }

    private int call(PrintStream out, PrintStream err) throws InterruptedException {
        SluiceConfig cfg;
        try {
            cfg = load();
        } catch (ConfigException e) {
            err.println("sluice: config error: " + e.getMessage());
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
            sluice = Sluice.builder(cfg).start();
        } catch (ConfigException e) {
            // Found only when starting: a CA file that cannot be read or generated.
            err.println("sluice: config error: " + e.getMessage());
            return 2;
        } catch (RuntimeException e) {
            err.println("sluice: cannot start: " + describe(e));
            return 1;
        }
        var data = sluice.dataAddress();
        var admin = sluice.adminAddress();
        out.println("sluice " + Version.current() + " listening on http://" + hostPort(data) + " (admin http://"
                + hostPort(admin) + ")");
        // What HTTPS_PROXY clients must trust; the key beside it is never printed, served or logged.
        out.println("HTTPS_PROXY clients trust Sluice's CA: "
                + sluice.caCertificateFile().map(Object::toString).orElse("(operator CA)")
                + " (also at http://" + hostPort(admin) + "/api/tls/ca.pem)");
        out.flush();

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

    static final class Version {
        private Version() {}

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
