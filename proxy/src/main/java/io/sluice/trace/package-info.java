/**
 * OpenTelemetry tracing, off unless configured: a span per call continued from the caller's W3C
 * {@code traceparent} (or a new trace), a client span per attempt whose context is sent upstream,
 * and the waits and backoffs as child spans, all recorded from {@link io.sluice.fetch.FetchListener}
 * events so no pipeline stage knows about tracing. {@link Tracing} starts the SDK (OTLP over HTTP,
 * the standard {@code OTEL_*} variables honoured) and flushes it on shutdown.
 */
package io.sluice.trace;
