package io.sluice.fetch;

import io.sluice.config.Priority;
import java.time.Duration;
import java.util.List;

/** Fans each event out to several listeners. */
final class Composite implements FetchListener {
    private final List<FetchListener> listeners;

    Composite(List<FetchListener> listeners) {
        this.listeners = listeners;
    }

    @Override
    public void callStart(Call call) {
        for (FetchListener l : listeners) l.callStart(call);
    }

    @Override
    public void callEnd(Call call, FetchOutcome outcome, long elapsedNanos) {
        for (FetchListener l : listeners) l.callEnd(call, outcome, elapsedNanos);
    }

    @Override
    public void attemptStart(Call call, int attempt) {
        for (FetchListener l : listeners) l.attemptStart(call, attempt);
    }

    @Override
    public void attemptEnd(Call call, int attempt, int status, Throwable error) {
        for (FetchListener l : listeners) l.attemptEnd(call, attempt, status, error);
    }

    @Override
    public void admissionStart(Call call, Admission cause) {
        for (FetchListener l : listeners) l.admissionStart(call, cause);
    }

    @Override
    public void admissionEnd(Call call, Admission cause, Priority priority, long waitedNanos, boolean admitted) {
        for (FetchListener l : listeners) l.admissionEnd(call, cause, priority, waitedNanos, admitted);
    }

    @Override
    public void retry(Call call, int nextAttempt, String reason, Duration delay) {
        for (FetchListener l : listeners) l.retry(call, nextAttempt, reason, delay);
    }

    @Override
    public void cooldownStart(String upstream, Duration length, String reason) {
        for (FetchListener l : listeners) l.cooldownStart(upstream, length, reason);
    }

    @Override
    public void keyOverflow(Call call, String upstream) {
        for (FetchListener l : listeners) l.keyOverflow(call, upstream);
    }

    @Override
    public void cacheCoalesced(Call call) {
        for (FetchListener l : listeners) l.cacheCoalesced(call);
    }

    @Override
    public void tunnelEnd(Call call, long bytesUp, long bytesDown) {
        for (FetchListener l : listeners) l.tunnelEnd(call, bytesUp, bytesDown);
    }

    @Override
    public void cacheStored(Call call, long bytes) {
        for (FetchListener l : listeners) l.cacheStored(call, bytes);
    }

    @Override
    public void upstreamInterim(Call call, int status) {
        for (FetchListener l : listeners) l.upstreamInterim(call, status);
    }

    @Override
    public void tokenSaved(Call call) {
        for (FetchListener l : listeners) l.tokenSaved(call);
    }

    @Override
    public void learnedLimits(String upstream, String change) {
        for (FetchListener l : listeners) l.learnedLimits(upstream, change);
    }

    @Override
    public void transportFallback(Call call, String reason) {
        for (FetchListener l : listeners) l.transportFallback(call, reason);
    }

    @Override
    public void upstreamProtocolError(Call call, String type) {
        for (FetchListener l : listeners) l.upstreamProtocolError(call, type);
    }

    @Override
    public String toString() {
        return "FetchListener" + listeners;
    }
}
