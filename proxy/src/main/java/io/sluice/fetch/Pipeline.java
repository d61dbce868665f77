package io.sluice.fetch;

import io.sluice.time.TimeSource;
import io.sluice.upstream.Upstream;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.Executor;

/**
 * Runs calls through an ordered list of {@link Stage}s. The list is ordered in one place (see
 * {@code io.sluice.StandardPipeline}); this class only walks it and turns whatever comes out
 * into a {@link FetchOutcome}.
 */
public final class Pipeline {
    private final List<Stage> stages;
    private final TimeSource time;
    private final FetchListener listener;
    /** Calls not yet over (body included), so a shutdown past its grace can end each with an answer. */
    private final java.util.Set<Call> live = java.util.concurrent.ConcurrentHashMap.newKeySet();

    /** The reason every call still running when the shutdown grace ends is cancelled with. */
    public static final String SHUTTING_DOWN = "Sluice is shutting down";

    public Pipeline(List<Stage> stages, TimeSource time) {
        this(stages, time, FetchListener.NONE);
    }

    /** A pipeline that reports every call to {@code listener} (metrics, recent requests). */
    public Pipeline(List<Stage> stages, TimeSource time, FetchListener listener) {
        if (stages.isEmpty()) throw new IllegalArgumentException("a pipeline needs at least one stage");
        this.stages = List.copyOf(stages);
        this.time = time;
        this.listener = FetchListener.safe(listener);
    }

    /** A call for {@code request}, not yet started. */
    public Call newCall(FetchRequest request) {
        return newCall(request, null);
    }

    /**
     * A call received on {@code affinity}, the thread (an executor) its front door runs on, or null: a
     * transport that can do its work there does, so the call needs no thread hand-off (see
     * {@link Call#affinity}).
     */
    public Call newCall(FetchRequest request, Executor affinity) {
        return new Call(this, request, time.nanoTime(), affinity);
    }

    TimeSource time() {
        return time;
    }

    FetchListener listener() {
        return listener;
    }

    /**
     * Cancels every call still in flight with {@link #SHUTTING_DOWN}: each ends as a typed
     * {@code cancelled} failure its front door answers (a batch item's error, a passthrough 503)
     * instead of a connection closed under it.
     */
    public void cancelAll() {
        for (Call call : live) call.cancel(new FetchException(ErrorType.CANCELLED, SHUTTING_DOWN));
    }

    CompletableFuture<FetchOutcome> execute(Call call) {
        live.add(call);
        listener.callStart(call);
        return run(call).thenApply(outcome -> {
            listener.callEnd(call, outcome, time.nanoTime() - call.startNanos());
            return outcome;
        });
    }

    private CompletableFuture<FetchOutcome> run(Call call) {
        CompletableFuture<FetchResponse> response;
        try {
            response = new RealChain(0, call, call.request(), null).proceed(call.request());
        } catch (RuntimeException e) {
            response = CompletableFuture.failedFuture(e);
        }
        return response.handle((r, error) -> {
            if (error != null) {
                call.disarmDeadline();
                live.remove(call);
                return Failures.toFailure(error, call.trace());
            }
            r.body().onFinish(() -> {
                call.disarmDeadline();
                live.remove(call);
            });
            return r;
        });
    }

    public List<Stage> stages() {
        return stages;
    }

    /**
     * The chain as one stage sees it: the call, this hop's request, and the per-hop values the stages
     * above computed (the upstream), handed down rather than written into the call by one stage for
     * another to read.
     */
    final class RealChain implements Stage.Chain {
        private final int index;
        private final Call call;
        private final FetchRequest request;
        private final Upstream upstream;

        RealChain(int index, Call call, FetchRequest request, Upstream upstream) {
            this.index = index;
            this.call = call;
            this.request = request;
            this.upstream = upstream;
        }

        @Override
        public Call call() {
            return call;
        }

        @Override
        public FetchRequest request() {
            return request;
        }

        @Override
        public Upstream upstream() {
            return upstream;
        }

        @Override
        public CompletableFuture<FetchResponse> proceed(FetchRequest next) {
            return proceed(next, upstream);
        }

        /**
         * Runs the stages after this one with {@code next}, governed by {@code governing}: how
         * {@link ResolveUpstreamStage} hands the upstream down. The trace records its name, for the
         * listeners (metrics, the recent requests) and the result that see the call rather than the
         * chain.
         */
        CompletableFuture<FetchResponse> proceed(FetchRequest next, Upstream governing) {
            if (governing != upstream) call.trace().upstream(governing.name());
            if (index >= stages.size()) {
                throw new IllegalStateException("the last stage must answer, not proceed");
            }
            if (call.isCancelled()) {
                return CompletableFuture.failedFuture(new FetchException(ErrorType.CANCELLED, "call cancelled"));
            }
            try {
                return stages.get(index).apply(new RealChain(index + 1, call, next, governing));
            } catch (RuntimeException e) {
                return CompletableFuture.failedFuture(e);
            }
        }
    }
}
