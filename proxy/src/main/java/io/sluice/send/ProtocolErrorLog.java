package io.sluice.send;

import io.sluice.fetch.Call;
import io.sluice.fetch.Failures;
import io.sluice.fetch.FetchException;
import io.sluice.time.TimeSource;
import java.time.Duration;
import java.util.concurrent.ConcurrentHashMap;

/**
 * One log line per broken upstream response, at most one per upstream per {@link #EVERY}, the
 * next line counting the ones held back: an upstream that answers garbage a thousand times a
 * minute must not flood the log (every event is still counted by the metrics listener).
 */
final class ProtocolErrorLog {
    static final Duration EVERY = Duration.ofSeconds(10);
    private static final System.Logger LOG = System.getLogger("io.sluice.upstream");

    private final TimeSource time;
    private final ConcurrentHashMap<String, Window> windows = new ConcurrentHashMap<>();

    ProtocolErrorLog(TimeSource time) {
        this.time = time;
    }

    private static final class Window {
        long openedAt;
        long suppressed;
        boolean open;
    }

    /**
     * Reports {@code error} of {@code call} to {@code upstream} (the one governing its hop) if it is a
     * protocol error (one {@link ProtocolError} names); else nothing.
     */
    void report(Call call, String upstream, Throwable error) {
        FetchException failure = Failures.classify(error);
        ProtocolError kind = ProtocolError.of(failure);
        if (kind != null) report(call, upstream, kind, failure.getMessage());
    }

    /** Counts the event for {@code upstream} and logs it unless one was logged for it recently. */
    void report(Call call, String upstream, ProtocolError kind, String message) {
        call.events().upstreamProtocolError(call, kind.tag());
        long now = time.nanoTime();
        long held;
        Window w = windows.computeIfAbsent(upstream, u -> new Window());
        synchronized (w) {
            if (w.open && now - w.openedAt < EVERY.toNanos()) {
                w.suppressed++;
                return;
            }
            held = w.suppressed;
            w.open = true;
            w.openedAt = now;
            w.suppressed = 0;
        }
        LOG.log(
                System.Logger.Level.WARNING,
                "upstream {0}: {1}: {2}{3}",
                upstream,
                kind.tag(),
                message,
                held == 0 ? "" : " (" + held + " more suppressed in the last " + EVERY.toSeconds() + " s)");
    }
}
