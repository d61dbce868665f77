package io.sluice;

import io.micrometer.prometheusmetrics.PrometheusConfig;
import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;
import io.sluice.admin.AdminApi;
import io.sluice.admin.CachePurger;
import io.sluice.admin.PolicyStore;
import io.sluice.admin.RecentRequests;
import io.sluice.admin.UpstreamStats;
import io.sluice.batch.BatchHandler;
import io.sluice.cache.CacheStage;
import io.sluice.config.ConfigException;
import io.sluice.config.ConfigLoader;
import io.sluice.config.SluiceConfig;
import io.sluice.config.TlsConfig;
import io.sluice.connect.ConnectHandler;
import io.sluice.connect.OpenTunnelStage;
import io.sluice.fetch.DeadlineStage;
import io.sluice.fetch.FetchListener;
import io.sluice.fetch.Pipeline;
import io.sluice.fetch.ResolveUpstreamStage;
import io.sluice.fetch.Stage;
import io.sluice.guard.AddressGuard;
import io.sluice.limit.AdmissionStage;
import io.sluice.limit.ConcurrencyStage;
import io.sluice.limit.SharedLimits;
import io.sluice.log.AccessLog;
import io.sluice.metrics.PrometheusEndpoint;
import io.sluice.metrics.SluiceMetrics;
import io.sluice.passthrough.PassthroughHandler;
import io.sluice.redirect.RedirectStage;
import io.sluice.retry.RetryStage;
import io.sluice.send.Http1Transport;
import io.sluice.send.RefuseEarlyStage;
import io.sluice.send.ResponseHeaderLimits;
import io.sluice.send.SendStage;
import io.sluice.send.UpstreamClients;
import io.sluice.server.AdminHandlers;
import io.sluice.server.DataListener;
import io.sluice.server.DataRouter;
import io.sluice.server.RawRequestHeads;
import io.sluice.server.StrictFramingHandler;
import io.sluice.server.ThreadBufferPool;
import io.sluice.time.TimeSource;
import io.sluice.tls.CertificateAuthority;
import io.sluice.tls.InterceptTls;
import io.sluice.tls.TlsEngines;
import io.sluice.trace.Tracing;
import io.sluice.upstream.UpstreamStateSource;
import io.sluice.upstream.Upstreams;
import io.undertow.Undertow;
import io.undertow.UndertowOptions;
import io.undertow.server.handlers.GracefulShutdownHandler;
import java.net.InetSocketAddress;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.ThreadPoolExecutor;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import org.xnio.OptionMap;
import org.xnio.Options;
import org.xnio.Xnio;
import org.xnio.XnioWorker;

/** A running Sluice: data port, admin port, and everything between. */
public final class Sluice implements AutoCloseable {
    private static final System.Logger LOG = System.getLogger(Sluice.class.getName());
    /** Idle upstream keep-alive connections are dropped after this (java.net.http's default since JDK 20). */
    private static final Duration UPSTREAM_IDLE_TIMEOUT = Duration.ofSeconds(30);
    /** Idle connections kept per IO thread and upstream address; more are closed when released. */
    private static final int MAX_IDLE_PER_ADDRESS = 256;
    /** Leaf certificates kept, one per TLS name and key type: a host costs one signature, not one per tunnel. */
    private static final int MAX_CACHED_LEAVES = 10_000;

    /** How long answers to calls cancelled at the end of the shutdown grace get to be written. */
    private static final Duration SHUTDOWN_ANSWER_WAIT = Duration.ofSeconds(2);

    private final SluiceConfig config;
    private final Upstreams upstreams;
    private final ExecutorService workers;
    private final ExecutorService lookups;
    private final UpstreamClients clients;
    private final XnioWorker io;
    private final ThreadBufferPool buffers;
    private final ThreadBufferPool tlsBuffers;
    private final Http1Transport http1;
    private final CacheStage cache;
    private final Optional<SharedLimits> shared;
    /** The access log, or null when {@code log.access} is off. */
    private final AccessLog accessLog;

    private final AdmissionStage admission;
    private final RetryStage retry;
    private final Pipeline pipeline;
    private final PrometheusMeterRegistry registry = new PrometheusMeterRegistry(PrometheusConfig.DEFAULT);
    private final SluiceMetrics metrics;
    private final Tracing tracing;
    private final GracefulShutdownHandler drain;
    private final AtomicBoolean ready = new AtomicBoolean();
    private volatile boolean redisReached;
    private final DataListener data;
    /** The data port's outermost handler: every request, tunnelled ones too, enters here. */
    private final RawRequestHeads root;

    private final ConcurrencyStage concurrency;
    private final CertificateAuthority ca;
    private final ConnectHandler connect;
    private final InterceptTls interceptTls;
    private final Undertow admin;

    private Sluice(SluiceConfig config, TimeSource time, Map<String, String> env) {
        this.config = config;
        this.upstreams = new Upstreams(config.defaults(), config.upstreams().values());
        // Changes made through the admin API, layered over the config (see docs/operating.md, "State file").
        PolicyStore policies = PolicyStore.open(
                new ConfigLoader(env), upstreams, config.admin().stateFile(), time.clock());
        // Every async stage and the HTTP client's callbacks run here, never on the common pool
        // (which on a 2-core machine degrades to a new thread per task).
        this.workers = pool("sluice-worker", config.server().workerThreads());
        // DNS lookups block; they get their own threads so a slow resolver cannot stall responses.
        this.lookups = pool("sluice-dns", Math.max(4, config.server().workerThreads()));
        // One HttpClient per TLS profile (trust, client certificate, min version), built now.
        // tls.provider: upstream HTTP/1.1 and interception; java.net.http stays on the JDK's TLS.
        TlsEngines engines = TlsEngines.select(config.tls().provider());
        this.clients = UpstreamClients.create(
                config.tls(),
                engines,
                workers,
                config.defaults().timeouts().connect(),
                upstreams.all().stream().map(u -> u.policy()).toList());
        // One XNIO worker for the data port and the cleartext upstream connections: a passthrough
        // request is then received, sent upstream and answered on the same IO thread.
        this.io = worker(config.server().ioThreads());
        // Both ends of a passthrough request take their buffers on the IO thread, from one pool
        // without a lock (see ThreadBufferPool for why not Undertow's own): 16 KiB, as Undertow
        // would choose with this much memory, 32 kept per thread and 512 (8 MiB) more shared.
        this.buffers = new ThreadBufferPool(true, 16 * 1024, 32, 512);
        // TLS (to upstreams and inside intercepted tunnels) reads a whole record into one buffer, and a
        // full-size record is larger than 16 KiB: its layer has buffers of its own (see Http1Transport).
        this.tlsBuffers = new ThreadBufferPool(true, tlsBufferSize(), 16, 256);
        // http:// origins, and https:// ones whose policy does not ask for HTTP/2, over Undertow's
        // HTTP/1.1 client on the IO threads; TLS with each profile's context from `clients`.
        this.http1 = new Http1Transport(
                io,
                buffers,
                tlsBuffers,
                time,
                UPSTREAM_IDLE_TIMEOUT,
                MAX_IDLE_PER_ADDRESS,
                clients::http1Context,
                workers);
        AddressGuard guard = new AddressGuard(lookups, time);
        this.cache = new CacheStage(config.cache(), time, workers);
        // With redis: configured, buckets and cooldowns are shared; connect() returns at once and
        // decides locally until Redis answers (and whenever it stops answering).
        this.shared = config.redis().map(redis -> SharedLimits.connect(redis, time));
        if (shared.isPresent() && config.redis().orElseThrow().keySecret().isEmpty() && keyedLimitsIn(config)) {
            // Without redis.key_secret, key labels are keyed by a per-process secret, so two sidecars
            // would label one key differently: per-key buckets stay in each sidecar
            // (docs/multi-tenant-budgets.md).
            LOG.log(
                    System.Logger.Level.WARNING,
                    "per: key limits are kept per sidecar, not in Redis: with N replicas a key may spend up to N times"
                            + " its per-key rate (the whole-upstream limits are shared as usual); set redis.key_secret"
                            + " to share them");
        }
        this.admission = shared.map(s -> AdmissionStage.shared(s, time, workers))
                .orElseGet(() -> AdmissionStage.local(time, workers));
        this.retry = new RetryStage(time, workers);
        this.concurrency = new ConcurrencyStage(time, workers);
        StandardPipeline standard = assemblePipeline(time, guard);
        List<Stage> stages = standard.stages();
        // Stages that hold per-upstream state describe it to the admin API and the metrics gauges.
        List<UpstreamStateSource> state = instancesOf(UpstreamStateSource.class, stages);
        this.metrics = new SluiceMetrics(registry, upstreams, state);
        var stats = new UpstreamStats(time);
        var recent = new RecentRequests(time, 500);
        this.tracing = Tracing.start(config.tracing(), time);
        List<FetchListener> listeners = tracing.enabled()
                ? List.of(tracing.listener(), metrics, stats, recent)
                : List.of(metrics, stats, recent);
        this.pipeline = new Pipeline(stages, time, FetchListener.of(listeners));
        var api = new AdminApi(
                config, upstreams, policies, state, stats, recent, Optional.of(Sluice.this::purge), time.clock());

        long maxRequestBody = config.server().maxRequestBody().bytes();
        var passthrough = new PassthroughHandler(pipeline, upstreams, maxRequestBody);
        var batch = new BatchHandler(pipeline, config.server(), time, workers);
        // The data listener's limits and timeouts; intercepted tunnels parse their requests with the same.
        OptionMap serverOptions = OptionMap.builder()
                .set(
                        UndertowOptions.MAX_ENTITY_SIZE,
                        Math.max(maxRequestBody, config.server().maxBatchBytes().bytes()))
                .set(
                        UndertowOptions.MAX_HEADER_SIZE,
                        config.server().maxHeaderSize().toIntExact())
                .set(UndertowOptions.NO_REQUEST_TIMEOUT, (int)
                        config.server().idleTimeout().toMillis())
                .set(UndertowOptions.REQUEST_PARSE_TIMEOUT, (int)
                        config.server().idleTimeout().toMillis())
                .set(UndertowOptions.ENABLE_HTTP2, true)
                // On (the builder's default), a TLS ClientHello sent right behind a CONNECT, before the
                // 200 is flushed, leaves the 200 buffered and the tunnel stalls (design, "Things that bite").
                .set(UndertowOptions.BUFFER_PIPELINED_DATA, false)
                // The access log's %D (ms to answer) needs each request's start time.
                .set(UndertowOptions.RECORD_REQUEST_START_TIME, config.log().access())
                .getMap();
        this.accessLog = config.log().access() ? new AccessLog() : null;
        this.ca = certificateAuthority(config.tls(), time);
        this.interceptTls = InterceptTls.create(ca, time, MAX_CACHED_LEAVES, engines);
        OpenTunnelStage openTunnel = new OpenTunnelStage(guard, io);
        var tunnels = new Pipeline(standard.tunnelStages(openTunnel), time, FetchListener.of(listeners));
        this.connect = new ConnectHandler(
                upstreams,
                guard,
                interceptTls,
                tunnels,
                openTunnel,
                buffers,
                tlsBuffers,
                serverOptions,
                workers,
                accessLogged(this::handleIntercepted));
        // RFC 9110 §10.1.1: Sluice answers a client's `Expect: 100-continue` itself, with 100 once it
        // starts reading the body (not before admission, so a refused request sends no body), and does
        // not forward the expectation: the upstream gets the whole body at once.
        metrics.tunnelsOpen(connect::openTunnels);
        metrics.interceptHandshakes(engine -> interceptTls.handshakesByEngine().get(engine));
        metrics.upstreamConnectionsOpen(http1::openConnections);
        metrics.buffersInUse(() -> buffers.inUse() + tlsBuffers.inUse());
        shared.ifPresent(s -> metrics.sharedLimits(s::usingRedis, s::failovers));
        this.drain = new GracefulShutdownHandler(accessLogged(new StrictFramingHandler(
                new io.undertow.server.handlers.HttpContinueReadHandler(new DataRouter(batch, passthrough, connect)))));
        // Request heads are kept as they arrived, so field values go upstream byte for byte.
        this.root = new RawRequestHeads(drain, config.server().maxHeaderSize().toIntExact());
        this.data = new DataListener(
                io,
                config.listen().host(),
                config.listen().port(),
                buffers,
                serverOptions,
                OptionMap.create(Options.BACKLOG, 4096),
                root);
        this.admin = Undertow.builder()
                .addHttpListener(
                        config.admin().listen().port(), config.admin().listen().host())
                .setIoThreads(1)
                .setWorkerThreads(2)
                .setHandler(new AdminHandlers(
                                this::isReady,
                                api.handler(),
                                new PrometheusEndpoint(registry, metrics),
                                ca.certificatePem(),
                                this::tlsStatus)
                        .handler())
                .build();
    }

    /** The pipeline's stages, every one given; {@link StandardPipeline} puts them in order. */
    private StandardPipeline assemblePipeline(TimeSource time, AddressGuard guard) {
        return new StandardPipeline()
                .redirect(new RedirectStage())
                .resolve(new ResolveUpstreamStage(upstreams))
                .refuseEarly(new RefuseEarlyStage(guard))
                .deadline(new DeadlineStage(time))
                .cache(cache)
                .retry(retry)
                .admission(admission)
                .concurrency(concurrency)
                .send(new SendStage(clients, http1, guard, workers, time, ResponseHeaderLimits.of(config.server())));
    }

    /** {@code GET /api/tls}: what an operator needs to hand Sluice's CA to clients, and how many tunnels are open. */
    private Object tlsStatus() {
        var certificate = ca.certificate();
        return Map.of(
                "ca",
                Map.of(
                        "subject", certificate.getSubjectX500Principal().getName(),
                        "sha256", ca.fingerprintSha256(),
                        "not_after", certificate.getNotAfter().toInstant().toString(),
                        "pem", "/api/tls/ca.pem"),
                "tunnels_open",
                connect.openTunnels(),
                "handshakes",
                interceptTls.handshakesByEngine());
    }

    /** Requests read inside intercepted tunnels enter where every data-port request does. */
    private void handleIntercepted(io.undertow.server.HttpServerExchange exchange) throws Exception {
        root.handleRequest(exchange);
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
     * Ready once the listeners are up and, in shared mode, Redis has answered once: a replica
     * that starts without Redis would spend a local share of the budget while the others share
     * one. A later Redis outage does not unready it; it falls back to its local share (see docs/limits.md, "Shared mode").
     */
    /** {@code next}, with an access-log line per request when {@code log.access} is on. */
    private io.undertow.server.HttpHandler accessLogged(io.undertow.server.HttpHandler next) {
        return accessLog == null ? next : accessLog.wrap(next);
    }

    private boolean isReady() {
        if (!ready.get()) return false;
        if (shared.isEmpty() || redisReached) return true;
        redisReached = shared.get().usingRedis();
        return redisReached;
    }

    /** {@code POST /api/cache/purge}: the narrowest of a URL prefix, an upstream, or everything. */
    private long purge(CachePurger.Selector selector) {
        if (selector.urlPrefix().isPresent())
            return cache.purgePrefix(selector.urlPrefix().get());
        return selector.upstream().map(cache::purgeUpstream).orElseGet(cache::purgeAll);
    }

    /** Starts both listeners with {@code config} on real time. */
    private static boolean keyedLimitsIn(SluiceConfig config) {
        if (config.defaults().hasKeyedLimits()) return true;
        return config.upstreams().values().stream().anyMatch(u -> u.policy().hasKeyedLimits());
    }

    public static Sluice start(SluiceConfig config) {
        return start(config, TimeSource.system());
    }

    public static Sluice start(SluiceConfig config, TimeSource time) {
        return start(config, time, System.getenv());
    }

    /**
     * Starts on {@code time}; {@code env} is the environment that {@code ${ENV}} references in
     * policies changed through the admin API are read from (the one the config was loaded with).
     */
    public static Sluice start(SluiceConfig config, TimeSource time, Map<String, String> env) {
        Sluice sluice = new Sluice(config, time, env);
        sluice.data.start();
        try {
            sluice.admin.start();
        } catch (RuntimeException e) {
            sluice.data.stop();
            throw e;
        }
        sluice.ready.set(true);
        return sluice;
    }

    public InetSocketAddress dataAddress() {
        return data.address();
    }

    public InetSocketAddress adminAddress() {
        return (InetSocketAddress) admin.getListenerInfo().get(0).getAddress();
    }

    /** Sluice's interception CA (its certificate; the key never leaves the CA's file). */
    public CertificateAuthority certificateAuthority() {
        return ca;
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
        ready.set(false);
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
        clients.close();
        // Every call has ended by now (answered or cancelled), so its spans have too: send them.
        tracing.close();
        if (accessLog != null) accessLog.close();
        metrics.close();
        registry.close();
        shared.ifPresent(SharedLimits::close);
        workers.shutdownNow();
        lookups.shutdownNow();
        io.shutdownNow();
    }

    /**
     * The data port's XNIO worker. Undertow makes the same one when given thread counts; making it
     * here lets {@link Http1Transport} open upstream connections on its IO threads. Its task pool is
     * unused (nothing blocks), so it is kept minimal.
     */
    private static XnioWorker worker(int ioThreads) {
        try {
            return Xnio.getInstance(Undertow.class.getClassLoader())
                    .createWorker(OptionMap.builder()
                            .set(Options.WORKER_IO_THREADS, ioThreads)
                            .set(Options.WORKER_TASK_CORE_THREADS, 2)
                            .set(Options.WORKER_TASK_MAX_THREADS, 2)
                            .set(Options.WORKER_NAME, "sluice-io")
                            // What Undertow sets on the worker it makes: no accept throttling, Nagle off.
                            .set(Options.CONNECTION_HIGH_WATER, 1_000_000)
                            .set(Options.CONNECTION_LOW_WATER, 1_000_000)
                            .set(Options.TCP_NODELAY, true)
                            .set(Options.CORK, true)
                            .getMap());
        } catch (java.io.IOException e) {
            throw new java.io.UncheckedIOException("cannot start the IO threads", e);
        }
    }

    private static <T> List<T> instancesOf(Class<T> type, List<?> objects) {
        return objects.stream().filter(type::isInstance).map(type::cast).toList();
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

    private static ExecutorService pool(String name, int threads) {
        AtomicInteger count = new AtomicInteger();
        var pool = new ThreadPoolExecutor(threads, threads, 60, TimeUnit.SECONDS, new LinkedBlockingQueue<>(), r -> {
            Thread thread = new Thread(r, name + "-" + count.incrementAndGet());
            thread.setDaemon(true);
            return thread;
        });
        pool.allowCoreThreadTimeOut(true);
        return pool;
    }
}
