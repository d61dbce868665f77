package io.sluice.metrics;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.sluice.testing.HeldUpstream;
import io.sluice.testing.SluiceServerExtension;
import io.sluice.testing.SluiceServerExtension.Running;
import io.sluice.testing.TestHttp;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import mockwebserver3.MockResponse;
import mockwebserver3.MockWebServer;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

class MetricsTest {
    @RegisterExtension
    final SluiceServerExtension sluice = new SluiceServerExtension();

    private static String scrape(Running s) {
        HttpResponse<String> metrics = TestHttp.get(s.admin("/metrics"));
        assertThat(metrics.statusCode()).isEqualTo(200);
        assertThat(metrics.headers().firstValue("Content-Type"))
                .hasValueSatisfying(t -> assertThat(t).startsWith("text/plain"));
        return metrics.body();
    }

    /** The value of the one sample of {@code series} (name and labels exactly as Prometheus prints them). */
    private static double sample(String scrape, String name, String... labels) {
        Pattern line = Pattern.compile("(?m)^" + Pattern.quote(name) + "\\{([^}]*)\\} (\\S+)$");
        Matcher m = line.matcher(scrape);
        while (m.find()) {
            boolean all = true;
            for (String label : labels) all &= m.group(1).contains(label);
            if (all) return Double.parseDouble(m.group(2));
        }
        return Double.NaN;
    }

    /**
     * A series of each JVM and process binder, as a start binding them made them: memory, GC,
     * threads, classes, the JVM's version, processor, uptime, file descriptors.
     */
    private static final List<String> JVM_SERIES = List.of(
            "jvm_memory_used_bytes{area=\"heap\",id=",
            "jvm_buffer_count_buffers{id=",
            "jvm_gc_memory_allocated_bytes_total ",
            "jvm_gc_max_data_size_bytes ",
            "jvm_gc_live_data_size_bytes ",
            "jvm_threads_live_threads ",
            "jvm_threads_states_threads{state=\"runnable\"}",
            "jvm_classes_loaded_classes ",
            "jvm_info{runtime=",
            "system_cpu_count ",
            "process_cpu_usage ",
            "process_uptime_seconds ",
            "process_start_time_seconds ",
            "process_files_open_files ");

    /** Collections timed since the GC binder was bound: the sum of every {@code jvm_gc_pause_seconds_count}. */
    private static double pausesTimed(String scrape) {
        Matcher m = Pattern.compile("(?m)^jvm_gc_pause_seconds_count\\{[^}]*\\} (\\S+)$")
                .matcher(scrape);
        double total = 0;
        while (m.find()) total += Double.parseDouble(m.group(1));
        return total;
    }

    @Test
    void jvmAndProcessMetricsAreOnTheFirstScrapeOfAStartedSluice() {
        Running s = sluice.start("");

        assertThat(scrape(s)).contains(JVM_SERIES);
    }

    @Test
    void collectionsAfterTheFirstScrapeAreTimed() {
        Running s = sluice.start("");
        double before = pausesTimed(scrape(s));

        System.gc();

        // The JVM tells the GC binder of a collection from a thread of its own, a moment after.
        await().atMost(Duration.ofSeconds(20)).until(() -> pausesTimed(scrape(s)) > before);
        assertThat(scrape(s)).containsPattern("jvm_gc_pause_seconds_count\\{[^}]*cause=\"System.gc\\(\\)\"");
    }

    @Test
    void requestMetricsArePresentAndMoveAfterTraffic() throws Exception {
        try (MockWebServer server = new MockWebServer()) {
            server.enqueue(new MockResponse.Builder().code(200).body("a").build());
            server.enqueue(new MockResponse.Builder().code(200).body("b").build());
            server.enqueue(new MockResponse.Builder().code(503).body("down").build());
            server.start();
            String base = server.url("/").toString().replaceAll("/$", "");
            Running s = sluice.start("""
                    upstreams:
                      shop:
                        base_url: %s
                        allow_private: true
                        max_concurrency: 4
                        limits: [{rate: 90/min, burst: 10}]
                        retry: {max_attempts: 1}
                    """.formatted(base));

            String before = scrape(s);
            assertThat(sample(before, "sluice_in_flight", "upstream=\"shop\"")).isZero();
            assertThat(sample(before, "sluice_max_concurrency", "upstream=\"shop\""))
                    .isEqualTo(4);
            assertThat(sample(before, "sluice_rate_limit", "upstream=\"shop\"", "limit=\"90/min\""))
                    .isEqualTo(1.5);
            assertThat(sample(before, "sluice_requests_total", "upstream=\"shop\""))
                    .isNaN();
            assertThat(before).contains("jvm_memory_used_bytes", "process_uptime_seconds", "jvm_threads_live_threads");

            for (int i = 0; i < 3; i++) TestHttp.get(s.data("/shop/item/" + i));

            String after = scrape(s);
            assertThat(sample(
                            after,
                            "sluice_requests_total",
                            "upstream=\"shop\"",
                            "outcome=\"response\"",
                            "status=\"2xx\""))
                    .isEqualTo(2);
            assertThat(sample(
                            after,
                            "sluice_requests_total",
                            "upstream=\"shop\"",
                            "outcome=\"response\"",
                            "status=\"5xx\""))
                    .isEqualTo(1);
            assertThat(sample(
                            after,
                            "sluice_request_duration_seconds_count",
                            "upstream=\"shop\"",
                            "outcome=\"response\""))
                    .isEqualTo(3);
            assertThat(sample(after, "sluice_request_duration_seconds_bucket", "upstream=\"shop\"", "le=\"+Inf\""))
                    .isEqualTo(3);
            assertThat(sample(after, "sluice_upstream_duration_seconds_count", "upstream=\"shop\""))
                    .isEqualTo(3);
            assertThat(sample(after, "sluice_upstream_duration_seconds_sum", "upstream=\"shop\""))
                    .isPositive();
            assertThat(sample(after, "sluice_attempts_count", "upstream=\"shop\""))
                    .isEqualTo(3);
            assertThat(sample(after, "sluice_cache_requests_total", "upstream=\"shop\""))
                    .isPositive();
        }
    }

    @Test
    void refusalsAndConcurrencyWaitsAreCountedPerUpstream() throws Exception {
        try (HeldUpstream upstream = new HeldUpstream()) {
            Running s = sluice.start("""
                    upstreams:
                      narrow:
                        base_url: %s
                        allow_private: true
                        max_concurrency: 1
                        retry: {max_attempts: 1}
                    """.formatted(upstream.baseUrl()));
            HttpClient client = HttpClient.newHttpClient();
            CompletableFuture<HttpResponse<String>> holder = client.sendAsync(
                    HttpRequest.newBuilder(s.data("/narrow/first")).build(), HttpResponse.BodyHandlers.ofString());
            await().atMost(Duration.ofSeconds(20)).until(() -> upstream.arrived() == 1);
            assertThat(sample(scrape(s), "sluice_in_flight", "upstream=\"narrow\""))
                    .isEqualTo(1);

            CompletableFuture<HttpResponse<String>> waiter = client.sendAsync(
                    HttpRequest.newBuilder(s.data("/narrow/second")).build(), HttpResponse.BodyHandlers.ofString());
            await().atMost(Duration.ofSeconds(20))
                    .until(() -> sample(scrape(s), "sluice_queued", "upstream=\"narrow\"") == 1);

            HttpResponse<String> refused = TestHttp.send(HttpRequest.newBuilder(s.data("/narrow/third"))
                    .header("Sluice-Max-Wait", "0")
                    .build());
            assertThat(refused.statusCode()).isEqualTo(429);

            upstream.release();
            assertThat(holder.get().statusCode()).isEqualTo(200);
            assertThat(waiter.get().statusCode()).isEqualTo(200);

            String after = scrape(s);
            assertThat(sample(after, "sluice_refusals_total", "upstream=\"narrow\""))
                    .isEqualTo(1);
            assertThat(sample(
                            after,
                            "sluice_requests_total",
                            "upstream=\"narrow\"",
                            "outcome=\"rate_limited\"",
                            "status=\"4xx\""))
                    .isEqualTo(1);
            assertThat(sample(
                            after,
                            "sluice_admission_wait_seconds_count",
                            "upstream=\"narrow\"",
                            "cause=\"concurrency\"",
                            "result=\"admitted\""))
                    .isEqualTo(1);
            assertThat(sample(after, "sluice_in_flight", "upstream=\"narrow\"")).isZero();
        }
    }
}
