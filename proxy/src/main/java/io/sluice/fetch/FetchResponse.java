package io.sluice.fetch;

import java.net.http.HttpHeaders;

/**
 * An upstream's answer (or the cache's). {@code headers} are end-to-end headers only;
 * {@code body} streams and must be consumed or discarded.
 */
public record FetchResponse(int status, HttpHeaders headers, ResponseBody body, Trace trace) implements FetchOutcome {}
