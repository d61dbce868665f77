package io.sluice.cache;

import static org.assertj.core.api.Assertions.assertThat;

import io.sluice.config.SluiceConfig;
import io.sluice.fetch.FetchOutcome;
import io.sluice.fetch.FetchResponse;
import io.sluice.fetch.Pipeline;
import io.sluice.testing.TestConfig;
import io.sluice.time.FakeTimeSource;
import java.io.IOException;
import java.net.InetAddress;
import java.net.http.HttpClient;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.stream.IntStream;
import mockwebserver3.Dispatcher;
import mockwebserver3.MockResponse;
import mockwebserver3.MockWebServer;
import mockwebserver3.RecordedRequest;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * The cache in front of a real upstream ({@link MockWebServer} on port 0) reached by the real
 * {@link io.sluice.send.SendStage} stage, counting the requests that upstream actually receives. Cache time is fake;
 * the sockets are real.
 */
@Timeout(30)
class CacheIntegrationTest {
    private final FakeTimeSource time = new FakeTimeSource();
    private MockWebServer upstream;
    private ExecutorService executor;
    private HttpClient client;
    private CacheStage cache;
    private Pipeline pipeline;
    private String base;

    @BeforeEach
    void start() throws IOException {
        upstream = new MockWebServer();
        upstream.start(InetAddress.getLoopbackAddress(), 0);
        base = "http://127.0.0.1:" + upstream.getPort();
        executor = Executors.newFixedThreadPool(4);
        client = HttpClient.newBuilder().executor(executor).build();
        SluiceConfig config = TestConfig.fromYaml("""
                        upstreams:
                          origin:
                            match: ["%s"]
                            allow_private: true
                        """.formatted(base));
        cache = new CacheStage(config.cache(), time, executor);
        pipeline = CacheTestKit.overRealUpstreams(config, cache, client, executor, time);
    }

    @AfterEach
    void stop() {
        upstream.close();
        client.close();
        executor.shutdownNow();
    }

    private CompletableFuture<String> fetch(String path, String... fields) {
        return pipeline.newCall(CacheTestKit.get(base + path, fields))
                .execute()
                .thenCompose(outcome -> body((FetchResponse) outcome));
    }

    private static CompletableFuture<String> body(FetchResponse response) {
        return response.body().collect(1 << 20).thenApply(b -> new String(b, StandardCharsets.UTF_8));
    }

    private FetchResponse response(String path, String... fields) {
        FetchOutcome outcome = pipeline.newCall(CacheTestKit.get(base + path, fields))
                .execute()
                .join();
        return (FetchResponse) outcome;
    }

    @Test
    void collapsesConcurrentMissesIntoOneUpstreamRequest() throws InterruptedException {
        CountDownLatch release = new CountDownLatch(1);
        upstream.setDispatcher(new Dispatcher() {
            @Override
            public MockResponse dispatch(RecordedRequest request) throws InterruptedException {
                release.await();
                return new MockResponse.Builder()
                        .code(200)
                        .addHeader("Cache-Control", "max-age=60")
                        .body("shared")
                        .build();
            }
        });

        List<CompletableFuture<String>> calls =
                IntStream.range(0, 8).mapToObj(i -> fetch("/popular")).toList();
        // Wait (without sleeping) until seven are parked behind the one that went upstream.
        while (cache.flights.waiting() < 7) Thread.yield();
        release.countDown();

        assertThat(calls).extracting(CompletableFuture::join).containsOnly("shared");
        assertThat(upstream.getRequestCount()).isEqualTo(1);
        assertThat(cache.stats("origin").coalesced()).isEqualTo(7);
    }

    @Test
    void revalidatesWithTheStoredValidatorsAndServesTheStoredBodyOn304() throws InterruptedException {
        upstream.enqueue(new MockResponse.Builder()
                .code(200)
                .addHeader("Cache-Control", "max-age=1")
                .addHeader("ETag", "\"v1\"")
                .body("payload")
                .build());
        upstream.enqueue(new MockResponse.Builder()
                .code(304)
                .addHeader("Cache-Control", "max-age=60")
                .addHeader("ETag", "\"v1\"")
                .build());

        assertThat(fetch("/doc").join()).isEqualTo("payload");
        time.advance(Duration.ofSeconds(2));
        FetchResponse revalidated = response("/doc");
        String body = body(revalidated).join();
        FetchResponse hit = response("/doc");

        assertThat(revalidated.status()).isEqualTo(200);
        assertThat(body).isEqualTo("payload");
        assertThat(revalidated.trace().cacheStatus()).isEqualTo("revalidated");
        assertThat(hit.trace().cacheStatus()).isEqualTo("hit");
        assertThat(upstream.getRequestCount()).isEqualTo(2);
        assertThat(upstream.takeRequest().getHeaders().get("If-None-Match")).isNull();
        assertThat(upstream.takeRequest().getHeaders().get("If-None-Match")).isEqualTo("\"v1\"");
    }

    @Test
    void answersAClientsIfNoneMatchWithA304WithoutAskingTheUpstream() {
        upstream.enqueue(new MockResponse.Builder()
                .code(200)
                .addHeader("Cache-Control", "max-age=60")
                .addHeader("ETag", "\"v1\"")
                .body("body")
                .build());
        assertThat(fetch("/a").join()).isEqualTo("body");

        FetchResponse notModified = response("/a", "If-None-Match", "\"v1\"");
        FetchResponse other = response("/a", "If-None-Match", "\"v2\"");

        assertThat(notModified.status()).isEqualTo(304);
        assertThat(notModified.headers().firstValue("ETag")).contains("\"v1\"");
        assertThat(notModified.headers().firstValue("Cache-Control")).contains("max-age=60");
        assertThat(body(notModified).join()).isEmpty();
        assertThat(other.status()).isEqualTo(200);
        assertThat(body(other).join()).isEqualTo("body");
        assertThat(upstream.getRequestCount()).isEqualTo(1);
    }

    @Test
    void keepsOneVariantPerVaryField() {
        upstream.setDispatcher(new Dispatcher() {
            @Override
            public MockResponse dispatch(RecordedRequest request) {
                String language = request.getHeaders().get("Accept-Language");
                return new MockResponse.Builder()
                        .code(200)
                        .addHeader("Cache-Control", "max-age=60")
                        .addHeader("Vary", "Accept-Language")
                        .body("in " + language)
                        .build();
            }
        });

        for (String language : List.of("en", "de", "en", "de", "fr", "en")) {
            assertThat(fetch("/greeting", "Accept-Language", language).join()).isEqualTo("in " + language);
        }

        assertThat(upstream.getRequestCount()).isEqualTo(3);
    }

    @Test
    void neverServesOneCredentialsResponseToAnother() {
        upstream.setDispatcher(new Dispatcher() {
            @Override
            public MockResponse dispatch(RecordedRequest request) {
                return new MockResponse.Builder()
                        .code(200)
                        .addHeader("Cache-Control", "max-age=60")
                        .body("for " + request.getHeaders().get("Authorization"))
                        .build();
            }
        });

        for (String token : List.of("alice", "bob", "alice", "bob")) {
            assertThat(fetch("/me", "Authorization", "Bearer " + token).join()).isEqualTo("for Bearer " + token);
        }

        assertThat(upstream.getRequestCount()).isEqualTo(2);
    }

    @Test
    void streamsABodyLargerThanTheEntryLimitAndDoesNotStoreIt() {
        String big = "x".repeat(9 * 1024 * 1024); // over the built-in 8MB max_entry_size
        upstream.setDispatcher(new Dispatcher() {
            @Override
            public MockResponse dispatch(RecordedRequest request) {
                return new MockResponse.Builder()
                        .code(200)
                        .addHeader("Cache-Control", "max-age=60")
                        .body(big)
                        .build();
            }
        });

        FetchResponse first = response("/big");
        long length = first.body().collect(16 << 20).join().length;
        response("/big").body().discard();

        assertThat(length).isEqualTo(big.length());
        assertThat(upstream.getRequestCount()).isEqualTo(2);
    }
}
