package io.sluice.log;

import io.undertow.server.HttpHandler;
import io.undertow.server.handlers.accesslog.AccessLogHandler;
import io.undertow.server.handlers.accesslog.AccessLogReceiver;
import java.util.concurrent.ArrayBlockingQueue;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.atomic.AtomicLong;
import java.util.logging.Level;
import java.util.logging.Logger;

/**
 * The access log ({@code log.access: true}): one line per request on the data port, and per request
 * inside an intercepted tunnel, in the Combined Log Format nginx and Apache write, with the query
 * string left out (it often carries keys) and the time to answer appended in milliseconds:
 *
 * <pre>127.0.0.1 - - [06/Dec/2026:23:40:01 +0000] "GET /github/repos HTTP/1.1" 200 1204 "-" "curl/8.5.0" 12</pre>
 *
 * <p>Lines go through the logger {@code sluice.access}, so {@code log.format: json} makes them
 * JSON too. They are written by one thread of their own: an IO thread only queues the line, and if
 * the writer falls 8,192 lines behind, lines are dropped and the next one written says how many.
 */
public final class AccessLog implements AccessLogReceiver, AutoCloseable {
    /** Combined Log Format, the path without its query ({@code %U}), then the response time ({@code %D}, ms). */
    static final String PATTERN = "%h %l %u %t \"%m %U %H\" %s %b \"%{i,Referer}\" \"%{i,User-Agent}\" %D";

    private static final Logger LOG = Logger.getLogger("sluice.access");
    private static final int QUEUE = 8192;

    private final BlockingQueue<String> lines = new ArrayBlockingQueue<>(QUEUE);
    private final AtomicLong dropped = new AtomicLong();
    private final Thread writer;
    private volatile boolean closed;

    public AccessLog() {
        writer = Thread.ofPlatform().name("sluice-access-log").daemon().unstarted(this::write);
        writer.start();
    }

    /** {@code next}, with each finished exchange written to this log. */
    public HttpHandler wrap(HttpHandler next) {
        return new AccessLogHandler(next, this, PATTERN, AccessLog.class.getClassLoader());
    }

    @Override
    public void logMessage(String message) {
        if (!lines.offer(message)) dropped.incrementAndGet();
    }

    private void write() {
        while (!closed || !lines.isEmpty()) {
            try {
                String line = lines.poll(200, java.util.concurrent.TimeUnit.MILLISECONDS);
                if (line == null) continue;
                long lost = dropped.getAndSet(0);
                if (lost > 0) LOG.log(Level.WARNING, "{0} access log lines dropped: the writer fell behind", lost);
                LOG.info(line);
            } catch (InterruptedException e) {
                return;
            }
        }
    }

    /** Writes what is queued (bounded by the queue) and stops the writer. */
    @Override
    public void close() {
        closed = true;
        try {
            writer.join(2000);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    @Override
    public String toString() {
        return "AccessLog";
    }
}
