package io.sluice.server;

import io.undertow.io.IoCallback;
import io.undertow.io.Sender;
import io.undertow.server.HttpServerExchange;
import io.undertow.util.HeaderMap;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.util.List;
import java.util.concurrent.Flow;
import org.xnio.IoUtils;
import org.xnio.XnioIoThread;

/**
 * Writes a streaming body to an Undertow exchange with backpressure: one batch of buffers is
 * requested, written, and only then is the next requested, so a slow client slows the upstream
 * instead of filling the heap. The upstream's buffers are written as they are (no copy). Writes run
 * on the exchange's IO thread. A body that fails midway closes the connection, so the client sees
 * a truncated response rather than a complete-looking one.
 */
public final class ResponseStreamer implements Flow.Subscriber<List<ByteBuffer>> {
    private final HttpServerExchange exchange;
    private Flow.Subscription subscription;
    private boolean writing;
    private boolean completePending;
    private boolean finished;

    public ResponseStreamer(HttpServerExchange exchange) {
        this.exchange = exchange;
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
        onIoThread(this::fail);
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
