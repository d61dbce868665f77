package io.sluice.batch;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.sluice.server.Json;
import io.undertow.io.IoCallback;
import io.undertow.io.Sender;
import io.undertow.server.HttpServerExchange;
import io.undertow.util.Headers;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.util.ArrayDeque;

/**
 * Streams one JSON line per item as it completes. Lines queue while a write is in flight and go
 * out together in the next write; once {@link #MAX_PENDING_BYTES} are waiting, {@link #hasRoom}
 * turns false and the batch stops starting items until the client catches up.
 */
final class NdjsonSink implements ResultSink {
    static final int MAX_PENDING_BYTES = 1 << 20;

    private final HttpServerExchange exchange;
    private final ArrayDeque<byte[]> pending = new ArrayDeque<>();
    private long pendingBytes;
    private boolean writing;
    private boolean closed;
    private boolean failed;
    private Runnable writable = () -> {};

    NdjsonSink(HttpServerExchange exchange) {
        this.exchange = exchange;
        exchange.setStatusCode(200);
        exchange.getResponseHeaders().put(Headers.CONTENT_TYPE, "application/x-ndjson");
    }

    @Override
    public void accept(int index, ObjectNode result) {
        byte[] line;
        try {
            line = Json.MAPPER.writeValueAsBytes(result);
        } catch (JsonProcessingException e) {
            throw new IllegalStateException(e);
        }
        synchronized (this) {
            if (failed) return;
            pending.add(line);
            pendingBytes += line.length + 1;
        }
        exchange.getIoThread().execute(this::flush);
    }

    @Override
    public synchronized boolean hasRoom() {
        return !failed && pendingBytes < MAX_PENDING_BYTES;
    }

    @Override
    public synchronized void onWritable(Runnable listener) {
        writable = listener;
    }

    @Override
    public void close() {
        synchronized (this) {
            closed = true;
        }
        exchange.getIoThread().execute(this::flush);
    }

    /** Runs on the IO thread: writes everything queued, or ends the response when done. */
    private void flush() {
        byte[] chunk;
        synchronized (this) {
            if (writing || failed) return;
            if (pending.isEmpty()) {
                if (closed) {
                    failed = true; // nothing more may be written
                    exchange.endExchange();
                }
                return;
            }
            ByteArrayOutputStream out = new ByteArrayOutputStream((int) Math.min(pendingBytes, Integer.MAX_VALUE));
            byte[] line;
            while ((line = pending.poll()) != null) {
                out.write(line, 0, line.length);
                out.write('\n');
            }
            pendingBytes = 0;
            chunk = out.toByteArray();
            writing = true;
        }
        exchange.getResponseSender().send(ByteBuffer.wrap(chunk), new IoCallback() {
            @Override
            public void onComplete(HttpServerExchange ex, Sender sender) {
                Runnable listener;
                synchronized (NdjsonSink.this) {
                    writing = false;
                    listener = writable;
                }
                listener.run();
                flush();
            }

            @Override
            public void onException(HttpServerExchange ex, Sender sender, IOException exception) {
                synchronized (NdjsonSink.this) {
                    writing = false;
                    failed = true;
                    pending.clear();
                }
                org.xnio.IoUtils.safeClose(ex.getConnection());
            }
        });
    }
}
