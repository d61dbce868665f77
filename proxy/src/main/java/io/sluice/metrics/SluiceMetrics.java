package io.sluice.metrics;

import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.DistributionSummary;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.MultiGauge;
import io.micrometer.core.instrument.Tags;
import io.micrometer.core.instrument.Timer;
import io.sluice.config.Priority;
import io.sluice.config.RateLimit;
import io.sluice.fetch.Call;
import io.sluice.fetch.FetchFailure;
import io.sluice.fetch.FetchListener;
import io.sluice.fetch.FetchOutcome;
import io.sluice.fetch.FetchResponse;
import io.sluice.fetch.Trace;
import io.sluice.upstream.LiveState;
import io.sluice.upstream.Upstream;
import io.sluice.upstream.UpstreamStateSource;
import io.sluice.upstream.Upstreams;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import java.util.function.Function;

/**
 * Sluice's metrics, implemented once: the {@link FetchListener} that counts and times calls, and
 * the per-upstream gauges read from the stages' live state at scrape time. The registry is
 * injected; nothing here touches Micrometer's global registry.
 *
 * <p>Names follow Prometheus conventions once rendered ({@code sluice.requests} becomes
 * {@code sluice_requests_total}); every per-upstream series carries an {@code upstream} tag, and
 * call outcomes an {@code outcome} ({@code response} or an error type such as {@code rate_limited})
 * and a {@code status} class ({@code 2xx} … {@code 5xx}; for Sluice's own failures, the class of
 * the status a passthrough client receives).
 */
public final class SluiceMetrics implements FetchListener, AutoCloseable {
    /** What {@link #sharedLimits} reads at scrape time; held here, strongly. */
    private volatile java.util.function.LongSupplier sharedFailovers = () -> 0;
    /** What {@link #interceptHandshakes} reads at scrape time; held here, strongly. */
    private volatile java.util.function.ToLongFunction<String> interceptHandshakes = engine -> 0;

    /** Latency histogram buckets: wide enough for a cache hit and a slow paginated API alike. */
    private static final Duration[] LATENCY_BUCKETS = {
        Duration.ofMillis(1),
        Duration.ofMillis(5),
        Duration.ofMillis(10),
        Duration.ofMillis(25),
        Duration.ofMillis(50),
        Duration.ofMillis(100),
        Duration.ofMillis(250),
        Duration.ofMillis(500),
        Duration.ofSeconds(1),
        Duration.ofMillis(2500),
        Duration.ofSeconds(5),
        Duration.ofSeconds(10),
        Duration.ofSeconds(30),
        Duration.ofSeconds(60)
    };

    private final MeterRegistry registry;
    private final Upstreams upstreams;
    private final List<UpstreamStateSource> sources;
    private final List<Gauge> gauges = new ArrayList<>();
    private final JvmMetrics jvm;
    private final ConcurrentHashMap<CallKey, CallMeters> callMeters = new ConcurrentHashMap<>();

    public SluiceMetrics(MeterRegistry registry, Upstreams upstreams, List<UpstreamStateSource> sources) {
        this.registry = registry;
        this.upstreams = upstreams;
        this.sources = List.copyOf(sources);
        this.jvm = new JvmMetrics(registry);
        gauge(
                "sluice.in.flight",
                null,
                "Requests holding one of the upstream's max_concurrency slots",
                s -> s.inFlight().isPresent() ? s.inFlight().getAsInt() : null);
        gauge(
                "sluice.queued",
                null,
                "Requests waiting for admission (slot, token or cooldown end)",
                s -> s.queued().isPresent() ? s.queued().getAsInt() : null);
        gauge(
                "sluice.tokens.available",
                null,
                "Tokens available in the scarcest of the upstream's buckets",
                s -> s.tokensAvailable().isPresent() ? s.tokensAvailable().getAsDouble() : null);
        gauge(
                "sluice.cooldown.remaining",
                "seconds",
                "Time until the upstream's cooldown ends (0 when not cooling down)",
                s -> s.cooldownRemaining().map(d -> d.toNanos() / 1e9).orElse(null));
        gauge(
                "sluice.cooldown.active",
                null,
                "1 while the upstream is cooling down after Retry-After or a spent quota",
                s -> s.cooldownRemaining().map(d -> d.isZero() ? 0 : 1).orElse(null));
        gauge(
                "sluice.cache.entries",
                null,
                "Responses cached for the upstream",
                s -> s.cacheEntries().isPresent() ? s.cacheEntries().getAsLong() : null);
        gauge(
                "sluice.cache.size",
                "bytes",
                "Bytes cached for the upstream",
                s -> s.cacheBytes().isPresent() ? s.cacheBytes().getAsLong() : null);
        gauge(
                "sluice.learned.rate",
                null,
                "The slowest limit learned from the upstream's rate-limit headers, per second (learn)",
                s -> {
                    if (s.learned().isEmpty()) return null;
                    var slowest = s.learned().get().strictestPerSecond();
                    return slowest.isPresent() ? Double.valueOf(slowest.getAsDouble()) : null;
                });
        priorityGauge();
        policyGauges();
        keyGauges();
    }

    @Override
    public void callEnd(Call call, FetchOutcome outcome, long elapsedNanos) {
        Trace trace = outcome.trace();
        String upstream = upstreamTag(trace);
        String outcomeTag;
        int status;
        switch (outcome) {
            case FetchResponse r -> {
                outcomeTag = "response";
                status = r.status();
            }
            case FetchFailure f -> {
                outcomeTag = f.type().wireName();
                status = f.type().httpStatus();
                if (f.type() == io.sluice.fetch.ErrorType.RATE_LIMITED) {
                    counter(
                                    "sluice.refusals",
                                    "Requests refused for rate: no token, slot or cooldown end within max_wait",
                                    upstream)
                            .increment();
                }
            }
        }
        CallMeters meters = callMeters.computeIfAbsent(
                new CallKey(upstream, outcomeTag, status / 100, trace.cacheStatus()), this::callMeters);
        meters.requests().increment();
        meters.duration().record(elapsedNanos, TimeUnit.NANOSECONDS);
        if (trace.attempts() > 0) {
            meters.upstream().record(trace.upstreamNanos(), TimeUnit.NANOSECONDS);
            meters.attempts().record(trace.attempts());
        }
        meters.cache().increment();
    }

    /** The tags a finished call is counted under; few distinct values, so its meters are kept. */
    private record CallKey(String upstream, String outcome, int statusClass, String cache) {}

    /**
     * What one finished call records. Looked up once per distinct {@link CallKey} instead of built and
     * registered per request: five builder-and-register round trips were a visible share of CPU.
     */
    private record CallMeters(
            Counter requests, Timer duration, Timer upstream, DistributionSummary attempts, Counter cache) {}

    private CallMeters callMeters(CallKey key) {
        return new CallMeters(
                Counter.builder("sluice.requests")
                        .description("Requests by upstream, outcome and status class")
                        .tags("upstream", key.upstream(), "outcome", key.outcome(), "status", key.statusClass() + "xx")
                        .register(registry),
                Timer.builder("sluice.request.duration")
                        .description("From entering the pipeline to the response headers (or the failure)")
                        .tags("upstream", key.upstream(), "outcome", key.outcome())
                        .serviceLevelObjectives(LATENCY_BUCKETS)
                        .register(registry),
                Timer.builder("sluice.upstream.duration")
                        .description("Time spent waiting on the upstream itself, all attempts")
                        .tags("upstream", key.upstream())
                        .serviceLevelObjectives(LATENCY_BUCKETS)
                        .register(registry),
                DistributionSummary.builder("sluice.attempts")
                        .description("Attempts per call (1 = no retry)")
                        .tags("upstream", key.upstream())
                        .register(registry),
                Counter.builder("sluice.cache.requests")
                        .description("Cache verdicts: hit, miss, stale, revalidated, bypass")
                        .tags("upstream", key.upstream(), "result", key.cache())
                        .register(registry));
    }

    @Override
    public void admissionEnd(Call call, Admission cause, Priority priority, long waitedNanos, boolean admitted) {
        Timer.builder("sluice.admission.wait")
                .description(
                        "Time waited for admission, by cause (bucket, cooldown, concurrency), priority class and result")
                .tags(
                        "upstream",
                        upstreamTag(call.trace()),
                        "cause",
                        cause.tag(),
                        "priority",
                        priority.tag(),
                        "result",
                        admitted ? "admitted" : "refused")
                .serviceLevelObjectives(LATENCY_BUCKETS)
                .register(registry)
                .record(Duration.ofNanos(waitedNanos));
    }

    @Override
    public void retry(Call call, int nextAttempt, String reason, Duration delay) {
        Counter.builder("sluice.retries")
                .description("Retries scheduled, by reason (status code or error type)")
                .tags("upstream", upstreamTag(call.trace()), "reason", reason)
                .register(registry)
                .increment();
    }

    @Override
    public void cooldownStart(String upstream, Duration length, String reason) {
        Counter.builder("sluice.cooldowns")
                .description("Cooldowns started, by reason")
                .tags("upstream", upstream, "reason", reason)
                .register(registry)
                .increment();
    }

    @Override
    public void keyOverflow(Call call, String upstream) {
        counter(
                        "sluice.key.overflow",
                        "Requests whose key found max_keys taken and shared the overflow bucket",
                        upstream)
                .increment();
    }

    @Override
    public void tokenSaved(Call call) {
        counter(
                        "sluice.tokens.saved",
                        "Tokens not spent: conditional requests sent under free_304 and answered 304",
                        upstreamTag(call.trace()))
                .increment();
    }

    @Override
    public void learnedLimits(String upstream, String change) {
        Counter.builder("sluice.learned.limits")
                .description("Limits announced by the upstream: adopted (learn), or rejected as nonsense")
                .tags("upstream", upstream, "change", change)
                .register(registry)
                .increment();
    }

    @Override
    public void cacheCoalesced(Call call) {
        counter(
                        "sluice.cache.coalesced",
                        "Requests answered by another request's in-flight fetch",
                        upstreamTag(call.trace()))
                .increment();
    }

    @Override
    public void cacheStored(Call call, long bytes) {
        Counter.builder("sluice.cache.stored")
                .description("Bytes written to the cache")
                .baseUnit("bytes")
                .tags("upstream", upstreamTag(call.trace()))
                .register(registry)
                .increment(bytes);
    }

    @Override
    public void upstreamProtocolError(Call call, String type) {
        Counter.builder("sluice.upstream.protocol.errors")
                .description("Upstream responses refused as broken or oversized, by kind")
                .tags("upstream", upstreamTag(call.trace()), "type", type)
                .register(registry)
                .increment();
    }

    @Override
    public void upstreamInterim(Call call, int status) {
        Counter.builder("sluice.upstream.interim.responses")
                .description("Interim (1xx) responses from upstreams, taken out before the final response")
                .tags("upstream", upstreamTag(call.trace()), "status", Integer.toString(status))
                .register(registry)
                .increment();
    }

    @Override
    public void transportFallback(Call call, String reason) {
        Counter.builder("sluice.transport.fallbacks")
                .description(
                        "Requests sent another way than their policy says: again over java.net.http because Undertow's"
                                + " client could not read the response (close_delimited), or over HTTP/1.1 because a"
                                + " tls.http2 origin's ALPN chose it (alpn_http1)")
                .tags("upstream", upstreamTag(call.trace()), "reason", reason)
                .register(registry)
                .increment();
    }

    /**
     * Binds the JVM and process binders ({@code jvm_*}, {@code process_*}, {@code system_*}) the
     * first time, so that a start does not pay for them (see {@link JvmMetrics}); call before each
     * scrape. Later calls return at once.
     */
    public void bindJvmMetrics() {
        jvm.bind();
    }

    /** Re-reads every upstream's live state into the gauges; call before each scrape. */
    public void refreshGauges() {
        List<Upstream> all = List.copyOf(upstreams.all());
        List<LiveState> states = new ArrayList<>(all.size());
        for (Upstream u : all) states.add(LiveState.of(u.name(), sources));
        for (Gauge g : gauges) g.refresh(all, states);
    }

    @Override
    public void close() {
        jvm.close();
    }

    /** {@code sluice_tunnels_open}: CONNECT tunnels of both kinds open now, read at scrape time. */
    public void tunnelsOpen(java.util.function.IntSupplier open) {
        io.micrometer.core.instrument.Gauge.builder("sluice.tunnels.open", open::getAsInt)
                .description("CONNECT tunnels open now, intercepted and tunnel mode")
                .register(registry);
    }

    /**
     * {@code sluice_intercept_handshakes_total{engine}}: intercepted tunnels' hellos answered by each
     * TLS engine ({@code conscrypt} where the client can take the prepared EC leaf, {@code jdk} for the
     * rest), read at scrape time.
     */
    public void interceptHandshakes(java.util.function.ToLongFunction<String> byEngine) {
        // A function counter holds its state object weakly: the lambda alone would be collected and
        // the counter read 0 from then on. This object lives as long as the registry's owner.
        this.interceptHandshakes = byEngine;
        for (String engine : List.of("jdk", "conscrypt")) {
            io.micrometer.core.instrument.FunctionCounter.builder(
                            "sluice.intercept.handshakes", this, m -> m.interceptHandshakes.applyAsLong(engine))
                    .description("Intercepted tunnels' TLS hellos answered, by the engine chosen for them")
                    .tag("engine", engine)
                    .register(registry);
        }
    }

    /**
     * {@code sluice_upstream_connections_open}: connections of Undertow's upstream clients (HTTP/1.1 and
     * HTTP/2) open now, in use or idle, read at scrape time.
     */
    public void upstreamConnectionsOpen(java.util.function.IntSupplier open) {
        io.micrometer.core.instrument.Gauge.builder("sluice.upstream.connections.open", open::getAsInt)
                .description(
                        "Upstream connections open now over Undertow's clients, HTTP/1.1 and HTTP/2 (in use or idle);"
                                + " java.net.http's (the close-delimited fallback) are not counted")
                .register(registry);
    }

    /**
     * Shared mode (a {@code redis} section): {@code sluice_shared_limits_up}, 1 while decisions go
     * through Redis and 0 while this sidecar falls back to its local share, and {@code
     * sluice_shared_limits_failovers_total}, the times it fell back; read at scrape time.
     */
    public void sharedLimits(java.util.function.BooleanSupplier up, java.util.function.LongSupplier failovers) {
        io.micrometer.core.instrument.Gauge.builder("sluice.shared.limits.up", () -> up.getAsBoolean() ? 1 : 0)
                .description("1 while limits are decided through Redis, 0 while on the local share")
                .register(registry);
        // Held here: a function counter holds its state object weakly (see interceptHandshakes).
        this.sharedFailovers = failovers;
        io.micrometer.core.instrument.FunctionCounter.builder(
                        "sluice.shared.limits.failovers", this, m -> m.sharedFailovers.getAsLong())
                .description("Times this sidecar fell back from Redis to its local share of each limit")
                .register(registry);
    }

    /** {@code sluice_buffers_in_use}: I/O buffers of the data port and upstream connections taken and not freed. */
    public void buffersInUse(java.util.function.LongSupplier inUse) {
        io.micrometer.core.instrument.Gauge.builder("sluice.buffers.in.use", inUse::getAsLong)
                .description("Pooled 16 KiB I/O buffers held now by client and upstream connections")
                .register(registry);
    }

    @Override
    public void tunnelEnd(Call call, long bytesUp, long bytesDown) {
        String upstream = upstreamTag(call.trace());
        counter("sluice.tunnels.closed", "tunnel-mode CONNECT pipes closed", upstream)
                .increment();
        tunnelBytes(upstream, "up").increment(bytesUp);
        tunnelBytes(upstream, "down").increment(bytesDown);
    }

    private Counter tunnelBytes(String upstream, String direction) {
        return Counter.builder("sluice.tunnel.bytes")
                .description("Bytes carried by tunnel-mode CONNECT pipes: up from the client, down from the upstream")
                .baseUnit("bytes")
                .tags("upstream", upstream, "direction", direction)
                .register(registry);
    }

    private Counter counter(String name, String description, String upstream) {
        return Counter.builder(name)
                .description(description)
                .tags("upstream", upstream)
                .register(registry);
    }

    private static String upstreamTag(Trace trace) {
        return trace.upstream().isEmpty() ? "none" : trace.upstream();
    }

    private void gauge(String name, String unit, String description, Function<LiveState, Number> read) {
        MultiGauge gauge =
                MultiGauge.builder(name).description(description).baseUnit(unit).register(registry);
        gauges.add((all, states) -> {
            List<MultiGauge.Row<?>> rows = new ArrayList<>();
            for (int i = 0; i < all.size(); i++) {
                Number value = read.apply(states.get(i));
                if (value != null)
                    rows.add(MultiGauge.Row.of(Tags.of("upstream", all.get(i).name()), value));
            }
            gauge.register(rows, true);
        });
    }

    /** Waiting calls by class, for upstreams that set {@code priority} (three series each at most). */
    private void priorityGauge() {
        MultiGauge gauge = MultiGauge.builder("sluice.queued.priority")
                .description("Requests waiting for a token, a cooldown's end or a connection slot, by priority class")
                .register(registry);
        gauges.add((all, states) -> {
            List<MultiGauge.Row<?>> rows = new ArrayList<>();
            for (int i = 0; i < all.size(); i++) {
                String upstream = all.get(i).name();
                states.get(i)
                        .queuedByPriority()
                        .forEach((p, n) ->
                                rows.add(MultiGauge.Row.of(Tags.of("upstream", upstream, "priority", p.tag()), n)));
            }
            gauge.register(rows, true);
        });
    }

    /** The configured limits, so dashboards can draw them next to what is happening. */
    private void policyGauges() {
        MultiGauge concurrency = MultiGauge.builder("sluice.max.concurrency")
                .description("The upstream's configured max_concurrency")
                .register(registry);
        MultiGauge rate = MultiGauge.builder("sluice.rate.limit")
                .description("The upstream's configured token-bucket rates, per second (one series per bucket)")
                .register(registry);
        gauges.add((all, states) -> {
            List<MultiGauge.Row<?>> c = new ArrayList<>();
            List<MultiGauge.Row<?>> r = new ArrayList<>();
            for (Upstream u : all) {
                c.add(MultiGauge.Row.of(
                        Tags.of("upstream", u.name()), u.policy().maxConcurrency()));
                List<RateLimit> limits = u.policy().limits();
                for (int i = 0; i < limits.size(); i++) {
                    r.add(MultiGauge.Row.of(
                            Tags.of("upstream", u.name(), "limit", limits.get(i).rate()),
                            limits.get(i).perSecond()));
                }
            }
            concurrency.register(c, true);
            rate.register(r, true);
        });
    }

    /**
     * With {@code key_metrics: N}: the requests and refusals of an upstream's N busiest keys, by label,
     * and of all its other keys together as {@code key="other"}; so at most N + 1 series per upstream
     * whatever the number of keys. Read from the live buckets at scrape time: a key's count goes
     * with its bucket when that expires, so these are gauges, not counters.
     */
    private void keyGauges() {
        MultiGauge requests = MultiGauge.builder("sluice.key.requests")
                .description("Requests charged to a key's live bucket (key_metrics: the busiest N keys by label,"
                        + " the rest as key=\"other\")")
                .register(registry);
        MultiGauge refusals = MultiGauge.builder("sluice.key.refusals")
                .description("Of those, requests refused at admission (same keys as sluice_key_requests)")
                .register(registry);
        gauges.add((all, states) -> {
            List<MultiGauge.Row<?>> req = new ArrayList<>();
            List<MultiGauge.Row<?>> ref = new ArrayList<>();
            for (int i = 0; i < all.size(); i++) {
                Upstream u = all.get(i);
                int n = u.policy().keyMetrics();
                var usage = states.get(i).keys();
                if (n == 0 || usage.isEmpty()) continue;
                var keys = usage.get();
                long topRequests = 0;
                long topRefusals = 0;
                for (var key :
                        keys.busiest().subList(0, Math.min(n, keys.busiest().size()))) {
                    req.add(MultiGauge.Row.of(Tags.of("upstream", u.name(), "key", key.label()), key.requests()));
                    ref.add(MultiGauge.Row.of(Tags.of("upstream", u.name(), "key", key.label()), key.refusals()));
                    topRequests += key.requests();
                    topRefusals += key.refusals();
                }
                req.add(MultiGauge.Row.of(
                        Tags.of("upstream", u.name(), "key", "other"),
                        Math.max(0, keys.totalRequests() - topRequests)));
                ref.add(MultiGauge.Row.of(
                        Tags.of("upstream", u.name(), "key", "other"),
                        Math.max(0, keys.totalRefusals() - topRefusals)));
            }
            requests.register(req, true);
            refusals.register(ref, true);
        });
    }

    @FunctionalInterface
    private interface Gauge {
        void refresh(List<Upstream> all, List<LiveState> states);
    }
}
