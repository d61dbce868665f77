package io.sluice.fetch;

import io.sluice.config.Priority;
import java.time.Duration;

/** A listener that cannot fail a call: whatever the delegate throws is logged and dropped. */
final class SafeListener implements FetchListener {
    private static final System.Logger LOG = System.getLogger(FetchListener.class.getName());
    private final FetchListener delegate;

    SafeListener(FetchListener delegate) {
        this.delegate = delegate;
    }

    @Override
    public void callStart(Call call) {
        run(() -> delegate.callStart(call));
    }

    @Override
    public void callEnd(Call call, FetchOutcome outcome, long elapsedNanos) {
        run(() -> delegate.callEnd(call, outcome, elapsedNanos));
    }

    @Override
    public void attemptStart(Call call, int attempt) {
        run(() -> delegate.attemptStart(call, attempt));
    }

    @Override
    public void attemptEnd(Call call, int attempt, int status, Throwable error) {
        run(() -> delegate.attemptEnd(call, attempt, status, error));
    }

    @Override
    public void admissionStart(Call call, Admission cause) {
        run(() -> delegate.admissionStart(call, cause));
    }

    @Override
    public void admissionEnd(Call call, Admission cause, Priority priority, long waitedNanos, boolean admitted) {
        run(() -> delegate.admissionEnd(call, cause, priority, waitedNanos, admitted));
    }

    @Override
    public void retry(Call call, int nextAttempt, String reason, Duration delay) {
        run(() -> delegate.retry(call, nextAttempt, reason, delay));
    }

    @Override
    public void cooldownStart(String upstream, Duration length, String reason) {
        run(() -> delegate.cooldownStart(upstream, length, reason));
    }

    @Override
    public void keyOverflow(Call call, String upstream) {
        run(() -> delegate.keyOverflow(call, upstream));
    }

    @Override
    public void cacheCoalesced(Call call) {
        run(() -> delegate.cacheCoalesced(call));
    }

    @Override
    public void tunnelEnd(Call call, long bytesUp, long bytesDown) {
        run(() -> delegate.tunnelEnd(call, bytesUp, bytesDown));
    }

    @Override
    public void cacheStored(Call call, long bytes) {
        run(() -> delegate.cacheStored(call, bytes));
    }

    @Override
    public void upstreamInterim(Call call, int status) {
        run(() -> delegate.upstreamInterim(call, status));
    }

    @Override
    public void tokenSaved(Call call) {
        run(() -> delegate.tokenSaved(call));
    }

    @Override
    public void learnedLimits(String upstream, String change) {
        run(() -> delegate.learnedLimits(upstream, change));
    }

    @Override
    public void transportFallback(Call call, String reason) {
        run(() -> delegate.transportFallback(call, reason));
    }

    @Override
    public void upstreamProtocolError(Call call, String type) {
        run(() -> delegate.upstreamProtocolError(call, type));
    }

    private static void run(Runnable event) {
        try {
            event.run();
        } catch (RuntimeException e) {
            LOG.log(System.Logger.Level.WARNING, "fetch listener failed; event dropped", e);
        }
    }

    @Override
    public String toString() {
        return "Safe(" + delegate + ")";
    }
}
