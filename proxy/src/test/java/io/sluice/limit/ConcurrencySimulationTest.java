package io.sluice.limit;

import static org.assertj.core.api.Assertions.assertThat;

import io.sluice.config.Priority;
import io.sluice.fetch.FetchResponse;
import io.sluice.fetch.Fields;
import io.sluice.fetch.ResponseBody;
import io.sluice.fetch.Stage;
import io.sluice.time.FakeTimeSource;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;

/**
 * The {@code max_concurrency} wait by class, as docs/limits.md ("Priority between callers") states
 * it: a 2,000-item batch keeping 50 items in flight plus an interactive call every 200 ms, against an
 * upstream that allows 10 requests at once and takes 100 ms to answer each (so it serves 100/s),
 * through the real concurrency stage on fake time. No rate limit is in the way: the slots alone
 * make callers wait.
 */
class ConcurrencySimulationTest {
    private static final int BATCH_ITEMS = 2_000;
    private static final int BATCH_CONCURRENCY = 50;
    private static final Duration SERVICE_TIME = Duration.ofMillis(100);
    private static final Duration INTERACTIVE_EVERY = Duration.ofMillis(200);
    private static final String POLICY =
            "limits: [{rate: 100000/s, burst: 100000}]\nmax_concurrency: 10\nmax_wait: 60s\n";

    record Result(String setup, int interactive, double p50, double p99, double max, double batchSeconds) {
        String row() {
            return String.format(
                    Locale.ROOT,
                    "| %s | %d | %.3f s | %.3f s | %.3f s | %.1f s |",
                    setup,
                    interactive,
                    p50,
                    p99,
                    max,
                    batchSeconds);
        }
    }

    /** An upstream that answers each request {@link #SERVICE_TIME} after it arrives. */
    private static Stage slowUpstream(FakeTimeSource time) {
        return chain -> {
            CompletableFuture<FetchResponse> answer = new CompletableFuture<>();
            time.schedule(
                    SERVICE_TIME,
                    () -> answer.complete(new FetchResponse(
                            200,
                            Fields.of(Map.of()),
                            ResponseBody.empty(),
                            chain.call().trace())));
            return answer;
        };
    }

    static Result simulate(String setup, String priorityYaml) {
        FakeTimeSource time = new FakeTimeSource();
        Harness h =
                Harness.of(time, POLICY + priorityYaml, new ConcurrencyStage(time, Runnable::run), slowUpstream(time));

        AtomicInteger next = new AtomicInteger();
        AtomicInteger done = new AtomicInteger();
        long[] batchEnd = {0};
        Runnable[] startOne = new Runnable[1];
        startOne[0] = () -> {
            int i = next.getAndIncrement();
            if (i >= BATCH_ITEMS) return;
            h.execute(Harness.get("/batch/" + i).toBuilder().batchItem(true).build())
                    .whenComplete((outcome, error) -> {
                        if (!(outcome instanceof FetchResponse response))
                            throw new AssertionError("batch item failed: " + outcome);
                        response.body().discard(); // read: the slot is free again
                        if (done.incrementAndGet() == BATCH_ITEMS) batchEnd[0] = time.nanoTime();
                        startOne[0].run();
                    });
        };
        for (int i = 0; i < BATCH_CONCURRENCY; i++) startOne[0].run();

        List<Long> waits = new ArrayList<>();
        int calls = 0;
        // Off the beat of the slots, which all free together every 100 ms.
        time.advance(Duration.ofMillis(50));
        while (done.get() < BATCH_ITEMS && time.nanoTime() < Duration.ofHours(1).toNanos()) {
            long submitted = time.nanoTime();
            int n = calls++;
            h.execute(Harness.get("/interactive/" + n).toBuilder()
                            .priority(Optional.of(Priority.INTERACTIVE))
                            .build())
                    .whenComplete((outcome, error) -> {
                        if (!(outcome instanceof FetchResponse response))
                            throw new AssertionError("interactive call failed: " + outcome);
                        response.body().discard();
                        synchronized (waits) {
                            // The wait for a slot: what is beyond the upstream's own answer time.
                            waits.add(time.nanoTime() - submitted - SERVICE_TIME.toNanos());
                        }
                    });
            time.advance(INTERACTIVE_EVERY);
        }
        time.advance(Duration.ofMinutes(1));
        assertThat(done.get()).as("batch items done").isEqualTo(BATCH_ITEMS);
        List<Long> sorted = waits.stream().sorted().toList();
        assertThat(sorted).hasSize(calls);
        return new Result(
                setup,
                calls,
                percentile(sorted, 0.50),
                percentile(sorted, 0.99),
                sorted.get(sorted.size() - 1) / 1e9,
                batchEnd[0] / 1e9);
    }

    private static double percentile(List<Long> sorted, double q) {
        int index = (int) Math.ceil(q * sorted.size()) - 1;
        return sorted.get(Math.max(0, index)) / 1e9;
    }

    @Test
    void priorityServesInteractiveCallsTheNextFreeSlot() {
        Result fifo = simulate("first come, first served (no `priority`)", "");
        Result weighted = simulate("`priority: {}` (weights 8 : 2 : 1)", "priority: {}\n");
        System.out.println(
                "| setup | interactive calls | p50 slot wait | p99 slot wait | max slot wait | batch done after |");
        System.out.println("|---|---|---|---|---|---|");
        System.out.println(fifo.row());
        System.out.println(weighted.row());

        // First come, first served: behind the 40 batch items queued for the 10 slots, 4 rounds.
        assertThat(fifo.p50()).isGreaterThanOrEqualTo(0.35);
        // By weight: the next slot to free, half a round away.
        assertThat(weighted.max()).isLessThanOrEqualTo(0.05);
        // The batch loses nothing but the slots the interactive calls take.
        assertThat(weighted.batchSeconds()).isLessThanOrEqualTo(fifo.batchSeconds() + 1);
        assertThat(weighted.batchSeconds()).isGreaterThanOrEqualTo(BATCH_ITEMS / 100.0);
    }
}
