package io.sluice.fetch;

import java.util.List;

/**
 * An upstream's answer (or the cache's). {@code headers} are end-to-end headers only;
 * {@code body} streams and must be consumed or discarded. {@code interim} holds the interim (1xx)
 * responses the upstream sent before this one, in order, where the transport shows them (Undertow's
 * HTTP/1.1 client; {@code java.net.http} does not), for the front doors to forward or report; a
 * stored response has none (RFC 9111 §3: a cache stores final responses only).
 */
public record FetchResponse(int status, Fields headers, ResponseBody body, Trace trace, List<Interim> interim)
        implements FetchOutcome {
    public FetchResponse {
        interim = List.copyOf(interim);
    }

    /** A response with no interim responses before it. */
    public FetchResponse(int status, Fields headers, ResponseBody body, Trace trace) {
        this(status, headers, body, trace, List.of());
    }
}
