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
import io.sluice.config.ConfigLoader;
import io.sluice.config.SluiceConfig;
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
import io.sluice.send.Http2Transport;
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
import io.sluice.trace.Tracing;
import io.sluice.upstream.UpstreamStateSource;
import io.sluice.upstream.Upstreams;
import io.undertow.Undertow;
import io.undertow.UndertowOptions;
import io.undertow.connector.ByteBufferPool;
import io.undertow.server.HttpHandler;
import io.undertow.server.handlers.GracefulShutdownHandler;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.Executor;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.ThreadPoolExecutor;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicReference;
import org.xnio.OptionMap;
import org.xnio.Options;
import org.xnio.Xnio;
import org.xnio.XnioWorker;

/**
 * Wires a {@link Sluice} from its config and starts it: {@code Sluice.builder(config).start()}, or
 * with {@link #time} and {@link #env} for tests and for the environment the config was read with.
 * Everything a running Sluice is made of is made here, top to bottom; the stages' order is
 * {@link StandardPipeline}'s.
 */
public final class SluiceBuilder {
    private static final System.Logger LOG = System.getLogger(Sluice.class.getName());
    /** Idle connections kept per IO thread and upstream address; more are closed when released. */
    private static final int MAX_IDLE_PER_ADDRESS = 256;

    private final SluiceConfig config;
    private TimeSource time = TimeSource.system();
    private Map<String, String> env = System.getenv();
    private Executor tlsMakers = SluiceBuilder::tlsThread;

    SluiceBuilder(SluiceConfig config) {
        this.config = Objects.requireNonNull(config, "config");
    }

    /** The time Sluice runs on; real time unless a test gives a fake one. */
    public SluiceBuilder time(TimeSource time) {
        this.time = Objects.requireNonNull(time, "time");
        return this;
    }

    /**
     * The environment that {@code ${ENV}} references in policies changed through the admin API are
     * read from (the one the config was loaded with); the process's own unless given.
     */
    public SluiceBuilder env(Map<String, String> env) {
        this.env = Objects.requireNonNull(env, "env");
        return this;
    }

    /**
     * Where the TLS side is made when first needed ({@link TlsSide}): a new thread per part unless
     * a test holds the work back to see what waits for it.
     */
    SluiceBuilder tlsMakers(Executor makers) {
        this.tlsMakers = Objects.requireNonNull(makers, "makers");
        return this;
    }

    /** Wires Sluice and starts both listeners. */
    public Sluice start() {
        Sluice sluice = wire(config, time, env, tlsMakers);
        sluice.start();
        return sluice;
    }

    private static Sluice wire(SluiceConfig config, TimeSource time, Map<String, String> env, Executor tlsMakers) {
        Upstreams upstreams =
                new Upstreams(config.defaults(), config.upstreams().values());
        // Changes made through the admin API, layered over the config (see docs/operating.md, "State file").
        PolicyStore policies = PolicyStore.open(
                new ConfigLoader(env), upstreams, config.admin().stateFile(), time.clock());
        // Every async stage and the HTTP client's callbacks run here, never on the common pool
        // (which on a 2-core machine degrades to a new thread per task).
        ExecutorService workers = pool("sluice-worker", config.server().workerThreads());
        // DNS lookups block; they get their own threads so a slow resolver cannot stall responses.
        ExecutorService lookups = pool("sluice-dns", Math.max(4, config.server().workerThreads()));
        // The TLS side (Conscrypt, the trust store, each TLS profile's context; the CA) was a third of
        // the start's CPU and nothing needs it to answer a first request: it is made when first
        // needed, and waited for by what needs it. An operator's CA, or a first start's new one, is
        // made now, beside the rest, and joined before listening, so that its errors are the start's.
        TlsSide tls = new TlsSide(config, upstreams, workers, time, tlsMakers);
        // One XNIO worker for the data port and the cleartext upstream connections: a passthrough
        // request is then received, sent upstream and answered on the same IO thread.
        XnioWorker io = worker(config.server().ioThreads());
        // Both ends of a passthrough request take their buffers on the IO thread, from one pool
        // without a lock (see ThreadBufferPool for why not Undertow's own): 16 KiB, as Undertow
        // would choose with this much memory, 32 kept per thread and 512 (8 MiB) more shared.
        ThreadBufferPool buffers = new ThreadBufferPool(true, 16 * 1024, 32, 512);
        AddressGuard guard = new AddressGuard(lookups, time);
        CacheStage cache = new CacheStage(config.cache(), time, workers);
        // With redis: configured, buckets and cooldowns are shared; connect() returns at once and
        // decides locally until Redis answers (and whenever it stops answering).
        Optional<SharedLimits> shared = config.redis().map(redis -> SharedLimits.connect(redis, time));
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
        AdmissionStage admission = shared.map(s -> AdmissionStage.shared(s, time, workers))
                .orElseGet(() -> AdmissionStage.local(time, workers));
        RetryStage retry = new RetryStage(time, workers);
        ConcurrencyStage concurrency = new ConcurrencyStage(time, workers);
        PrometheusMeterRegistry registry = new PrometheusMeterRegistry(PrometheusConfig.DEFAULT);
        try {
            tls.joinCa();
        } catch (RuntimeException | Error e) {
            io.shutdownNow();
            throw e;
        }
        UpstreamClients clients = tls.clients();
        ByteBufferPool tlsBuffers = tls.buffers();
        // http:// origins, and https:// ones whose policy does not ask for HTTP/2, over Undertow's
        // HTTP/1.1 client on the IO threads; TLS with each profile's context from `clients`.
        Http1Transport http1 = new Http1Transport(
                io,
                buffers,
                tlsBuffers,
                time,
                config.server().upstreamIdleTimeout(),
                MAX_IDLE_PER_ADDRESS,
                clients::http1Context,
                workers);
        // https:// origins whose policy asks for HTTP/2 over Undertow's HTTP/2 client on the same IO
        // threads: one connection per thread and destination, its streams capped at the origin's limit.
        // Undertow bounds an HTTP/2 header block JVM-wide by this property (read once, 20000 bytes
        // unless set), below Sluice's own response limits: raised before the first connection (an
        // explicit -D wins), never below the data port's own request header limit.
        ResponseHeaderLimits headerLimits = ResponseHeaderLimits.of(config.server());
        if (System.getProperty("io.undertow.http2-max-header-size") == null) {
            System.setProperty(
                    "io.undertow.http2-max-header-size",
                    Long.toString(Math.max(
                            Http2Transport.http2HeaderListSize(headerLimits),
                            config.server().maxHeaderSize().bytes())));
        }
        Http2Transport http2 =
                new Http2Transport(io, buffers, http1, time, config.server().upstreamIdleTimeout(), headerLimits);
        StandardPipeline standard = new StandardPipeline()
                .redirect(new RedirectStage())
                .resolve(new ResolveUpstreamStage(upstreams))
                .refuseEarly(new RefuseEarlyStage(guard))
                .deadline(new DeadlineStage(time))
                .cache(cache)
                .retry(retry)
                .admission(admission)
                .concurrency(concurrency)
                .send(new SendStage(clients, http1, http2, guard, workers, time, headerLimits));
        List<Stage> stages = standard.stages();
        // Stages that hold per-upstream state describe it to the admin API and the metrics gauges.
        List<UpstreamStateSource> state = instancesOf(UpstreamStateSource.class, stages);
        SluiceMetrics metrics = new SluiceMetrics(registry, upstreams, state);
        var stats = new UpstreamStats(time);
        var recent = new RecentRequests(time, 500);
        Tracing tracing = Tracing.start(config.tracing(), time);
        List<FetchListener> listeners = tracing.enabled()
                ? List.of(tracing.listener(), metrics, stats, recent)
                : List.of(metrics, stats, recent);
        Pipeline pipeline = new Pipeline(stages, time, FetchListener.of(listeners));
        var api = new AdminApi(
                config,
                upstreams,
                policies,
                state,
                stats,
                recent,
                Optional.of(selector -> purge(cache, selector)),
                time.clock());

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
        Optional<AccessLog> accessLog = config.log().access() ? Optional.of(new AccessLog()) : Optional.empty();
        OpenTunnelStage openTunnel = new OpenTunnelStage(guard, io);
        var tunnels = new Pipeline(standard.tunnelStages(openTunnel), time, FetchListener.of(listeners));
        // Requests read inside intercepted tunnels enter where every data-port request does: at the
        // root made below, around the router that holds this handler.
        AtomicReference<RawRequestHeads> root = new AtomicReference<>();
        ConnectHandler connect = new ConnectHandler(
                upstreams,
                guard,
                tls::intercept,
                tunnels,
                openTunnel,
                buffers,
                tlsBuffers,
                serverOptions,
                workers,
                accessLogged(accessLog, exchange -> root.get().handleRequest(exchange)));
        metrics.tunnelsOpen(connect::openTunnels);
        metrics.interceptHandshakes(tls::handshakes);
        metrics.upstreamConnectionsOpen(http1::openConnections);
        metrics.buffersInUse(() -> buffers.inUse() + tls.buffersInUse());
        shared.ifPresent(s -> metrics.sharedLimits(s::usingRedis, s::failovers));
        // RFC 9110 §10.1.1: Sluice answers a client's `Expect: 100-continue` itself, with 100 once it
        // starts reading the body (not before admission, so a refused request sends no body), and does
        // not forward the expectation: the upstream gets the whole body at once.
        var drain = new GracefulShutdownHandler(accessLogged(
                accessLog,
                new StrictFramingHandler(new io.undertow.server.handlers.HttpContinueReadHandler(
                        new DataRouter(batch, passthrough, connect)))));
        // Request heads are kept as they arrived, so field values go upstream byte for byte.
        root.set(new RawRequestHeads(drain, config.server().maxHeaderSize().toIntExact()));
        var data = new DataListener(
                io,
                config.listen().host(),
                config.listen().port(),
                buffers,
                serverOptions,
                OptionMap.create(Options.BACKLOG, 4096),
                root.get());
        var readiness = new Readiness(shared);
        Undertow admin = Undertow.builder()
                .addHttpListener(
                        config.admin().listen().port(), config.admin().listen().host())
                .setIoThreads(1)
                .setWorkerThreads(2)
                .setHandler(new AdminHandlers(
                                readiness,
                                api.handler(),
                                new PrometheusEndpoint(registry, metrics),
                                () -> tls.certificateAuthority().thenApply(CertificateAuthority::certificatePem),
                                () -> tls.status(connect::openTunnels))
                        .handler())
                .build();
        return new Sluice(
                config,
                upstreams,
                tls,
                pipeline,
                readiness,
                drain,
                data,
                connect,
                admin,
                List.of(
                        tls::close,
                        // Every call has ended by now (answered or cancelled), so its spans have too: send them.
                        tracing::close,
                        () -> accessLog.ifPresent(AccessLog::close),
                        metrics::close,
                        registry::close,
                        () -> shared.ifPresent(SharedLimits::close),
                        workers::shutdownNow,
                        lookups::shutdownNow,
                        io::shutdownNow));
    }

    private static final AtomicInteger TLS_THREADS = new AtomicInteger();

    /** Runs {@code task} on a new daemon thread of its own, named for the TLS side it makes. */
    private static void tlsThread(Runnable task) {
        Thread thread = new Thread(task, "sluice-tls-" + TLS_THREADS.incrementAndGet());
        thread.setDaemon(true);
        thread.start();
    }

    /**
     * Runs {@code work} on a new daemon thread of its own (named {@code name}), now; its result or
     * failure is the future's.
     */
    static <T> CompletableFuture<T> besides(String name, java.util.function.Supplier<T> work) {
        CompletableFuture<T> result = new CompletableFuture<>();
        Thread thread = new Thread(
                () -> {
                    try {
                        result.complete(work.get());
                    } catch (Throwable e) {
                        result.completeExceptionally(e);
                    }
                },
                name);
        thread.setDaemon(true);
        thread.start();
        return result;
    }

    /** {@code next}, with an access-log line per request when {@code log.access} is on. */
    private static HttpHandler accessLogged(Optional<AccessLog> accessLog, HttpHandler next) {
        return accessLog.map(log -> log.wrap(next)).orElse(next);
    }

    /** {@code POST /api/cache/purge}: the narrowest of a URL prefix, an upstream, or everything. */
    private static long purge(CacheStage cache, CachePurger.Selector selector) {
        if (selector.urlPrefix().isPresent())
            return cache.purgePrefix(selector.urlPrefix().get());
        return selector.upstream().map(cache::purgeUpstream).orElseGet(cache::purgeAll);
    }

    private static boolean keyedLimitsIn(SluiceConfig config) {
        if (config.defaults().hasKeyedLimits()) return true;
        return config.upstreams().values().stream().anyMatch(u -> u.policy().hasKeyedLimits());
    }

    /**
     * The data port's XNIO worker. Undertow makes the same one when given thread counts; making it
     * here lets {@link Http1Transport} open upstream connections on its IO threads. Its task pool is
     * unused (nothing blocks), so it is kept minimal.
     */
    private static XnioWorker worker(int ioThreads) {
        try {
            return xnio().createWorker(OptionMap.builder()
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

    /**
     * XNIO, without its MBeans. XNIO registers itself, each worker and each listener as MBeans, and
     * each worker's task pool (jboss-threads' {@code EnhancedQueueExecutor}) registers one too; the
     * first registration makes the JVM's platform MBean server with every platform MXBean, JFR's
     * among them: ~0.1 s of CPU and ~2.5 MB at every start, for beans nothing in Sluice reads (its
     * metrics are Prometheus's). jboss-threads has a switch ({@code jboss.threads.eqe.disable-mbean},
     * set here unless set already). XNIO 3.8 has none (one was proposed in 2014 and not merged), but
     * it carries on without its beans where that server cannot be made (XNIO-260: it asks for the
     * server once, lazily, and every registration ignores a failure). So while XNIO first loads, the
     * JDK is told to build MBean servers with a builder that does not exist ({@code
     * javax.management.builder.initial}, which {@code MBeanServerFactory} honours), and XNIO's one
     * attempt fails; the property is then cleared, so a platform server asked for later ({@code jcmd
     * PID ManagementAgent.start}, jconsole) is made as usual, without XNIO's beans. A server the JVM
     * already made ({@code -Dcom.sun.management.jmxremote}), or a builder the operator named, is
     * left alone, and XNIO registers its beans there as before.
     */
    static Xnio xnio() {
        ClassLoader loader = Undertow.class.getClassLoader();
        synchronized (SluiceBuilder.class) {
            if (System.getProperty(THREAD_POOL_MBEANS_OFF) == null) System.setProperty(THREAD_POOL_MBEANS_OFF, "true");
            if (System.getProperty(MBEAN_SERVER_BUILDER) != null) return Xnio.getInstance(loader);
            System.setProperty(MBEAN_SERVER_BUILDER, NO_MBEAN_SERVER_BUILDER);
            try {
                // Its provider registers its MBean as it is made: XNIO has asked for the server by now.
                return Xnio.getInstance(loader);
            } finally {
                System.clearProperty(MBEAN_SERVER_BUILDER);
            }
        }
    }

    private static final String THREAD_POOL_MBEANS_OFF = "jboss.threads.eqe.disable-mbean";
    private static final String MBEAN_SERVER_BUILDER = "javax.management.builder.initial";
    /** Not a class name: loading it fails, and with it the making of an MBean server. */
    private static final String NO_MBEAN_SERVER_BUILDER = "(none while XNIO starts: see io.sluice.SluiceBuilder)";

    private static <T> List<T> instancesOf(Class<T> type, List<?> objects) {
        return objects.stream().filter(type::isInstance).map(type::cast).toList();
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
