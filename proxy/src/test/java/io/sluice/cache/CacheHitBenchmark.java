package io.sluice.cache;

import com.sun.net.httpserver.HttpServer;
import io.sluice.config.SluiceConfig;
import io.sluice.fetch.FetchOutcome;
import io.sluice.fetch.FetchRequest;
import io.sluice.fetch.FetchResponse;
import io.sluice.fetch.Pipeline;
import io.sluice.testing.TestConfig;
import io.sluice.time.TimeSource;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.URI;
import java.net.http.HttpClient;
import java.util.Arrays;
import java.util.Locale;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;

/**
 * Not a test: measures what a cache hit costs through the pipeline ({@code ResolveUpstreamStage →
 * CacheStage → SendStage}) against the upstream round trip it saves, on real time, one request at a
 * time, the body read whole as a front door would. The upstream is a JDK {@link HttpServer} on
 * loopback, so the round trip is the cheapest one possible; real upstreams are slower. Run it as
 * described in docs/performance.md, "What a cache hit costs".
 */
public final class CacheHitBenchmark {
    private static final int BODY_BYTES = 1024;

    public static void main(String[] args) throws Exception {
        int hits = args.length > 0 ? Integer.parseInt(args[0]) : 200_000;
        int trips = args.length > 1 ? Integer.parseInt(args[1]) : 20_000;

        byte[] body = new byte[BODY_BYTES];
        Arrays.fill(body, (byte) 'x');
        HttpServer server = HttpServer.create(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0), 128);
        ExecutorService serverThreads = Executors.newFixedThreadPool(2);
        server.setExecutor(serverThreads);
        server.createContext("/", exchange -> {
            String cacheControl =
                    exchange.getRequestURI().getPath().startsWith("/cached") ? "max-age=3600" : "no-store";
            exchange.getResponseHeaders().add("Cache-Control", cacheControl);
            exchange.getResponseHeaders().add("Content-Type", "application/json");
            exchange.sendResponseHeaders(200, body.length);
            exchange.getResponseBody().write(body);
            exchange.close();
        });
        server.start();
        String base = "http://127.0.0.1:" + server.getAddress().getPort();

        ExecutorService executor = Executors.newFixedThreadPool(2);
        HttpClient client = HttpClient.newBuilder().executor(executor).build();
        TimeSource time = TimeSource.system();
        SluiceConfig config =
                TestConfig.fromYaml("upstreams:\n  bench:\n    match: [\"" + base + "\"]\n    allow_private: true\n");
        CacheStage cache = new CacheStage(config.cache(), time, executor);
        Pipeline pipeline = CacheTestKit.overRealUpstreams(config, cache, client, executor, time);

        FetchRequest cached = FetchRequest.get(URI.create(base + "/cached/item"));
        FetchRequest uncached = FetchRequest.get(URI.create(base + "/live/item"));

        once(pipeline, cached); // stores it
        System.out.println("warming up...");
        measure(pipeline, cached, hits / 2);
        measure(pipeline, uncached, trips / 4);

        long[] hit = measure(pipeline, cached, hits);
        long[] trip = measure(pipeline, uncached, trips);
        System.out.printf(Locale.ROOT, "cache: %s%n", cache.stats("bench"));
        report("cache hit (pipeline, 1 KiB body)", hit);
        report("upstream round trip (loopback, 1 KiB body)", trip);

        client.close();
        executor.shutdownNow();
        server.stop(0);
        serverThreads.shutdownNow();
    }

    private static long[] measure(Pipeline pipeline, FetchRequest request, int n) {
        long[] nanos = new long[n];
        for (int i = 0; i < n; i++) {
            long start = System.nanoTime();
            once(pipeline, request);
            nanos[i] = System.nanoTime() - start;
        }
        Arrays.sort(nanos);
        return nanos;
    }

    private static void once(Pipeline pipeline, FetchRequest request) {
        FetchOutcome outcome = pipeline.newCall(request).execute().join();
        if (!(outcome instanceof FetchResponse response)) throw new IllegalStateException("failed: " + outcome);
        if (response.body().collect(1 << 20).join().length != BODY_BYTES) throw new IllegalStateException("short body");
    }

    private static void report(String what, long[] sorted) {
        System.out.printf(
                Locale.ROOT,
                "%-45s n=%d  p50=%6.1f µs  p90=%6.1f µs  p99=%7.1f µs  p99.9=%7.1f µs  max=%8.1f µs%n",
                what,
                sorted.length,
                at(sorted, 0.50),
                at(sorted, 0.90),
                at(sorted, 0.99),
                at(sorted, 0.999),
                sorted[sorted.length - 1] / 1e3);
    }

    private static double at(long[] sorted, double quantile) {
        return sorted[Math.min(sorted.length - 1, (int) Math.ceil(quantile * sorted.length) - 1)] / 1e3;
    }
}
