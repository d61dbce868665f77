/**
 * The batch front door, {@code POST /v1/batch}: a JSON list of requests fetched concurrently through
 * the pipeline, each ending in its own result or typed error. Results come back in request order
 * as one JSON document, or with {@code Accept: application/x-ndjson} one line per item as each
 * completes. Items are dispatched a few at a time (the batch's {@code concurrency}), so a batch of
 * 100,000 holds only its in-flight items and the NDJSON lines not yet written.
 */
package io.sluice.batch;
