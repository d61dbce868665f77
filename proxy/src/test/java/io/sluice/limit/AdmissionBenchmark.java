package io.sluice.limit;

import io.sluice.config.Interpolated;
import io.sluice.config.Policy;
import io.sluice.config.RedisConfig;
import io.sluice.fetch.Call;
import io.sluice.fetch.FetchRequest;
import io.sluice.fetch.FetchResponse;
import io.sluice.fetch.Pipeline;
import io.sluice.fetch.ResolveUpstreamStage;
import io.sluice.fetch.ResponseBody;
import io.sluice.time.TimeSource;
import io.sluice.upstream.Upstreams;
import java.net.URI;
import java.time.Duration;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * Cost of one admission decision ({@link Gate#admit}), not a test: run it by hand (see
 * docs/performance.md, "Admission decisions"). Local: one thread, decisions back to back, each timed. Redis: a real
 * {@code redis-server}, 16 decisions in flight on one hot key, each timed from issue to answer.
 * Times include one {@code System.nanoTime()} pair (~30 ns here). Arguments: local and Redis
 * decision counts (default 2,000,000 and 50,000); a third argument {@code keys} runs only the
 * per-key comparison: 100,000 live keys each with its own bucket against one per-upstream bucket,
 * in thread CPU time per decision.
 */
public final class AdmissionBenchmark {
    // Rates far above what one thread can ask for, so that every decision admits.
    private static final String UNLIMITED = "limits: [{rate: 100000000/s, burst: 10000000}]\nmax_wait: 0s";
    private static final String TWO_LIMITS =
            "limits: [{rate: 100000000/s, burst: 10000000}, {rate: 6000000000/min, burst: 10000000}]\nmax_wait: 0s";

    public static void main(String[] args) throws Exception {
        int localOps = args.length > 0 ? Integer.parseInt(args[0]) : 2_000_000;
        int redisOps = args.length > 1 ? Integer.parseInt(args[1]) : 50_000;
        TimeSource time = TimeSource.system();
        boolean keysOnly = args.length > 2 && args[2].equals("keys");

        long load = Math.round(java.lang.management.ManagementFactory.getOperatingSystemMXBean()
                .getSystemLoadAverage());
        System.out.printf(
                Locale.ROOT,
                "%d cores, load average %d, %s%n",
                Runtime.getRuntime().availableProcessors(),
                load,
                System.getProperty("java.vm.version"));
        if (keysOnly) {
            keyed(time, localOps);
            return;
        }
        Gate one = new Gate(
                "example",
                LimitStore.local(time),
                LimitStore.local(time),
                time,
                new java.util.concurrent.atomic.LongAdder(),
                KeyLabels.random());
        report("local, 1 limit, admitted", local(one, calls(UNLIMITED, time), localOps));
        Gate two = new Gate(
                "example",
                LimitStore.local(time),
                LimitStore.local(time),
                time,
                new java.util.concurrent.atomic.LongAdder(),
                KeyLabels.random());
        report("local, 2 limits, admitted", local(two, calls(TWO_LIMITS, time), localOps));
        Gate refusing = new Gate(
                "example",
                LimitStore.local(time),
                LimitStore.local(time),
                time,
                new java.util.concurrent.atomic.LongAdder(),
                KeyLabels.random());
        report(
                "local, refused (empty bucket)",
                local(refusing, calls("limits: [{rate: 1/h, burst: 1}]\nmax_wait: 0s", time), localOps));

        try (RedisServer redis = RedisServer.start();
                SharedLimits shared = SharedLimits.connect(
                        new RedisConfig(
                                Interpolated.literal(redis.uri()),
                                0.5,
                                Duration.ofSeconds(1),
                                "bench:",
                                java.util.Optional.empty()),
                        time)) {
            long giveUpAt = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
            while (!shared.usingRedis() && System.nanoTime() < giveUpAt) Thread.onSpinWait();
            Gate hot = new Gate(
                    "example",
                    shared.store(),
                    LimitStore.local(time),
                    time,
                    new java.util.concurrent.atomic.LongAdder(),
                    KeyLabels.random());
            List<Bound> calls = calls(UNLIMITED, time);
            redis(hot, calls, redisOps / 5, 16); // warm-up
            report("redis, 16 in flight, one key", redis(hot, calls, redisOps, 16));
            report("redis, 1 in flight", redis(hot, calls, redisOps / 5, 1));
            // The floor this machine sets: bare PINGs, 16 in flight, on a connection of their own.
            try (var client = io.lettuce.core.RedisClient.create(redis.uri());
                    var connection = client.connect()) {
                report(
                        "baseline: PING, 16 in flight",
                        inFlight(redisOps, 16, () -> connection.async().ping().toCompletableFuture()));
            }
            System.out.println("failovers during the run: " + shared.failovers());
        }
    }

    /** Live keys in the per-key comparison. */
    private static final int KEYS = 100_000;

    /**
     * Thread CPU per decision: one per-upstream bucket, against {@code per: key} buckets for
     * 100,000 live keys visited in turn (every decision hashes its key's value into a label and
     * finds that key's bucket among 100,000), alone and beside a whole-upstream limit.
     */
    private static void keyed(TimeSource time, int ops) {
        // Per key: a burst no run can spend, refilling slowly enough (6 minutes to full) that no
        // key's bucket expires idle during the run: all 100,000 stay live.
        String perKey = "key: header:X-Tenant\nmax_keys: 200000\nmax_wait: 0s\n"
                + "limits: [{rate: 100000000/h, burst: 10000000, per: key}]";
        String both = "key: header:X-Tenant\nmax_keys: 200000\nmax_wait: 0s\n"
                + "limits: [{rate: 100000000/h, burst: 10000000, per: key}, {rate: 100000000/s, burst: 10000000}]";
        List<Bound> upstreamCalls = calls(UNLIMITED, time, 1024);
        List<Bound> keyCalls = calls(perKey, time, KEYS);
        List<Bound> bothCalls = calls(both, time, KEYS);
        for (int round = 0; round < 2; round++) {
            Gate one = gate(time);
            Gate keys = gate(time);
            Gate keysAndUpstream = gate(time);
            double base = cpuPerDecision(one, upstreamCalls, ops);
            double k = cpuPerDecision(keys, keyCalls, ops);
            double kb = cpuPerDecision(keysAndUpstream, bothCalls, ops);
            System.out.printf(
                    Locale.ROOT,
                    "round %d: one per-upstream bucket %.0f ns CPU/decision; %d live keys (per: key) %.0f ns (%.2fx);"
                            + " %d live keys + upstream limit %.0f ns (%.2fx)%n",
                    round + 1,
                    base,
                    keys.liveKeys(),
                    k,
                    k / base,
                    keysAndUpstream.liveKeys(),
                    kb,
                    kb / base);
        }
        // What the label costs alone: HMAC-SHA-256 of a short header value.
        KeyLabels labels = KeyLabels.random();
        String[] values = new String[KEYS];
        for (int i = 0; i < KEYS; i++) values[i] = "tenant-" + i;
        var bean = java.lang.management.ManagementFactory.getThreadMXBean();
        int sink = 0;
        for (int i = 0; i < ops; i++) sink += labels.label(values[i % KEYS]).length();
        long cpu = bean.getCurrentThreadCpuTime();
        for (int i = 0; i < ops; i++) sink += labels.label(values[i % KEYS]).length();
        System.out.printf(
                Locale.ROOT,
                "label alone (HMAC-SHA-256, 12 hex): %.0f ns CPU (%d)%n",
                (bean.getCurrentThreadCpuTime() - cpu) / (double) ops,
                sink & 1);
    }

    private static Gate gate(TimeSource time) {
        return new Gate(
                "example",
                LimitStore.local(time),
                LimitStore.local(time),
                time,
                new java.util.concurrent.atomic.LongAdder(),
                KeyLabels.random());
    }

    /** A call and the policy ResolveUpstreamStage handed down with it, as AdmissionStage has them. */
    private record Bound(Call call, Policy policy) {}

    /** One admission decision, under the policy the call's upstream had when it was resolved. */
    private static CompletableFuture<Void> admit(Gate gate, Bound bound) {
        return gate.admit(bound.call(), bound.policy());
    }

    /** Warms {@code gate} with one pass over every call (creating each key's bucket), then times {@code ops}. */
    private static double cpuPerDecision(Gate gate, List<Bound> calls, int ops) {
        int n = calls.size();
        for (int i = 0; i < Math.max(ops, n); i++) admit(gate, calls.get(i % n));
        var bean = java.lang.management.ManagementFactory.getThreadMXBean();
        long cpu = bean.getCurrentThreadCpuTime();
        for (int i = 0; i < ops; i++) admit(gate, calls.get(i % n));
        return (bean.getCurrentThreadCpuTime() - cpu) / (double) ops;
    }

    /** Calls bound to the upstream {@code example}, as ResolveUpstreamStage hands them down. */
    private static List<Bound> calls(String policy, TimeSource time) {
        return calls(policy, time, 1024);
    }

    /** {@code count} calls, call {@code i} with {@code X-Tenant: tenant-i}. */
    private static List<Bound> calls(String policy, TimeSource time, int count) {
        Upstreams upstreams = Harness.upstreams(policy);
        Bound[] captured = new Bound[1];
        Pipeline pipeline = new Pipeline(
                List.of(new ResolveUpstreamStage(upstreams), chain -> {
                    captured[0] = new Bound(chain.call(), chain.upstream().policy());
                    return CompletableFuture.completedFuture(new FetchResponse(
                            200,
                            chain.request().headers(),
                            ResponseBody.empty(),
                            chain.call().trace()));
                }),
                time);
        Bound[] calls = new Bound[count];
        for (int i = 0; i < calls.length; i++) {
            FetchRequest request = FetchRequest.get(URI.create("http://api.test/x"));
            request = request.withHeaders(request.headers().with("X-Tenant", "tenant-" + i));
            pipeline.newCall(request).execute().join();
            calls[i] = captured[0];
        }
        return List.of(calls);
    }

    private static long[] local(Gate gate, List<Bound> calls, int ops) {
        for (int i = 0; i < ops; i++) admit(gate, calls.get(i & 1023)); // warm-up
        long batchStart = System.nanoTime();
        for (int i = 0; i < ops; i++) admit(gate, calls.get(i & 1023));
        System.out.printf(
                Locale.ROOT,
                "  (wall-clock mean without per-decision timing, includes time descheduled: %.0f ns)%n",
                (System.nanoTime() - batchStart) / (double) ops);
        long[] nanos = new long[ops];
        for (int i = 0; i < ops; i++) {
            long start = System.nanoTime();
            admit(gate, calls.get(i & 1023));
            nanos[i] = System.nanoTime() - start;
        }
        return nanos;
    }

    private static long[] redis(Gate gate, List<Bound> calls, int ops, int inFlight) throws InterruptedException {
        AtomicInteger next = new AtomicInteger();
        return inFlight(ops, inFlight, () -> admit(gate, calls.get(next.getAndIncrement() & 1023)));
    }

    /** Times {@code ops} runs of {@code op}, keeping {@code inFlight} of them outstanding. */
    private static long[] inFlight(int ops, int inFlight, java.util.function.Supplier<CompletableFuture<?>> op)
            throws InterruptedException {
        long[] nanos = new long[ops];
        // Issue the next decision off the completing thread: a decision that completes at once
        // (local fallback) would otherwise recurse through whenComplete.
        var issuer = java.util.concurrent.Executors.newSingleThreadExecutor();
        AtomicInteger issued = new AtomicInteger();
        CountDownLatch done = new CountDownLatch(ops);
        Runnable[] next = new Runnable[1];
        next[0] = () -> {
            int i = issued.getAndIncrement();
            if (i >= ops) return;
            long start = System.nanoTime();
            op.get().whenComplete((v, error) -> {
                nanos[i] = System.nanoTime() - start;
                done.countDown();
                issuer.execute(next[0]);
            });
        };
        for (int i = 0; i < inFlight; i++) next[0].run();
        boolean finished = done.await(5, TimeUnit.MINUTES);
        issuer.shutdown();
        if (!finished) throw new IllegalStateException("benchmark stalled");
        return nanos;
    }

    private static void report(String name, long[] nanos) {
        long[] sorted = nanos.clone();
        Arrays.sort(sorted);
        System.out.printf(
                Locale.ROOT,
                "%-32s n=%d  p50=%s  p99=%s  p99.9=%s  max=%s%n",
                name,
                sorted.length,
                format(sorted[(int) (sorted.length * 0.50)]),
                format(sorted[(int) (sorted.length * 0.99)]),
                format(sorted[(int) (sorted.length * 0.999)]),
                format(sorted[sorted.length - 1]));
    }

    private static String format(long nanos) {
        return nanos < 10_000 ? nanos + " ns" : String.format(Locale.ROOT, "%.3f ms", nanos / 1e6);
    }
}
