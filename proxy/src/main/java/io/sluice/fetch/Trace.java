package io.sluice.fetch;

import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;

/**
 * Where one call's time went, and what the pipeline decided: the upstream that governed it, the
 * attempts made, the cache's verdict, and the nanoseconds spent queueing for a slot or token,
 * paused by a cooldown, waiting on the upstream, and in the cache. It feeds
 * {@code Server-Timing}, batch results, metrics and the recent-requests log.
 */
public final class Trace {
    private volatile String upstream = "";
    private volatile String cacheStatus = "bypass";
    private volatile String via = "";
    private volatile String traceparent;
    private final AtomicInteger attempts = new AtomicInteger();
    private final AtomicLong queueNanos = new AtomicLong();
    private final AtomicLong cooldownNanos = new AtomicLong();
    private final AtomicLong upstreamNanos = new AtomicLong();
    private final AtomicLong cacheNanos = new AtomicLong();

    public String upstream() {
        return upstream;
    }

    public void upstream(String name) {
        this.upstream = name;
    }

    /** {@code hit}, {@code miss}, {@code revalidated}, {@code stale} or {@code bypass}. */
    public String cacheStatus() {
        return cacheStatus;
    }

    public void cacheStatus(String status) {
        this.cacheStatus = status;
    }

    /**
     * How a CONNECT client's request came: {@code intercepted} (sent inside a tunnel whose TLS Sluice
     * terminates) or {@code tunnel} (the tunnel itself, passed on as bytes); empty for everything else.
     */
    public String via() {
        return via;
    }

    public void via(String how) {
        this.via = how;
    }

    /**
     * The W3C {@code traceparent} of this call's span ({@code 00-traceid-spanid-flags}), or null
     * while tracing is off.
     */
    public String traceparent() {
        return traceparent;
    }

    public void traceparent(String traceparent) {
        this.traceparent = traceparent;
    }

    /** The trace id (32 hex digits) of this call's span, or null while tracing is off. */
    public String traceId() {
        String tp = traceparent;
        return tp == null ? null : tp.substring(3, 35);
    }

    public int attempts() {
        return attempts.get();
    }

    public int countAttempt() {
        return attempts.incrementAndGet();
    }

    public long queueNanos() {
        return queueNanos.get();
    }

    public void addQueue(long nanos) {
        queueNanos.addAndGet(nanos);
    }

    public long cooldownNanos() {
        return cooldownNanos.get();
    }

    public void addCooldown(long nanos) {
        cooldownNanos.addAndGet(nanos);
    }

    public long upstreamNanos() {
        return upstreamNanos.get();
    }

    public void addUpstream(long nanos) {
        upstreamNanos.addAndGet(nanos);
    }

    public long cacheNanos() {
        return cacheNanos.get();
    }

    public void addCache(long nanos) {
        cacheNanos.addAndGet(nanos);
    }

    /** The {@code Server-Timing} value (W3C Server Timing), durations in milliseconds. */
    public String serverTiming() {
        // One builder for the whole value: it is made for every response.
        StringBuilder timing = new StringBuilder(128);
        ms(timing.append("queue;dur="), queueNanos());
        ms(timing.append(", cooldown;dur="), cooldownNanos());
        ms(timing.append(", upstream;dur="), upstreamNanos());
        ms(timing.append(", cache;dur="), cacheNanos());
        // The form OpenTelemetry's browser instrumentation reads to link a page load to its trace.
        String tp = traceparent;
        if (tp != null) timing.append(", traceparent;desc=\"").append(tp).append('"');
        return timing.toString();
    }

    /** Milliseconds with one decimal, rounded half up (String.format cost a visible share per request). */
    private static void ms(StringBuilder out, long nanos) {
        long tenths = (Math.max(0, nanos) + 50_000) / 100_000;
        out.append(tenths / 10).append('.').append(tenths % 10);
    }
}
