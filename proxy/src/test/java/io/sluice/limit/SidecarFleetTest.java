package io.sluice.limit;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.sluice.testing.SluiceServerExtension;
import io.sluice.testing.TestHttp;
import io.sluice.testing.Upstream;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import mockwebserver3.Dispatcher;
import mockwebserver3.MockResponse;
import mockwebserver3.MockWebServer;
import mockwebserver3.RecordedRequest;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * Four whole Sluice servers, as four replicas' sidecars, hammer one upstream whose limit lives in a
 * real Redis, from eight client threads at once for about two seconds of real time. Together they
 * never pass more than the bucket allows over that window: its capacity plus its rate times the
 * window. (Real time, because four servers cannot share a fake clock; the bound is the bucket's
 * arithmetic over the window the test measured, so a slow machine only makes it looser.)
 */
class SidecarFleetTest {
    private static final int SIDECARS = 4;
    private static final int CLIENTS = 8;
    private static final int RATE_PER_SECOND = 20;
    private static final int BURST = 20;

    @RegisterExtension
    final SluiceServerExtension sluice = new SluiceServerExtension();

    @Test
    void fourSidecarsUnderLoadTogetherStayWithinOneBucket() throws Exception {
        try (RedisServer redis = RedisServer.start();
                MockWebServer upstream = Upstream.start()) {
            upstream.setDispatcher(new Dispatcher() {
                @Override
                public MockResponse dispatch(RecordedRequest request) {
                    return Upstream.ok("text/plain", "ok");
                }
            });
            String config = """
                    redis: {uri: "%s", timeout: 2s}
                    upstreams:
                      partner:
                        base_url: "%s"
                        allow_private: true
                        limits: [{rate: %d/s, burst: %d}]
                        max_wait: 0s
                        max_concurrency: 100
                        cache: {enabled: false}
                        retry: {max_attempts: 1}
                    """.formatted(redis.uri(), Upstream.origin(upstream), RATE_PER_SECOND, BURST);
            List<SluiceServerExtension.Running> fleet = new ArrayList<>();
            for (int i = 0; i < SIDECARS; i++) fleet.add(sluice.start(config));
            // Ready, and deciding through Redis: until its first PING is answered a sidecar starts on
            // its local share (by design, so it starts while Redis is down), which would admit on its own.
            for (var s : fleet) {
                await().atMost(Duration.ofSeconds(15))
                        .until(() -> TestHttp.get(s.admin("/readyz")).statusCode() == 200
                                && TestHttp.get(s.admin("/metrics")).body().contains("sluice_shared_limits_up 1.0"));
            }

            AtomicInteger served = new AtomicInteger();
            AtomicInteger refused = new AtomicInteger();
            List<Long> refusalNanos = Collections.synchronizedList(new ArrayList<>());
            ExecutorService clients = Executors.newFixedThreadPool(CLIENTS);
            long start = System.nanoTime();
            long stopAt = start + TimeUnit.SECONDS.toNanos(2);
            List<Future<?>> running = new ArrayList<>();
            for (int c = 0; c < CLIENTS; c++) {
                var via = fleet.get(c % SIDECARS);
                int client = c;
                running.add(clients.submit(() -> {
                    int n = 0;
                    while (System.nanoTime() < stopAt) {
                        long sent = System.nanoTime();
                        int status = TestHttp.get(via.data("/partner/item/" + client + "-" + n++))
                                .statusCode();
                        if (status == 200) served.incrementAndGet();
                        else if (status == 429) {
                            refused.incrementAndGet();
                            refusalNanos.add(System.nanoTime() - sent);
                        } else throw new AssertionError("unexpected status " + status);
                    }
                    return null;
                }));
            }
            for (Future<?> f : running) f.get(30, TimeUnit.SECONDS);
            double window = (System.nanoTime() - start) / 1e9;
            clients.shutdown();

            // First: every sidecar decided through Redis all along. One that fell back to its local
            // share (a Redis call slower than the timeout, on an overloaded machine) admits on its own.
            for (var s : fleet) {
                assertThat(TestHttp.get(s.admin("/metrics")).body())
                        .as("no sidecar fell back to its local share")
                        .contains("sluice_shared_limits_up 1.0")
                        .contains("sluice_shared_limits_failovers_total 0.0");
            }
            // Every request was decided (answered or refused), and the upstream saw only the answered.
            assertThat(refused.get()).as("the bucket was contended").isPositive();
            assertThat(upstream.getRequestCount()).isEqualTo(served.get());
            assertThat(served.get()).isGreaterThanOrEqualTo(BURST);
            assertThat((double) served.get())
                    .as("served %d in %.2f s by %d sidecars", served.get(), window, SIDECARS)
                    .isLessThanOrEqualTo(BURST + RATE_PER_SECOND * window);
            List<Long> sorted = new ArrayList<>(refusalNanos);
            Collections.sort(sorted);
            // Reported, not asserted: a refusal's whole HTTP round trip bounds the shared decision.
            System.out.printf(
                    "SidecarFleetTest: %d served, %d refused in %.2f s; refusal round trip p50 %.2f ms, p99 %.2f ms%n",
                    served.get(),
                    refused.get(),
                    window,
                    sorted.get(sorted.size() / 2) / 1e6,
                    sorted.get((int) Math.min(sorted.size() - 1, Math.ceil(sorted.size() * 0.99) - 1)) / 1e6);
        }
    }
}
