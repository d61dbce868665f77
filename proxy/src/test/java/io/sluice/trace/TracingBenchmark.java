package io.sluice.trace;

import io.sluice.config.TracingConfig;
import io.sluice.fetch.Call;
import io.sluice.fetch.FetchListener;
import io.sluice.fetch.FetchRequest;
import io.sluice.fetch.FetchResponse;
import io.sluice.fetch.Fields;
import io.sluice.fetch.Pipeline;
import io.sluice.fetch.ResponseBody;
import io.sluice.time.TimeSource;
import java.lang.management.ManagementFactory;
import java.net.URI;
import java.time.Duration;
import java.util.List;
import java.util.Locale;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;

/**
 * CPU time tracing adds to one call, not a test: run it by hand (see docs/performance.md,
 * "Tracing"). One thread makes calls back to back through the tracing listener's events as the
 * pipeline emits them for a passthrough request (callStart, attemptStart, attemptEnd, callEnd) and
 * builds the {@code Server-Timing} value, with tracing off, at {@code sample_ratio} 0 and at 1.0.
 * The 1.0 row exports to a closed port, so the SDK's queue fills and drops spans: it shows the
 * recording cost, not the export's. Argument: calls per round (default 1,000,000).
 */
public final class TracingBenchmark {
    public static void main(String[] args) {
        int calls = args.length > 0 ? Integer.parseInt(args[0]) : 1_000_000;
        TimeSource time = TimeSource.system();
        System.out.printf(
                Locale.ROOT,
                "%d cores, load average %.1f, %s%n",
                Runtime.getRuntime().availableProcessors(),
                ManagementFactory.getOperatingSystemMXBean().getSystemLoadAverage(),
                System.getProperty("java.vm.version"));
        URI nowhere = URI.create("http://127.0.0.1:9");
        Pipeline pipeline =
                new Pipeline(List.of(chain -> CompletableFuture.failedFuture(new IllegalStateException())), time);
        FetchRequest request = FetchRequest.builder("GET", URI.create("http://127.0.0.1:8080/item.json"))
                .headers(Fields.builder(2)
                        .add("Host", List.of("127.0.0.1:7600"))
                        .add("Accept", List.of("*/*"))
                        .build())
                .build();
        Tracing ratio0 =
                Tracing.start(new TracingConfig(Optional.of(nowhere), 0, "bench", Duration.ofSeconds(5), true), time);
        Tracing ratio1 =
                Tracing.start(new TracingConfig(Optional.of(nowhere), 1, "bench", Duration.ofSeconds(5), true), time);
        String[] names = {"off", "ratio 0", "ratio 1.0"};
        FetchListener[] listeners = {FetchListener.NONE, ratio0.listener(), ratio1.listener()};
        double[][] nanos = new double[3][5];
        for (int round = 0; round < 5; round++) {
            for (int i = 0; i < 3; i++) nanos[i][round] = run(pipeline, request, listeners[i], calls);
        }
        for (int i = 0; i < 3; i++) {
            double[] sorted = nanos[i].clone();
            java.util.Arrays.sort(sorted);
            System.out.printf(
                    Locale.ROOT,
                    "%-10s %7.0f ns per call (median of 5 rounds, first is warm-up)%n",
                    names[i],
                    sorted[2]);
        }
        ratio0.close();
        ratio1.close();
    }

    private static double run(Pipeline pipeline, FetchRequest request, FetchListener listener, int calls) {
        long sink = 0;
        long start = System.nanoTime();
        for (int n = 0; n < calls; n++) {
            Call call = pipeline.newCall(request);
            listener.callStart(call);
            listener.attemptStart(call, 1);
            listener.attemptEnd(call, 1, 200, null);
            var response = new FetchResponse(200, Fields.EMPTY, ResponseBody.empty(), call.trace());
            listener.callEnd(call, response, 0);
            sink += call.trace().serverTiming().length();
            var headers = call.traceHeaders();
            if (headers != null) sink += headers.size();
        }
        double perCall = (System.nanoTime() - start) / (double) calls;
        if (sink == 42) System.out.println();
        return perCall;
    }
}
