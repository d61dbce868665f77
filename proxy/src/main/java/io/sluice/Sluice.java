package io.sluice;

import io.sluice.config.SluiceConfig;
import io.sluice.connect.ConnectHandler;
import io.sluice.fetch.Pipeline;
import io.sluice.server.DataListener;
import io.sluice.tls.CertificateAuthority;
import io.sluice.upstream.Upstreams;
import io.undertow.Undertow;
import io.undertow.server.handlers.GracefulShutdownHandler;
import java.net.InetSocketAddress;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;

/**
 * A running Sluice: data port, admin port, and everything between. {@link #builder} wires one and
 * starts it; this class only starts and stops what the builder made.
 */
public final class Sluice implements AutoCloseable {
    private static final System.Logger LOG = System.getLogger(Sluice.class.getName());
    /** How long answers to calls cancelled at the end of the shutdown grace get to be written. */
    private static final Duration SHUTDOWN_ANSWER_WAIT = Duration.ofSeconds(2);

    private final SluiceConfig config;
    private final Upstreams upstreams;
    private final TlsSide tls;
    private final Pipeline pipeline;
    private final Readiness readiness;
    private final GracefulShutdownHandler drain;
    private final DataListener data;
    private final ConnectHandler connect;
    private final Undertow admin;
    /** What the listeners used, released in this order once they have stopped. */
    private final List<Runnable> release;

    Sluice(
            SluiceConfig config,
            Upstreams upstreams,
            TlsSide tls,
            Pipeline pipeline,
            Readiness readiness,
            GracefulShutdownHandler drain,
            DataListener data,
            ConnectHandler connect,
            Undertow admin,
            List<Runnable> release) {
        this.config = config;
        this.upstreams = upstreams;
        this.tls = tls;
        this.pipeline = pipeline;
        this.readiness = readiness;
        this.drain = drain;
        this.data = data;
        this.connect = connect;
        this.admin = admin;
        this.release = release;
    }

    /** A Sluice for {@code config}, on real time and the process's environment unless told otherwise. */
    public static SluiceBuilder builder(SluiceConfig config) {
        return new SluiceBuilder(config);
    }

    /** Opens the data port, then the admin port; ready once both listen. */
    void start() {
        data.start();
        try {
            admin.start();
        } catch (RuntimeException e) {
            data.stop();
            throw e;
        }
        readiness.listening(true);
    }

    public InetSocketAddress dataAddress() {
        return data.address();
    }

    public InetSocketAddress adminAddress() {
        return (InetSocketAddress) admin.getListenerInfo().get(0).getAddress();
    }

    /**
     * Sluice's interception CA (its certificate; the key never leaves the CA's file), once it is
     * loaded: asking loads it, unless the start did ({@link TlsSide}).
     */
    public CompletableFuture<CertificateAuthority> certificateAuthority() {
        return tls.certificateAuthority();
    }

    /**
     * Where the CA's certificate is on disk, for operators to hand to clients: known without loading
     * the CA; empty for an operator's own CA ({@code tls.ca_cert}).
     */
    public Optional<Path> caCertificateFile() {
        return tls.caCertificateFile();
    }

    public Upstreams upstreams() {
        return upstreams;
    }

    public Pipeline pipeline() {
        return pipeline;
    }

    public SluiceConfig config() {
        return config;
    }

    /**
     * Graceful stop: readiness turns 503 at once, new data requests get 503, in-flight requests
     * get up to {@code grace} to finish; then both listeners close. Returns whether all finished.
     */
    public boolean drainAndStop(Duration grace) {
        readiness.listening(false);
        drain.shutdown();
        boolean drained;
        try {
            drained = drain.awaitShutdown(grace.toMillis());
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            drained = false;
        }
        if (!drained) {
            LOG.log(System.Logger.Level.WARNING, "shutdown grace of {0} passed with requests in flight", grace);
            // Every call still running ends as a typed `cancelled` (batch items) or 503 (passthrough),
            // and those answers get a moment to be written before the listeners close.
            pipeline.cancelAll();
            try {
                drain.awaitShutdown(SHUTDOWN_ANSWER_WAIT.toMillis());
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        }
        stopNow();
        return drained;
    }

    @Override
    public void close() {
        drainAndStop(Duration.ZERO);
    }

    private void stopNow() {
        data.stop();
        connect.closeAll();
        admin.stop();
        release.forEach(Runnable::run);
    }
}
