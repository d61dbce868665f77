package io.sluice.limit;

import static org.assertj.core.api.Assertions.assertThat;

import io.sluice.StandardPipeline;
import io.sluice.fetch.DeadlineStage;
import io.sluice.fetch.FetchOutcome;
import io.sluice.fetch.FetchRequest;
import io.sluice.fetch.FetchResponse;
import io.sluice.fetch.Pipeline;
import io.sluice.fetch.ResolveUpstreamStage;
import io.sluice.guard.AddressGuard;
import io.sluice.retry.RetryStage;
import io.sluice.send.SendStage;
import io.sluice.time.TimeSource;
import io.sluice.upstream.Upstreams;
import java.net.URI;
import java.net.http.HttpClient;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import mockwebserver3.Dispatcher;
import mockwebserver3.MockResponse;
import mockwebserver3.MockWebServer;
import mockwebserver3.RecordedRequest;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * The admission and retry stages in the real pipeline, on real time, in front of a real HTTP
 * upstream that answers 429 with {@code Retry-After: 1}. The only timing claim is a lower bound
 * that the cooldown guarantees: no request reaches the upstream until a second after it refused.
 */
class RetryAfterAgainstRealUpstreamTest {
    private static final long SECOND = TimeUnit.SECONDS.toNanos(1);

    private final ExecutorService workers = Executors.newFixedThreadPool(4);
    private final MockWebServer server = new MockWebServer();
    private final AtomicLong refusedAt = new AtomicLong();
    private final List<Long> arrivals = new CopyOnWriteArrayList<>();
    private final AtomicInteger seen = new AtomicInteger();

    @BeforeEach
    void startUpstream() throws Exception {
        server.setDispatcher(new Dispatcher() {
            @Override
            public MockResponse dispatch(RecordedRequest request) {
                long now = System.nanoTime();
                if (seen.getAndIncrement() == 0) {
                    refusedAt.set(now);
                    return new MockResponse.Builder()
                            .code(429)
                            .addHeader("Retry-After", "1")
                            .body("slow down")
                            .build();
                }
                arrivals.add(now);
                return new MockResponse.Builder().code(200).body("ok").build();
            }
        });
        server.start(java.net.InetAddress.getLoopbackAddress(), 0);
    }

    @AfterEach
    void stop() throws Exception {
        server.close();
        workers.shutdownNow();
    }

    private Pipeline pipeline(String policy) {
        TimeSource time = TimeSource.system();
        String origin = "http://127.0.0.1:" + server.getPort();
        Upstreams upstreams = Harness.upstreams(policy + "\nallow_private: true", origin);
        HttpClient client = HttpClient.newBuilder()
                .executor(workers)
                .proxy(HttpClient.Builder.NO_PROXY)
                .build();
        return new Pipeline(
                new StandardPipeline()
                        .resolve(new ResolveUpstreamStage(upstreams))
                        .deadline(new DeadlineStage(time))
                        .retry(new RetryStage(time, workers))
                        .admission(AdmissionStage.local(time, workers))
                        .concurrency(new ConcurrencyStage(time, workers))
                        .send(new SendStage(client, new AddressGuard(workers), workers, time))
                        .stages(),
                time);
    }

    private FetchRequest get(String path) {
        return FetchRequest.get(URI.create("http://127.0.0.1:" + server.getPort() + path));
    }

    private static FetchResponse response(CompletableFuture<FetchOutcome> outcome) throws Exception {
        FetchOutcome result = outcome.get(10, TimeUnit.SECONDS);
        assertThat(result).isInstanceOf(FetchResponse.class);
        FetchResponse response = (FetchResponse) result;
        response.body().discard();
        return response;
    }

    @Test
    void upstreamSeesNoRequestInsideTheRetryAfterWindow() throws Exception {
        Pipeline pipeline = pipeline("retry: {max_attempts: 1}\nmax_wait: 10s");
        assertThat(response(pipeline.newCall(get("/first")).execute()).status()).isEqualTo(429);

        CompletableFuture<FetchOutcome> second =
                pipeline.newCall(get("/second")).execute();
        CompletableFuture<FetchOutcome> third = pipeline.newCall(get("/third")).execute();
        assertThat(response(second).status()).isEqualTo(200);
        assertThat(response(third).status()).isEqualTo(200);

        assertThat(arrivals).hasSize(2);
        for (long arrival : arrivals) assertThat(arrival - refusedAt.get()).isGreaterThanOrEqualTo(SECOND);
    }

    @Test
    void retriesAfterTheRetryAfterWindowAndReportsAttempts() throws Exception {
        Pipeline pipeline = pipeline("retry: {max_attempts: 3, base_delay: 10ms}\nmax_wait: 10s");
        FetchResponse response = response(pipeline.newCall(get("/once")).execute());
        assertThat(response.status()).isEqualTo(200);
        assertThat(response.trace().attempts()).isEqualTo(2);
        assertThat(response.trace().cooldownNanos()).isPositive();
        assertThat(arrivals).hasSize(1);
        assertThat(arrivals.get(0) - refusedAt.get()).isGreaterThanOrEqualTo(SECOND);
    }
}
