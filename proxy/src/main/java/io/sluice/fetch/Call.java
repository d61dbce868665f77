package io.sluice.fetch;

import io.sluice.config.Policy;
import io.sluice.config.Priority;
import io.sluice.config.PriorityPolicy;
import io.sluice.time.TimeSource;
import java.time.Duration;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.Executor;
import java.util.function.Consumer;

/**
 * One request's journey through the pipeline: what was asked, its deadline, its {@link Trace}, and
 * how to stop it. Stages register {@link #onCancel} hooks for whatever they hold (a queue position,
 * an HTTP exchange, a body), so a deadline or a departed client stops all of it at once.
 *
 * <p>The upstream that governs a hop is not kept here: {@link ResolveUpstreamStage} hands it down
 * the chain ({@link Stage.Chain#upstream}), and whoever needs it or a value of it past the chain (a
 * transport, a listener) is given it as an argument. The trace names it, for the record.
 */
public final class Call {
    private final Pipeline pipeline;
    private final FetchRequest request;
    private final long startNanos;
    private final Trace trace = new Trace();
    private final ConcurrentLinkedQueue<Consumer<FetchException>> cancelHooks = new ConcurrentLinkedQueue<>();
    private volatile FetchException cancelledWith;
    private volatile long deadlineNanos = Long.MAX_VALUE;
    private volatile TimeSource.Timer deadlineTimer;
    private final Executor affinity;
    // Tracing's share of the call; all three stay null while tracing is off, so that costs nothing.
    private volatile Fields parentHeaders;
    private volatile Object span;
    private volatile java.util.Map<String, String> traceHeaders;

    Call(Pipeline pipeline, FetchRequest request, long startNanos, Executor affinity) {
        this.pipeline = pipeline;
        this.request = request;
        this.startNanos = startNanos;
        this.affinity = affinity;
    }

    /**
     * The thread (as an executor) the front door received this call on, or null (a batch item). The
     * kernel does not look inside: a transport that can work on it does (the HTTP/1.1 client opens
     * cleartext upstream connections on the data port's IO thread it names), so the call needs no
     * thread hand-off.
     */
    public Executor affinity() {
        return affinity;
    }

    /** Runs the pipeline; the future always completes normally, with a response or a failure. */
    public CompletableFuture<FetchOutcome> execute() {
        return pipeline.execute(this);
    }

    public FetchRequest request() {
        return request;
    }

    public Trace trace() {
        return trace;
    }

    /** Where stages report events (admission waits, retries, cache); never throws. */
    public FetchListener events() {
        return pipeline.listener();
    }

    public long startNanos() {
        return startNanos;
    }

    /**
     * The class this call waits in under {@code policy}, its upstream's for this hop: the one its
     * request names, else for a batch item the policy's {@code priority.default_batch} ({@code batch}
     * unless set), else {@code interactive}.
     */
    public Priority priority(Policy policy) {
        if (request.priority().isPresent()) return request.priority().get();
        if (!request.batchItem()) return Priority.INTERACTIVE;
        return policy.priority().map(PriorityPolicy::defaultBatch).orElse(Priority.BATCH);
    }

    /** Monotonic instant ({@link io.sluice.time.TimeSource#nanoTime}) by which the call must end. */
    public long deadlineNanos() {
        return deadlineNanos;
    }

    /**
     * Sets the deadline {@code total} after the call started, once (a redirect hop keeps the first
     * hop's deadline); when it passes, the call is cancelled with a timeout.
     */
    synchronized void armDeadline(Duration total, TimeSource time) {
        if (deadlineTimer != null) return;
        deadlineNanos = startNanos + total.toNanos();
        long remaining = deadlineNanos - time.nanoTime();
        long totalMillis = total.toMillis();
        // The exception is made only if the deadline fires: filling in a stack trace on every call, for
        // a timeout that almost never happens, was a measurable share of passthrough CPU.
        deadlineTimer = time.schedule(
                Duration.ofNanos(Math.max(0, remaining)),
                () -> cancel(
                        new FetchException(ErrorType.TIMEOUT, "no complete response within " + totalMillis + " ms")));
    }

    /** Disarms the deadline: the call has ended (its body included). */
    synchronized void disarmDeadline() {
        if (deadlineTimer != null) deadlineTimer.cancel();
    }

    /** Nanoseconds left before the deadline at {@code now}; {@link Long#MAX_VALUE} if none is set. */
    public long remainingNanos(long now) {
        long deadline = deadlineNanos;
        return deadline == Long.MAX_VALUE ? Long.MAX_VALUE : deadline - now;
    }

    /**
     * How long this call may wait for admission (a token, a cooldown's end, a slot) under
     * {@code policy}, its upstream's for this hop: the request's own budget ({@code Sluice-Max-Wait},
     * {@code max_wait_ms}) or the policy's {@code max_wait}, and never past the deadline.
     */
    public long waitBudgetNanos(long now, Policy policy) {
        long budget = request.maxWait().orElse(policy.maxWait()).toNanos();
        return Math.max(0, Math.min(budget, remainingNanos(now)));
    }

    /**
     * The headers of the request that carried this call, when that is not the call's own request (a
     * batch item's batch): tracing continues the trace context found there when the call's own
     * headers carry none.
     */
    public Fields parentHeaders() {
        return parentHeaders;
    }

    public void parentHeaders(Fields headers) {
        this.parentHeaders = headers;
    }

    /** The tracer's state for this call (its span), or null; only the tracer reads it. */
    public Object span() {
        return span;
    }

    public void span(Object span) {
        this.span = span;
    }

    /**
     * Trace-context headers ({@code traceparent}, {@code tracestate}) the next attempt sends upstream,
     * replacing the client's own; null (the client's pass through untouched) while tracing is off.
     * Set by the tracer in {@link FetchListener#attemptStart}.
     */
    public java.util.Map<String, String> traceHeaders() {
        return traceHeaders;
    }

    public void traceHeaders(java.util.Map<String, String> headers) {
        this.traceHeaders = headers;
    }

    /** Stops the call: every registered hook runs once with {@code reason}. */
    public void cancel(FetchException reason) {
        if (cancelledWith != null) return;
        cancelledWith = reason;
        Consumer<FetchException> hook;
        while ((hook = cancelHooks.poll()) != null) hook.accept(reason);
    }

    public boolean isCancelled() {
        return cancelledWith != null;
    }

    /** Runs {@code hook} if the call is cancelled (at once if it already was). */
    public void onCancel(Consumer<FetchException> hook) {
        cancelHooks.add(hook);
        FetchException reason = cancelledWith;
        if (reason != null && cancelHooks.remove(hook)) hook.accept(reason);
    }
}
