package io.sluice.fetch;

import io.sluice.config.Priority;
import java.net.URI;
import java.time.Duration;
import java.util.Optional;

/**
 * One outbound request as the front doors describe it. {@code headers} are what the client sent;
 * hop-by-hop headers are removed when it is sent.
 *
 * @param upstream the upstream named by the route form ({@code /github/...}); empty to resolve by origin
 * @param timeout the client's own total deadline, capped by the upstream's {@code timeouts.total}
 * @param maxWait the client's own admission budget, replacing the upstream's {@code max_wait}
 * @param priority the class the client named ({@code Sluice-Priority}, a batch's {@code priority});
 *     empty for the door's default
 * @param batchItem whether the request is a batch item, whose default class is the upstream's
 *     {@code priority.default_batch} (a passthrough request's is {@code interactive})
 */
public record FetchRequest(
        String method,
        URI uri,
        Fields headers,
        RequestBody body,
        Optional<String> upstream,
        Optional<Duration> timeout,
        Optional<Duration> maxWait,
        CacheMode cache,
        boolean followRedirects,
        Optional<Priority> priority,
        boolean batchItem) {

    /** A passthrough request of the default class. */
    public FetchRequest(
            String method,
            URI uri,
            Fields headers,
            RequestBody body,
            Optional<String> upstream,
            Optional<Duration> timeout,
            Optional<Duration> maxWait,
            CacheMode cache,
            boolean followRedirects) {
        this(method, uri, headers, body, upstream, timeout, maxWait, cache, followRedirects, Optional.empty(), false);
    }

    public FetchRequest {
        if (priority == null) throw new IllegalArgumentException("priority: required (Optional.empty() for none)");
    }

    public static FetchRequest get(URI uri) {
        return new FetchRequest(
                "GET",
                uri,
                Fields.EMPTY,
                RequestBody.empty(),
                Optional.empty(),
                Optional.empty(),
                Optional.empty(),
                CacheMode.DEFAULT,
                false);
    }

    public FetchRequest withUri(URI uri) {
        return new FetchRequest(
                method, uri, headers, body, upstream, timeout, maxWait, cache, followRedirects, priority, batchItem);
    }

    public FetchRequest withMethodAndBody(String method, RequestBody body) {
        return new FetchRequest(
                method, uri, headers, body, upstream, timeout, maxWait, cache, followRedirects, priority, batchItem);
    }

    public FetchRequest withHeaders(Fields headers) {
        return new FetchRequest(
                method, uri, headers, body, upstream, timeout, maxWait, cache, followRedirects, priority, batchItem);
    }

    public FetchRequest withUpstream(Optional<String> upstream) {
        return new FetchRequest(
                method, uri, headers, body, upstream, timeout, maxWait, cache, followRedirects, priority, batchItem);
    }

    public FetchRequest withTimeout(Optional<Duration> timeout) {
        return new FetchRequest(
                method, uri, headers, body, upstream, timeout, maxWait, cache, followRedirects, priority, batchItem);
    }

    /**
     * The time this request may take within {@code limit}: its own {@code timeout} when that is
     * shorter, else {@code limit}. The one rule for two budgets (a policy's {@code timeouts.total}, what
     * is left of a batch's {@code timeout_ms}) and the client's own.
     */
    public Duration timeoutWithin(Duration limit) {
        return timeout.filter(asked -> asked.compareTo(limit) < 0).orElse(limit);
    }

    /** The same request in class {@code priority}, as a batch item or not. */
    public FetchRequest withPriority(Optional<Priority> priority, boolean batchItem) {
        return new FetchRequest(
                method, uri, headers, body, upstream, timeout, maxWait, cache, followRedirects, priority, batchItem);
    }

    public Optional<String> header(String name) {
        return headers.firstValue(name);
    }
}
