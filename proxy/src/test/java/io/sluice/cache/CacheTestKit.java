package io.sluice.cache;

import io.sluice.StandardPipeline;
import io.sluice.config.CacheConfig;
import io.sluice.config.DataSize;
import io.sluice.config.SluiceConfig;
import io.sluice.fetch.CacheMode;
import io.sluice.fetch.FetchFailure;
import io.sluice.fetch.FetchOutcome;
import io.sluice.fetch.FetchRequest;
import io.sluice.fetch.FetchResponse;
import io.sluice.fetch.Fields;
import io.sluice.fetch.Pipeline;
import io.sluice.fetch.ResolveUpstreamStage;
import io.sluice.guard.AddressGuard;
import io.sluice.send.SendStage;
import io.sluice.testing.TestConfig;
import io.sluice.time.FakeTimeSource;
import io.sluice.time.TimeSource;
import io.sluice.upstream.Upstreams;
import java.net.URI;
import java.net.http.HttpClient;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.Executor;
import java.util.stream.IntStream;

/**
 * A pipeline of {@code ResolveUpstreamStage → CacheStage → FakeOrigin} on fake time, with one upstream
 * {@code shop} for {@code https://api.test} (cache policy as given) and one {@code other} for
 * {@code https://other.test}. Executors run tasks on the calling thread, so every test is
 * deterministic.
 */
final class CacheTestKit {
    static final String API = "https://api.test";

    final FakeTimeSource time = new FakeTimeSource();
    final FakeOrigin origin = new FakeOrigin();
    final Upstreams upstreams;
    final CacheStage cache;
    final Pipeline pipeline;

    CacheTestKit() {
        this("{enabled: true, max_ttl: 1d}", new CacheConfig(DataSize.ofMegabytes(16), DataSize.ofMegabytes(1)));
    }

    CacheTestKit(String apiCachePolicy) {
        this(apiCachePolicy, new CacheConfig(DataSize.ofMegabytes(16), DataSize.ofMegabytes(1)));
    }

    CacheTestKit(String apiCachePolicy, CacheConfig config) {
        upstreams = TestConfig.upstreams("""
                        upstreams:
                          shop:
                            match: ["https://api.test"]
                            cache: %s
                          other:
                            match: ["https://other.test"]
                        """.formatted(apiCachePolicy));
        cache = new CacheStage(config, time, Runnable::run);
        pipeline = new Pipeline(standard().stages(), time);
    }

    /**
     * {@code ResolveUpstreamStage → cache → SendStage}: the cache in front of the real upstreams of
     * {@code config}, reached over {@code client}.
     */
    static Pipeline overRealUpstreams(
            SluiceConfig config, CacheStage cache, HttpClient client, Executor executor, TimeSource time) {
        return new Pipeline(
                new StandardPipeline()
                        .resolve(new ResolveUpstreamStage(TestConfig.upstreams(config)))
                        .cache(cache)
                        .send(new SendStage(client, new AddressGuard(executor), executor, time))
                        .stages(),
                time);
    }

    /** The stages of {@link #pipeline}, to which a test may add more of the standard ones. */
    StandardPipeline standard() {
        return new StandardPipeline()
                .resolve(new ResolveUpstreamStage(upstreams))
                .cache(cache)
                .send(origin);
    }

    static FetchRequest get(String url, String... fields) {
        return request("GET", url, CacheMode.DEFAULT, fields);
    }

    static FetchRequest request(String method, String url, CacheMode mode, String... fields) {
        Map<String, List<String>> map = new TreeMap<>(String.CASE_INSENSITIVE_ORDER);
        for (int i = 0; i < fields.length; i += 2) {
            map.computeIfAbsent(fields[i], k -> new ArrayList<>()).add(fields[i + 1]);
        }
        return FetchRequest.builder(method, URI.create(url))
                .headers(Fields.of(map))
                .cache(mode)
                .build();
    }

    CompletableFuture<FetchOutcome> start(FetchRequest request) {
        return pipeline.newCall(request).execute();
    }

    /** Starts {@code count} identical GETs of {@code path}, without waiting for any. */
    List<CompletableFuture<FetchOutcome>> startMany(int count, String path) {
        return IntStream.range(0, count)
                .mapToObj(i -> start(request("GET", API + path, CacheMode.DEFAULT)))
                .toList();
    }

    /** Runs {@code request} to its response (the test fails on a failure). */
    FetchResponse fetch(FetchRequest request) {
        FetchOutcome outcome = start(request).join();
        if (outcome instanceof FetchFailure f) throw new AssertionError("expected a response, got " + f);
        return (FetchResponse) outcome;
    }

    /** Runs {@code request} and reads the body whole, as a front door would. */
    Result exchange(FetchRequest request) {
        FetchResponse response = fetch(request);
        return new Result(response, Bodies.text(response));
    }

    Result get(String path) {
        return exchange(request("GET", API + path, CacheMode.DEFAULT));
    }

    record Result(FetchResponse response, String body) {
        int status() {
            return response.status();
        }

        String header(String name) {
            return response.headers().firstValue(name).orElse(null);
        }

        String cacheStatus() {
            return header("Cache-Status");
        }

        String trace() {
            return response.trace().cacheStatus();
        }
    }
}
