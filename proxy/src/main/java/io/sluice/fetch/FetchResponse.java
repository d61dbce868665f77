package io.sluice.fetch;

/**
 * An upstream's answer (or the cache's). {@code headers} are end-to-end headers only;
 * {@code body} streams and must be consumed or discarded.
 */
public record FetchResponse(int status, Fields headers, ResponseBody body, Trace trace) implements FetchOutcome {}
