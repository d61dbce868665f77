package io.sluice.limit;

import static org.assertj.core.api.Assertions.assertThat;

import io.sluice.config.Priority;
import io.sluice.fetch.FetchResponse;
import io.sluice.time.FakeTimeSource;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Optional;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;

/**
 * The figures in docs/limits.md ("Priority between callers"): a 20,000-item batch plus steady
 * interactive calls (5/s) against an upstream limited to 100/s, through the real admission stage on
 * fake time, so the result is the same on every machine and takes a second or two to compute. The
 * batch is driven as {@code POST /v1/batch} drives it: {@code concurrency} items in flight, the next
 * started as one finishes. Waits are admission waits (the fake upstream answers at once).
 *
 * <p>Run with {@code ./sluice test -Dtest=PrioritySimulationTest} (prints the table), or its
 * {@link #main}.
 */
class PrioritySimulationTest {
    private static final int BATCH_ITEMS = 20_000;
    private static final Duration INTERACTIVE_EVERY = Duration.ofMillis(200);
    private static final String LIMITS = "limits: [{rate: 100/s, burst: 100}]\n";

    record Result(
            String setup, int concurrency, int interactive, double p50, double p99, double max, double batchSeconds) {
        String row() {
            return String.format(
                    Locale.ROOT,
                    "| %s | %d | %d | %.3f s | %.3f s | %.3f s | %.1f s |",
                    setup,
                    concurrency,
                    interactive,
                    p50,
                    p99,
                    max,
                    batchSeconds);
        }
    }

    static Result simulate(String setup, String priorityYaml, int concurrency) {
        FakeTimeSource time = new FakeTimeSource();
        AdmissionStage admission = AdmissionStage.local(time, Runnable::run);
        Harness h = Harness.of(time, LIMITS + "max_wait: 30s\n" + priorityYaml, admission);

        AtomicInteger next = new AtomicInteger();
        AtomicInteger done = new AtomicInteger();
        long[] batchEnd = {0};
        Runnable[] startOne = new Runnable[1];
        startOne[0] = () -> {
            int i = next.getAndIncrement();
            if (i >= BATCH_ITEMS) return;
            h.execute(Harness.get("/batch/" + i).toBuilder().batchItem(true).build())
                    .whenComplete((outcome, error) -> {
                        if (!(outcome instanceof FetchResponse))
                            throw new AssertionError("batch item failed: " + outcome);
                        if (done.incrementAndGet() == BATCH_ITEMS) batchEnd[0] = time.nanoTime();
                        startOne[0].run();
                    });
        };
        for (int i = 0; i < concurrency; i++) startOne[0].run();

        List<Long> waits = new ArrayList<>();
        int calls = 0;
        // Bounded, so that a failed item (which would stop the batch) fails the test instead of hanging it.
        while (done.get() < BATCH_ITEMS && time.nanoTime() < Duration.ofHours(1).toNanos()) {
            long submitted = time.nanoTime();
            int n = calls++;
            h.execute(Harness.get("/interactive/" + n).toBuilder()
                            .priority(Optional.of(Priority.INTERACTIVE))
                            .build())
                    .whenComplete((outcome, error) -> {
                        if (!(outcome instanceof FetchResponse))
                            throw new AssertionError("interactive call failed: " + outcome);
                        synchronized (waits) {
                            waits.add(time.nanoTime() - submitted);
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
                concurrency,
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

    static List<Result> all() {
        List<Result> results = new ArrayList<>();
        for (int concurrency : new int[] {50, 1000}) {
            results.add(simulate("first come, first served (no `priority`)", "", concurrency));
            results.add(simulate("`priority: {}` (weights 8 : 2 : 1)", "priority: {}\n", concurrency));
            results.add(simulate(
                    "`priority: {reserve: {interactive: 10%}}`",
                    "priority: {reserve: {interactive: 10%}}\n", concurrency));
        }
        return results;
    }

    @Test
    void priorityKeepsInteractiveWaitsShortBehindAHugeBatch() {
        List<Result> results = all();
        System.out.println(
                "| setup | batch concurrency | interactive calls | p50 wait | p99 wait | max wait | batch done after |");
        System.out.println("|---|---|---|---|---|---|---|");
        results.forEach(r -> System.out.println(r.row()));

        for (int c = 0; c < results.size(); c += 3) {
            Result fifo = results.get(c);
            Result weighted = results.get(c + 1);
            Result reserved = results.get(c + 2);
            // First come, first served: an interactive call waits behind the batch's items in the queue.
            assertThat(fifo.p99()).isGreaterThanOrEqualTo(0.9 * fifo.concurrency() / 100.0 - 0.1);
            // By weight: it waits at most for the next token (10 ms at 100/s).
            assertThat(weighted.p99()).isLessThanOrEqualTo(0.011);
            // With a reserve: not at all.
            assertThat(reserved.max()).isZero();
            // The batch loses nothing but what the interactive calls take.
            assertThat(weighted.batchSeconds()).isLessThanOrEqualTo(fifo.batchSeconds() + 1);
            assertThat(reserved.batchSeconds()).isLessThanOrEqualTo(fifo.batchSeconds() + 1);
        }
    }

    public static void main(String[] args) {
        all().forEach(r -> System.out.println(r.row()));
    }
}
