package io.sluice.limit;

import io.sluice.config.Priority;
import io.sluice.fetch.Call;
import io.sluice.fetch.FetchListener.Admission;
import io.sluice.fetch.FetchResponse;
import io.sluice.fetch.Stage;
import io.sluice.time.TimeSource;
import io.sluice.upstream.LiveState;
import io.sluice.upstream.Upstream;
import io.sluice.upstream.UpstreamStateSource;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.Executor;

/**
 * Holds one of the upstream's {@code max_concurrency} slots from sending until the response body
 * has been read, queueing (FIFO, within the call's wait budget) when all are taken; with the
 * upstream's {@code priority}, FIFO within each class and by weight between classes.
 */
public final class ConcurrencyStage implements Stage, UpstreamStateSource {
    private final ConcurrentHashMap<String, ConcurrencyLimiter> limiters = new ConcurrentHashMap<>();
    private final TimeSource time;
    private final Executor executor;

    public ConcurrencyStage(TimeSource time, Executor executor) {
        this.time = time;
        this.executor = executor;
    }

    @Override
    public CompletableFuture<FetchResponse> apply(Chain chain) {
        Call call = chain.call();
        Upstream upstream = chain.upstream();
        ConcurrencyLimiter limiter = limiter(upstream.name(), upstream.policy().maxConcurrency());
        Priority priority = call.priority(upstream.policy());
        long start = time.nanoTime();
        CompletableFuture<ConcurrencyLimiter.Permit> permit = limiter.acquire(
                call.waitBudgetNanos(start, upstream.policy()),
                priority,
                upstream.policy().priority().orElse(null));
        if (!permit.isDone()) {
            call.onCancel(reason -> limiter.abandon(permit, reason));
            call.events().admissionStart(call, Admission.CONCURRENCY);
            permit.whenComplete((p, error) -> call.events()
                    .admissionEnd(call, Admission.CONCURRENCY, priority, time.nanoTime() - start, error == null));
        }
        return permit.thenCompose(p -> {
            call.trace().addQueue(time.nanoTime() - start);
            CompletableFuture<FetchResponse> response = chain.proceed(chain.request());
            response.whenComplete((r, error) -> {
                if (error != null) p.release();
                else r.body().onFinish(p::release);
            });
            return response;
        });
    }

    /** The limiter of {@code upstream}, following live changes of its cap. */
    public ConcurrencyLimiter limiter(String upstream, int maxConcurrency) {
        ConcurrencyLimiter limiter =
                limiters.computeIfAbsent(upstream, name -> new ConcurrencyLimiter(maxConcurrency, time, executor));
        limiter.setLimit(maxConcurrency);
        return limiter;
    }

    /** Requests in flight to {@code upstream} (0 if it has seen none). */
    public int inFlight(String upstream) {
        ConcurrencyLimiter limiter = limiters.get(upstream);
        return limiter == null ? 0 : limiter.inFlight();
    }

    /** Requests waiting for a slot of {@code upstream}. */
    public int queued(String upstream) {
        ConcurrencyLimiter limiter = limiters.get(upstream);
        return limiter == null ? 0 : limiter.queued();
    }

    @Override
    public void describe(String upstream, LiveState into) {
        ConcurrencyLimiter limiter = limiters.get(upstream);
        if (limiter == null) {
            into.inFlight(0).queued(0);
        } else {
            into.inFlight(limiter.inFlight()).queued(limiter.queued());
            if (limiter.byClass()) {
                for (Priority p : Priority.values()) into.queued(p, limiter.queued(p));
            }
        }
    }

    @Override
    public void policyChanged(Upstream upstream) {
        ConcurrencyLimiter limiter = limiters.get(upstream.name());
        if (limiter != null) limiter.setLimit(upstream.policy().maxConcurrency());
    }

    @Override
    public String toString() {
        return "ConcurrencyStage";
    }
}
