package io.sluice.config;

import java.time.Duration;

/**
 * Limits of the data port that protect Sluice itself: batch size in items and bytes, the largest
 * response body a batch item may return, the largest passthrough request body, header sizes, the
 * idle and parse timeouts of client connections, how long an idle upstream connection is kept for
 * reuse, and how long a SIGTERM waits for in-flight requests before exiting.
 */
public record ServerConfig(
        int maxBatchItems,
        DataSize maxBatchBytes,
        int maxBatchConcurrency,
        DataSize maxItemResponseBytes,
        DataSize maxRequestBody,
        DataSize maxHeaderSize,
        DataSize maxResponseHeaderSize,
        int maxResponseHeaders,
        Duration idleTimeout,
        Duration upstreamIdleTimeout,
        Duration shutdownGrace,
        int ioThreads,
        int workerThreads) {
    public ServerConfig {
        if (maxBatchItems < 1)
            throw new IllegalArgumentException("max_batch_items must be at least 1: " + maxBatchItems);
        if (maxBatchConcurrency < 1) {
            throw new IllegalArgumentException("max_batch_concurrency must be at least 1: " + maxBatchConcurrency);
        }
        if (maxResponseHeaderSize.bytes() < 1) {
            throw new IllegalArgumentException("max_response_header_size must be positive: " + maxResponseHeaderSize);
        }
        if (maxResponseHeaders < 1) {
            throw new IllegalArgumentException("max_response_headers must be at least 1: " + maxResponseHeaders);
        }
        Checks.positive("idle_timeout", idleTimeout);
        Checks.positive("upstream_idle_timeout", upstreamIdleTimeout);
        Checks.notNegative("shutdown_grace", shutdownGrace);
        if (ioThreads < 1) throw new IllegalArgumentException("io_threads must be at least 1: " + ioThreads);
        if (workerThreads < 1)
            throw new IllegalArgumentException("worker_threads must be at least 1: " + workerThreads);
    }
}
