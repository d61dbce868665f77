package io.sluice;

import io.sluice.config.ConfigException;
import io.sluice.config.SluiceConfig;
import io.sluice.config.TlsConfig;
import io.sluice.send.UpstreamClients;
import io.sluice.server.ThreadBufferPool;
import io.sluice.time.TimeSource;
import io.sluice.tls.CertificateAuthority;
import io.sluice.tls.InterceptTls;
import io.sluice.tls.TlsEngines;
import io.sluice.upstream.Upstreams;
import io.undertow.connector.ByteBufferPool;
import io.undertow.connector.PooledByteBuffer;
import java.nio.file.Path;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.Executor;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.atomic.AtomicBoolean;

/**
 * The TLS side of a running Sluice: the engines {@code tls.provider} chose (Conscrypt's native
 * library), each TLS profile's context (the JDK's trust store), the TLS layer's buffers, and the
 * interception CA with its server contexts. It was a third of a start's CPU and some 13 MB of its
 * idle footprint, and a sidecar may go long without needing it, so each half is made, on a thread
 * of its own, when first needed, and what needs it waits for it without blocking a thread: the
 * upstream half for the send stage's first {@code https://} request or {@code java.net.http} send
 * ({@link UpstreamClients#ready}),
 * both for the first intercepted CONNECT (before its {@code 200}), the CA for {@code /api/tls}
 * (docs/performance.md, "Start time and footprint"). That first request waits for it once: a few
 * hundred milliseconds.
 *
 * <p>What a bad file failed before still fails the start, with the same config error: {@code
 * ca_file} and {@code client_cert} files are read and checked when the config is read, as before; an
 * operator's CA ({@code tls.ca_cert}) is loaded beside the start and joined before the ports listen,
 * as before ({@link #joinCa}), and so is the CA generated on a first start (its file exists when the
 * start prints its name). Sluice's own CA, found in {@code tls.ca_dir}, is checked at start ({@link
 * CertificateAuthority#check}: a directory that cannot be read, or that holds one of the two files
 * alone, is the config error it was) and loaded when first needed. A CA there that is readable but
 * unusable (not a CA, a key that does not match) then fails each interception ({@code 502}, {@code
 * tls}) and is logged, instead of failing the start.
 */
final class TlsSide {
    private static final System.Logger LOG = System.getLogger(Sluice.class.getName());
    /** Leaf certificates kept, one per TLS name and key type: a host costs one signature, not one per tunnel. */
    private static final int MAX_CACHED_LEAVES = 10_000;

    /** What upstream connections use: the engines, each profile's contexts, the TLS layer's buffers. */
    private record Upstream(TlsEngines engines, UpstreamClients clients, ThreadBufferPool buffers) {}

    private final SluiceConfig config;
    private final Upstreams upstreams;
    private final ExecutorService workers;
    private final TimeSource time;
    /** Where each half is made when first needed. */
    private final Executor makers;
    /** Whether the CA is made during the start: the operator's ({@code tls.ca_cert}), or a new one. */
    private final boolean caAtStart;

    private final AtomicBoolean upstreamStarted = new AtomicBoolean();
    private final AtomicBoolean caStarted = new AtomicBoolean();
    private final CompletableFuture<Upstream> upstream = new CompletableFuture<>();
    private final CompletableFuture<CertificateAuthority> ca = new CompletableFuture<>();
    private final CompletableFuture<InterceptTls> intercept;
    private final UpstreamClients clients;
    private final ByteBufferPool buffers = new LateBuffers();

    /**
     * Checks {@code tls.ca_dir} now; starts loading the operator's CA, or generating Sluice's own if
     * there is none yet, beside the rest of the start; nothing else is made until needed, on {@code
     * makers}.
     *
     * @throws ConfigException when {@code tls.ca_dir} cannot hold Sluice's CA
     */
    TlsSide(SluiceConfig config, Upstreams upstreams, ExecutorService workers, TimeSource time, Executor makers) {
        this.config = config;
        this.upstreams = upstreams;
        this.workers = workers;
        this.time = time;
        this.makers = makers;
        this.intercept = upstream.thenCombine(
                ca, (made, authority) -> InterceptTls.create(authority, time, MAX_CACHED_LEAVES, made.engines()));
        this.clients = UpstreamClients.when(upstream.thenApply(Upstream::clients), this::startUpstream);
        boolean operatorCa = config.tls().caCert().isPresent();
        try {
            this.caAtStart =
                    operatorCa || !CertificateAuthority.check(config.tls().caDir());
        } catch (IllegalArgumentException e) {
            throw new ConfigException("tls.ca_dir", e.getMessage());
        }
        if (caAtStart) {
            caStarted.set(true);
            SluiceBuilder.besides("sluice-start-ca", () -> certificateAuthority(config.tls(), time))
                    .whenComplete((made, error) -> complete(ca, made, error));
        }
    }

    /**
     * Waits for a CA made during the start and throws what making it threw, as the start did before
     * (a {@link ConfigException} naming {@code tls.ca_cert} or {@code tls.ca_dir}); returns at once
     * when the CA is loaded after the start.
     */
    void joinCa() {
        if (!caAtStart) return;
        try {
            ca.join();
        } catch (java.util.concurrent.CompletionException e) {
            if (e.getCause() instanceof RuntimeException cause) throw cause;
            if (e.getCause() instanceof Error cause) throw cause;
            throw e;
        }
    }

    /** Starts making the upstream half (engines, profiles' contexts, buffers), once, on {@code makers}. */
    private void startUpstream() {
        if (!upstreamStarted.compareAndSet(false, true)) return;
        // Nothing joins it: a failure is logged when found, not only seen by the request that waits.
        upstream.whenComplete((made, e) -> logFailure("the TLS set-up for upstreams failed", e));
        makers.execute(() -> make(upstream, this::makeUpstream));
    }

    /** Starts loading Sluice's CA from {@code tls.ca_dir}, once, on {@code makers}. */
    private void startCa() {
        if (!caStarted.compareAndSet(false, true)) return;
        ca.whenComplete((made, e) -> logFailure("Sluice's CA cannot be used; intercepted CONNECTs will fail", e));
        makers.execute(() -> make(ca, () -> certificateAuthority(config.tls(), time)));
    }

    private static <T> void make(CompletableFuture<T> result, java.util.function.Supplier<T> work) {
        try {
            result.complete(work.get());
        } catch (Throwable e) {
            result.completeExceptionally(e);
        }
    }

    private static <T> void complete(CompletableFuture<T> result, T made, Throwable error) {
        if (error != null) result.completeExceptionally(error);
        else result.complete(made);
    }

    /** Each TLS profile's contexts and {@code java.net.http} clients, ready once {@link UpstreamClients#ready} is. */
    UpstreamClients clients() {
        return clients;
    }

    /** The TLS layer's buffers (a whole TLS record each); only used, by upstream and tunnel TLS, once the side is made. */
    ByteBufferPool buffers() {
        return buffers;
    }

    /** TLS buffers in use now: none until the side is made. */
    long buffersInUse() {
        Upstream made = upstream.getNow(null);
        return made == null ? 0 : made.buffers().inUse();
    }

    /** Interception's server contexts over Sluice's CA, once made; asking starts making both halves. */
    CompletableFuture<InterceptTls> intercept() {
        startUpstream();
        startCa();
        return intercept;
    }

    /** Sluice's CA, once loaded or generated; asking starts loading it. */
    CompletableFuture<CertificateAuthority> certificateAuthority() {
        startCa();
        return ca;
    }

    /** Where the CA's certificate is (to print at start), known without reading it; empty for an operator CA. */
    Optional<Path> caCertificateFile() {
        if (config.tls().caCert().isPresent()) return Optional.empty();
        return Optional.of(CertificateAuthority.certificateFileIn(config.tls().caDir()));
    }

    /** Hellos answered by each interception engine, zero until the side is made. */
    long handshakes(String engine) {
        InterceptTls made = intercept.getNow(null);
        Long count = made == null ? null : made.handshakesByEngine().get(engine);
        return count == null ? 0 : count;
    }

    /**
     * {@code /api/tls}: what an operator needs to hand Sluice's CA to clients, how many tunnels are
     * open, and the hellos each engine answered (none before the first intercepted CONNECT).
     */
    CompletableFuture<Object> status(java.util.function.IntSupplier tunnelsOpen) {
        return certificateAuthority().thenApply(authority -> {
            var certificate = authority.certificate();
            return Map.of(
                    "ca",
                    Map.of(
                            "subject", certificate.getSubjectX500Principal().getName(),
                            "sha256", authority.fingerprintSha256(),
                            "not_after", certificate.getNotAfter().toInstant().toString(),
                            "pem", "/api/tls/ca.pem"),
                    "tunnels_open",
                    tunnelsOpen.getAsInt(),
                    "handshakes",
                    Map.of("jdk", handshakes("jdk"), "conscrypt", handshakes("conscrypt")));
        });
    }

    /** Closes the profiles' {@code java.net.http} clients, once made. */
    void close() {
        upstream.thenAccept(made -> made.clients().close());
    }

    private Upstream makeUpstream() {
        // tls.provider: Undertow's upstream clients (HTTP/1.1 and HTTP/2) and interception; the
        // java.net.http fallback stays on the JDK's TLS.
        TlsEngines engines = TlsEngines.select(config.tls().provider());
        UpstreamClients made = UpstreamClients.create(
                config.tls(),
                engines,
                workers,
                config.defaults().timeouts().connect(),
                upstreams.all().stream().map(u -> u.policy()).toList());
        // TLS (to upstreams and inside intercepted tunnels) reads a whole record into one buffer, and a
        // full-size record is larger than 16 KiB: its layer has buffers of its own (see Http1Transport).
        return new Upstream(engines, made, new ThreadBufferPool(true, tlsBufferSize(), 16, 256));
    }

    /**
     * The operator's CA ({@code tls.ca_cert} + {@code tls.ca_key}), else the one generated under
     * {@code tls.ca_dir} on first start. Its key stays in its file: nothing here logs or serves it.
     */
    private static CertificateAuthority certificateAuthority(TlsConfig tls, TimeSource time) {
        if (tls.caCert().isPresent()) {
            try {
                return CertificateAuthority.load(tls.caCert().get(), tls.caKey().orElseThrow());
            } catch (RuntimeException e) {
                throw new ConfigException("tls.ca_cert", e.getMessage());
            }
        }
        try {
            return CertificateAuthority.loadOrGenerate(tls.caDir(), time.clock());
        } catch (RuntimeException e) {
            throw new ConfigException("tls.ca_dir", e.getMessage());
        }
    }

    /**
     * Large enough for the largest TLS record the JDK's engine reads or writes (16,709 bytes on JDK
     * 21–25, as for BoringSSL), rounded up to a KiB; never below 17 KiB.
     */
    static int tlsBufferSize() {
        int size = 17 * 1024;
        try {
            javax.net.ssl.SSLSession session =
                    javax.net.ssl.SSLContext.getDefault().createSSLEngine().getSession();
            size = Math.max(size, Math.max(session.getPacketBufferSize(), session.getApplicationBufferSize()));
        } catch (java.security.NoSuchAlgorithmException e) {
            // no default context: the floor stands
        }
        return (size + 1023) / 1024 * 1024;
    }

    private static void logFailure(String what, Throwable error) {
        if (error == null) return;
        Throwable cause = error instanceof java.util.concurrent.CompletionException && error.getCause() != null
                ? error.getCause()
                : error;
        LOG.log(System.Logger.Level.ERROR, what + ": " + cause.getMessage());
    }

    /**
     * The TLS buffer pool, made with the rest of the side: its buffer size comes from the JDK's TLS
     * engine. Every user of TLS buffers runs after the side is made (that is what they wait for).
     */
    private final class LateBuffers implements ByteBufferPool {
        private ByteBufferPool pool() {
            return upstream.join().buffers();
        }

        @Override
        public PooledByteBuffer allocate() {
            return pool().allocate();
        }

        @Override
        public ByteBufferPool getArrayBackedPool() {
            return pool().getArrayBackedPool();
        }

        @Override
        public void close() {
            upstream.thenAccept(made -> made.buffers().close());
        }

        @Override
        public int getBufferSize() {
            return pool().getBufferSize();
        }

        @Override
        public boolean isDirect() {
            return true;
        }
    }
}
