package io.sluice.metrics;

import static org.assertj.core.api.Assertions.assertThat;

import io.micrometer.prometheusmetrics.PrometheusConfig;
import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;
import io.sluice.config.Priority;
import io.sluice.fetch.Call;
import io.sluice.fetch.FetchListener;
import io.sluice.fetch.FetchOutcome;
import io.sluice.fetch.FetchRequest;
import io.sluice.fetch.FetchResponse;
import io.sluice.fetch.Fields;
import io.sluice.fetch.Pipeline;
import io.sluice.fetch.ResponseBody;
import io.sluice.testing.TestConfig;
import io.sluice.time.FakeTimeSource;
import io.sluice.upstream.Upstreams;
import java.net.URI;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

class SluiceMetricsTest {
    private final PrometheusMeterRegistry registry = new PrometheusMeterRegistry(PrometheusConfig.DEFAULT);
    private final Upstreams upstreams = TestConfig.upstreams("""
            upstreams:
              github: {base_url: "https://api.github.com", limits: [{rate: 5000/h}, {rate: 90/min, burst: 10}]}
            """);
    private final FakeTimeSource time = new FakeTimeSource();

    @AfterEach
    void close() {
        registry.close();
    }

    private Call call(String upstream) {
        Pipeline pipeline = new Pipeline(List.of(chain -> CompletableFuture.completedFuture(null)), time);
        Call call = pipeline.newCall(FetchRequest.get(URI.create("https://api.github.com/x")));
        call.trace().upstream(upstream);
        return call;
    }

    @Test
    void jvmMetricsAreBoundWhenFirstAskedForNotWhenMade() {
        SluiceMetrics metrics = new SluiceMetrics(registry, upstreams, List.of());
        assertThat(registry.scrape()).doesNotContain("jvm_", "process_", "system_cpu_");

        metrics.bindJvmMetrics();

        assertThat(registry.scrape())
                .contains("jvm_memory_used_bytes", "jvm_gc_memory_allocated_bytes_total", "process_uptime_seconds");
        metrics.close();
    }

    @Test
    void queuedByPriorityIsAGaugePerClassForUpstreamsThatSetPriority() {
        SluiceMetrics metrics = new SluiceMetrics(registry, upstreams, List.of((name, state) -> {
            if (name.equals("github"))
                state.queued(io.sluice.config.Priority.BATCH, 3).queued(io.sluice.config.Priority.INTERACTIVE, 0);
        }));
        metrics.refreshGauges();
        assertThat(registry.scrape())
                .contains("sluice_queued_priority{priority=\"batch\",upstream=\"github\"} 3.0")
                .contains("sluice_queued_priority{priority=\"interactive\",upstream=\"github\"} 0.0")
                .doesNotContain("sluice_queued_priority{priority=\"batch\",upstream=\"default\"}");
        metrics.close();
    }

    @Test
    void gaugesReadEveryStateSourceAtScrapeTime() {
        SluiceMetrics metrics = new SluiceMetrics(
                registry,
                upstreams,
                List.of(
                        (name, state) ->
                                state.inFlight(name.equals("github") ? 2 : 0).queued(1),
                        (name, state) -> {
                            if (!name.equals("github")) return;
                            state.tokensAvailable(7.5).tokensAvailable(3.0).cooldownRemaining(Duration.ofMillis(2500));
                            state.cacheEntries(4).cacheBytes(1024);
                        },
                        (name, state) -> {
                            throw new IllegalStateException("a broken source is skipped");
                        }));
        metrics.refreshGauges();
        String scrape = registry.scrape();
        assertThat(scrape)
                .contains("sluice_in_flight{upstream=\"github\"} 2.0")
                .contains("sluice_in_flight{upstream=\"default\"} 0.0")
                .contains("sluice_queued{upstream=\"github\"} 1.0")
                .contains("sluice_tokens_available{upstream=\"github\"} 3.0")
                .contains("sluice_cooldown_remaining_seconds{upstream=\"github\"} 2.5")
                .contains("sluice_cooldown_active{upstream=\"github\"} 1.0")
                .contains("sluice_cache_entries{upstream=\"github\"} 4.0")
                .contains("sluice_cache_size_bytes{upstream=\"github\"} 1024.0")
                .contains("sluice_max_concurrency{upstream=\"github\"} 32.0")
                .contains("sluice_rate_limit{limit=\"90/min\",upstream=\"github\"} 1.5")
                .doesNotContain("sluice_tokens_available{upstream=\"default\"}");

        upstreams.remove("github");
        metrics.refreshGauges();
        assertThat(registry.scrape()).as("a removed upstream's gauges go").doesNotContain("upstream=\"github\"");
        metrics.close();
    }

    @Test
    void learnedLimitsAndSavedTokensAreShownPerUpstream() {
        SluiceMetrics metrics = new SluiceMetrics(registry, upstreams, List.of((name, state) -> {
            if (name.equals("github")) {
                state.learned(new io.sluice.upstream.LearnedLimit(
                        List.of(new io.sluice.upstream.LearnedLimit.Limit(
                                5000, Duration.ofHours(1), 5000, 5000 / 3600.0)),
                        "X-RateLimit-Limit",
                        time.clock().instant(),
                        false,
                        0));
            }
        }));
        Call call = call("github");
        metrics.tokenSaved(call);
        metrics.tokenSaved(call);
        metrics.learnedLimits("github", "adopted");
        metrics.learnedLimits("github", "rejected");
        metrics.refreshGauges();
        assertThat(registry.scrape())
                .contains("sluice_tokens_saved_total{upstream=\"github\"} 2.0")
                .contains("sluice_learned_limits_total{change=\"adopted\",upstream=\"github\"} 1.0")
                .contains("sluice_learned_limits_total{change=\"rejected\",upstream=\"github\"} 1.0")
                .contains("sluice_learned_rate{upstream=\"github\"} 1.3888")
                .doesNotContain("sluice_learned_rate{upstream=\"default\"}");
        metrics.close();
    }

    @Test
    void stageEventsBecomeCounters() {
        SluiceMetrics metrics = new SluiceMetrics(registry, upstreams, List.of());
        Call call = call("github");
        metrics.retry(call, 2, "503", Duration.ofMillis(100));
        metrics.retry(call, 3, "503", Duration.ofMillis(200));
        metrics.cooldownStart("github", Duration.ofSeconds(30), "retry_after");
        metrics.cacheCoalesced(call);
        metrics.cacheStored(call, 2048);
        metrics.admissionEnd(
                call,
                FetchListener.Admission.BUCKET,
                Priority.INTERACTIVE,
                Duration.ofMillis(40).toNanos(),
                true);
        metrics.admissionEnd(
                call,
                FetchListener.Admission.COOLDOWN,
                Priority.BATCH,
                Duration.ofSeconds(2).toNanos(),
                false);
        metrics.keyOverflow(call, "github");
        String scrape = registry.scrape();
        assertThat(scrape)
                .contains("sluice_retries_total{reason=\"503\",upstream=\"github\"} 2.0")
                .contains("sluice_cooldowns_total{reason=\"retry_after\",upstream=\"github\"} 1.0")
                .contains("sluice_cache_coalesced_total{upstream=\"github\"} 1.0")
                .contains("sluice_cache_stored_bytes_total{upstream=\"github\"} 2048.0")
                .contains(
                        "sluice_admission_wait_seconds_count{cause=\"bucket\",priority=\"interactive\",result=\"admitted\",upstream=\"github\"} 1")
                .contains(
                        "sluice_admission_wait_seconds_count{cause=\"cooldown\",priority=\"batch\",result=\"refused\",upstream=\"github\"} 1")
                .contains("sluice_key_overflow_total{upstream=\"github\"} 1.0");
        metrics.close();
    }

    @Test
    void aListenerThatThrowsNeitherFailsTheCallNorSilencesTheOthers() throws Exception {
        List<String> seen = new ArrayList<>();
        FetchListener broken = new FetchListener() {
            @Override
            public void callStart(Call call) {
                throw new IllegalStateException("boom at start");
            }

            @Override
            public void callEnd(Call call, FetchOutcome outcome, long elapsedNanos) {
                throw new IllegalStateException("boom at end");
            }
        };
        FetchListener recording = new FetchListener() {
            @Override
            public void callStart(Call call) {
                seen.add("start");
            }

            @Override
            public void callEnd(Call call, FetchOutcome outcome, long elapsedNanos) {
                seen.add("end " + ((FetchResponse) outcome).status() + " after " + elapsedNanos);
            }
        };
        Pipeline pipeline = new Pipeline(
                List.of(chain -> {
                    time.advance(Duration.ofMillis(5));
                    return CompletableFuture.completedFuture(new FetchResponse(
                            204,
                            Fields.EMPTY,
                            ResponseBody.empty(),
                            chain.call().trace()));
                }),
                time,
                FetchListener.of(List.of(broken, recording)));
        FetchOutcome outcome = pipeline.newCall(FetchRequest.get(URI.create("https://example.com/")))
                .execute()
                .get();
        assertThat(outcome).isInstanceOf(FetchResponse.class);
        assertThat(seen)
                .containsExactly(
                        "start", "end 204 after " + Duration.ofMillis(5).toNanos());
    }
}
