package io.sluice.server;

import io.undertow.io.IoCallback;
import io.undertow.io.Sender;
import io.undertow.server.HttpServerExchange;
import io.undertow.util.HeaderMap;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.util.List;
import java.util.concurrent.Flow;
import java.util.function.Consumer;
import org.xnio.IoUtils;
import org.xnio.XnioIoThread;

/**
 * Writes a streaming body to an Undertow exchange with backpressure: one batch of buffers is
 * requested, written, and only then is the next requested, so a slow client slows the upstream
 * instead of filling the heap. The upstream's buffers are written as they are (no copy). Writes run
 * on the exchange's IO thread. A body that fails midway closes the connection, so the client sees
 * a truncated response rather than a complete-looking one; one that fails before its first byte, when
 * nothing of the response is out yet, is handed to {@code beforeFirstByte} to be answered instead.
 */
public final class ResponseStreamer implements Flow.Subscriber<List<ByteBuffer>> {
    private final HttpServerExchange exchange;
    private final Consumer<Throwable> beforeFirstByte;
    private Flow.Subscription subscription;
    private boolean writing;
    private boolean completePending;
    private boolean finished;

    public ResponseStreamer(HttpServerExchange exchange) {
        this(exchange, null);
    }

    /**
     * @param beforeFirstByte answers the exchange when the body fails before anything was sent (its
     *     headers are still unsent and may be replaced); null closes the connection as midway
     */
    public ResponseStreamer(HttpServerExchange exchange, Consumer<Throwable> beforeFirstByte) {
        this.exchange = exchange;
        this.beforeFirstByte = beforeFirstByte;
    }

    /** Headers must be set before the body is subscribed; this is a convenience for callers. */
    public HeaderMap headers() {
        return exchange.getResponseHeaders();
    }

    @Override
    public void onSubscribe(Flow.Subscription s) {
        subscription = s;
        s.request(1);
    }

    @Override
    public void onNext(List<ByteBuffer> buffers) {
        ByteBuffer[] array = buffers.toArray(ByteBuffer[]::new);
        onIoThread(() -> {
            if (finished) return;
            writing = true;
            sender().send(array, new IoCallback() {
                @Override
                public void onComplete(HttpServerExchange ex, Sender sender) {
                    writing = false;
                    if (completePending) {
                        end();
                    } else {
                        subscription.request(1);
                    }
                }

                @Override
                public void onException(HttpServerExchange ex, Sender sender, IOException exception) {
                    writing = false;
                    fail();
                }
            });
        });
    }

    @Override
    public void onError(Throwable throwable) {
        onIoThread(() -> {
            if (!finished && beforeFirstByte != null && !writing && !exchange.isResponseStarted()) {
                finished = true;
                beforeFirstByte.accept(throwable);
                return;
            }
            fail();
        });
    }

    @Override
    public void onComplete() {
        onIoThread(() -> {
            if (writing) {
                completePending = true;
            } else {
                end();
            }
        });
    }

    /**
     * Runs {@code task} on the exchange's IO thread: at once when already there (the client often
     * delivers a small body synchronously from {@code request}, which is called on the IO thread),
     * else queued to it. Skipping the queue saves a task, and a selector wake-up per signal.
     */
    private void onIoThread(Runnable task) {
        XnioIoThread io = exchange.getIoThread();
        if (Thread.currentThread() == io) {
            task.run();
        } else {
            io.execute(task);
        }
    }

    private Sender sender() {
        return exchange.getResponseSender();
    }

    private void end() {
        if (finished) return;
        finished = true;
        exchange.endExchange();
    }

    private void fail() {
        if (finished) return;
        finished = true;
        subscription.cancel();
        IoUtils.safeClose(exchange.getConnection());
    }
}
