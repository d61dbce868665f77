/**
 * Metrics: one {@link io.sluice.fetch.FetchListener} implemented with Micrometer, fed by the
 * pipeline's paired events and each call's {@link io.sluice.fetch.Trace}, plus per-upstream gauges
 * read from the stages' live state at scrape time, and the JVM and process binders, bound by the first
 * scrape rather than at start. The registry is injected (Prometheus in production), never
 * Micrometer's global one.
 */
package io.sluice.metrics;
