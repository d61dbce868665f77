package io.sluice.fetch;

import io.sluice.time.TimeSource;
import io.sluice.upstream.Upstream;
import java.time.Duration;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.Executor;
import java.util.function.Consumer;

/**
 * One request's journey through the pipeline: what was asked, which upstream governs it (the one
 * {@link ResolveUpstreamStage} handed down the chain, kept here for the listeners), its deadline, its {@link Trace}, and how to stop it. Stages register
 * {@link #onCancel} hooks for whatever they hold (a queue position, an HTTP exchange, a body), so
 * a deadline or a departed client stops all of it at once.
 */
public final class Call {
    private final Pipeline pipeline;
    private final FetchRequest request;
    private final long startNanos;
    private final Trace trace = new Trace();
    private final ConcurrentLinkedQueue<Consumer<FetchException>> cancelHooks = new ConcurrentLinkedQueue<>();
    private volatile FetchException cancelledWith;
    private volatile Upstream upstream;
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
     * The governing upstream, for those that see the call rather than the chain (listeners, metrics,
     * the transport's protocol-error log, and {@link #priority} and {@link #waitBudgetNanos} here):
     * the one {@link ResolveUpstreamStage} handed down with the latest hop; null before. Stages read
     * {@link Stage.Chain#upstream} (PackagesTest holds the policy stages to it).
     */
    public Upstream upstream() {
        return upstream;
    }

    void upstream(Upstream upstream) {
        this.upstream = upstream;
        trace.upstream(upstream.name());
    }

    /**
     * The class this call waits in: the one its request names, else for a batch item the upstream's
     * {@code priority.default_batch} ({@code batch} unless set), else {@code interactive}. Meaningful
     * once {@link ResolveUpstreamStage} has run; before, a batch item counts as {@code batch}.
     */
    public io.sluice.config.Priority priority() {
        if (request.priority().isPresent()) return request.priority().get();
        if (!request.batchItem()) return io.sluice.config.Priority.INTERACTIVE;
        Upstream u = upstream;
        return u == null
                ? io.sluice.config.Priority.BATCH
                : u.policy()
                        .priority()
                        .map(io.sluice.config.PriorityPolicy::defaultBatch)
                        .orElse(io.sluice.config.Priority.BATCH);
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
     * How long this call may wait for admission (a token, a cooldown's end, a slot): the request's
     * own budget ({@code Sluice-Max-Wait}, {@code max_wait_ms}) or the upstream's {@code max_wait},
     * and never past the deadline.
     */
    public long waitBudgetNanos(long now) {
        long budget = request.maxWait().orElse(upstream.policy().maxWait()).toNanos();
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
