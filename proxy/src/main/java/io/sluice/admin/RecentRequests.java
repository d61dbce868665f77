package io.sluice.admin;

import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.sluice.fetch.Call;
import io.sluice.fetch.FetchFailure;
import io.sluice.fetch.FetchListener;
import io.sluice.fetch.FetchOutcome;
import io.sluice.fetch.FetchResponse;
import io.sluice.fetch.Trace;
import io.sluice.time.TimeSource;
import java.net.URI;
import java.time.Instant;
import java.util.ArrayDeque;
import java.util.Iterator;
import java.util.Optional;

/**
 * The last {@code capacity} calls with their decision trace: upstream, status or error, cache
 * verdict, attempts and where the time went. A bounded ring: the oldest entry drops out.
 *
 * <p>URLs are recorded without their query string: applications put API keys there, and this log
 * is for seeing why a call was slow, not what it asked for.
 */
public final class RecentRequests implements FetchListener {
    private final TimeSource time;
    private final int capacity;
    private final ArrayDeque<Entry> entries;

    public RecentRequests(TimeSource time, int capacity) {
        if (capacity < 1) throw new IllegalArgumentException("capacity must be at least 1: " + capacity);
        this.time = time;
        this.capacity = capacity;
        this.entries = new ArrayDeque<>(capacity);
    }

    @Override
    public void callEnd(Call call, FetchOutcome outcome, long elapsedNanos) {
        // An opened tunnel is recorded when it closes, with its bytes and whole duration.
        if (outcome instanceof FetchResponse && call.request().method().equals("CONNECT")) return;
        add(call, outcome, elapsedNanos, -1, -1);
    }

    @Override
    public void tunnelEnd(Call call, long bytesUp, long bytesDown) {
        Trace t = call.trace();
        add(
                call,
                new FetchResponse(200, io.sluice.fetch.Fields.EMPTY, io.sluice.fetch.ResponseBody.empty(), t),
                time.nanoTime() - call.startNanos(),
                bytesUp,
                bytesDown);
    }

    private void add(Call call, FetchOutcome outcome, long elapsedNanos, long bytesUp, long bytesDown) {
        Trace t = outcome.trace();
        Entry entry = new Entry(
                time.clock().instant(),
                call.request().method(),
                call.request().uri(),
                t.upstream(),
                outcome instanceof FetchResponse r ? r.status() : 0,
                outcome instanceof FetchFailure f ? Optional.of(f) : Optional.empty(),
                t.cacheStatus(),
                t.attempts(),
                elapsedNanos,
                t.queueNanos(),
                t.cooldownNanos(),
                t.upstreamNanos(),
                t.cacheNanos(),
                bytesUp,
                bytesDown,
                t.traceId());
        synchronized (this) {
            if (entries.size() == capacity) entries.removeFirst();
            entries.addLast(entry);
        }
    }

    /** Newest first, at most {@code limit}, only {@code upstream}'s when given. */
    public ArrayNode toJson(int limit, Optional<String> upstream) {
        ArrayNode out = JsonNodeFactory.instance.arrayNode();
        synchronized (this) {
            Iterator<Entry> it = entries.descendingIterator();
            while (it.hasNext() && out.size() < limit) {
                Entry e = it.next();
                if (upstream.isPresent() && !upstream.get().equals(e.upstream)) continue;
                out.add(e.toJson());
            }
        }
        return out;
    }

    static String withoutQuery(URI uri) {
        String s = uri.toString();
        int cut = s.indexOf('?');
        return cut < 0 ? s : s.substring(0, cut) + "?…";
    }

    private record Entry(
            Instant at,
            String method,
            URI url,
            String upstream,
            int status,
            Optional<FetchFailure> failure,
            String cache,
            int attempts,
            long elapsedNanos,
            long queueNanos,
            long cooldownNanos,
            long upstreamNanos,
            long cacheNanos,
            long bytesUp,
            long bytesDown,
            String traceId) {
        ObjectNode toJson() {
            ObjectNode o = JsonNodeFactory.instance.objectNode();
            o.put("at", at.toString());
            o.put("method", method);
            // Cut here, when someone looks, rather than on every call.
            o.put("url", withoutQuery(url));
            o.put("upstream", upstream.isEmpty() ? null : upstream);
            if (status > 0) o.put("status", status);
            else o.putNull("status");
            failure.ifPresent(f -> {
                ObjectNode error = o.putObject("error");
                error.put("type", f.type().wireName()).put("message", f.message());
                f.retryAfter().ifPresent(ra -> error.put("retry_after_ms", ra.toMillis()));
            });
            o.put("cache", cache);
            o.put("attempts", attempts);
            o.put("elapsed_ms", ms(elapsedNanos));
            o.putObject("timing")
                    .put("queue_ms", ms(queueNanos))
                    .put("cooldown_ms", ms(cooldownNanos))
                    .put("upstream_ms", ms(upstreamNanos))
                    .put("cache_ms", ms(cacheNanos));
            // Only while tracing is on: the id to look the call up in the tracing backend.
            if (traceId != null) o.put("trace_id", traceId);
            if (bytesUp >= 0) o.putObject("tunnel").put("bytes_up", bytesUp).put("bytes_down", bytesDown);
            return o;
        }

        private static double ms(long nanos) {
            return Math.round(nanos / 1e4) / 100.0;
        }
    }
}
