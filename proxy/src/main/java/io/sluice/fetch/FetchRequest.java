package io.sluice.fetch;

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
        boolean followRedirects) {

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
        return new FetchRequest(method, uri, headers, body, upstream, timeout, maxWait, cache, followRedirects);
    }

    public FetchRequest withMethodAndBody(String method, RequestBody body) {
        return new FetchRequest(method, uri, headers, body, upstream, timeout, maxWait, cache, followRedirects);
    }

    public FetchRequest withHeaders(Fields headers) {
        return new FetchRequest(method, uri, headers, body, upstream, timeout, maxWait, cache, followRedirects);
    }

    public FetchRequest withUpstream(Optional<String> upstream) {
        return new FetchRequest(method, uri, headers, body, upstream, timeout, maxWait, cache, followRedirects);
    }

    public Optional<String> header(String name) {
        return headers.firstValue(name);
    }
}
