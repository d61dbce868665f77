package io.sluice.server;

import io.sluice.fetch.ErrorType;
import io.sluice.fetch.FetchException;
import io.undertow.io.Receiver;
import io.undertow.server.HttpServerExchange;
import io.undertow.server.RequestTooBigException;
import io.undertow.util.AttachmentKey;
import io.undertow.util.SameThreadExecutor;
import java.nio.ByteBuffer;
import java.util.concurrent.Flow;
import java.util.concurrent.RejectedExecutionException;

/**
 * A client's request body as a {@link Flow.Publisher}, read from Undertow only as fast as the
 * upstream accepts it: the receiver is paused whenever demand runs out, so an upload of any size
 * holds no more than one chunk in memory. Receiver calls are made on the exchange's IO thread.
 */
public final class RequestBodyPublisher implements Flow.Publisher<ByteBuffer> {
    private static final AttachmentKey<Boolean> EXCEEDED = AttachmentKey.create(Boolean.class);

    private final HttpServerExchange exchange;
    private final long maxBytes;

    /** Must be created in the handler, before anything reads the request. */
    public RequestBodyPublisher(HttpServerExchange exchange, long maxBytes) {
        this.exchange = exchange;
        this.maxBytes = maxBytes;
        exchange.setMaxEntitySize(maxBytes);
    }

    /**
     * Whether the client's body on {@code exchange} ran past its limit while it streamed (a chunked
     * upload, whose size is only known as it arrives): the failure is the client's, not the upstream's.
     */
    public static boolean exceededLimit(HttpServerExchange exchange) {
        return exchange.getAttachment(EXCEEDED) != null;
    }

    @Override
    public void subscribe(Flow.Subscriber<? super ByteBuffer> subscriber) {
        subscriber.onSubscribe(new Subscription(subscriber));
    }

    private final class Subscription implements Flow.Subscription {
        private final Flow.Subscriber<? super ByteBuffer> subscriber;
        private long demand;
        private boolean started;
        private boolean paused;
        private boolean done;
        private long received;

        Subscription(Flow.Subscriber<? super ByteBuffer> subscriber) {
            this.subscriber = subscriber;
        }

        @Override
        public void request(long n) {
            if (n <= 0) return;
            onIoThread(() -> {
                if (done) return;
                demand = demand + n < 0 ? Long.MAX_VALUE : demand + n;
                if (!started && !exchange.isRequestChannelAvailable()) {
                    // The exchange ended first (the upstream answered at the request's head, and the
                    // answer went out whole): Undertow has taken the channel to drain the body.
                    done = true;
                    subscriber.onError(new FetchException(
                            ErrorType.CANCELLED, "the client's exchange ended before its request body was read"));
                    return;
                }
                Receiver receiver = exchange.getRequestReceiver();
                if (!started) {
                    started = true;
                    receiver.receivePartialBytes(this::onChunk, this::onError);
                } else if (paused) {
                    paused = false;
                    receiver.resume();
                }
            });
        }

        @Override
        public void cancel() {
            onIoThread(() -> {
                if (done) return;
                done = true;
                if (started && !paused) {
                    paused = true;
                    exchange.getRequestReceiver().pause();
                }
            });
        }

        /**
         * Runs {@code task} on the exchange's IO thread; nothing once that thread has stopped: Sluice is
         * shutting down, every call is cancelled, and a connection closing under it wakes each stream's
         * body writer, which must not fail the listener that woke it.
         */
        private void onIoThread(Runnable task) {
            try {
                exchange.getIoThread().execute(task);
            } catch (RejectedExecutionException stopped) {
                // Nothing runs on it any more, this subscription's work included.
            }
        }

        private void onChunk(HttpServerExchange ex, byte[] chunk, boolean last) {
            if (done) return;
            received += chunk.length;
            if (received > maxBytes) {
                // Undertow sizes a chunked body's limit when it parses the head, before this handler
                // can lower it to server.max_request_body, so the count is kept here. The rest of the
                // body stays unread: the connection closes after the answer.
                ex.setPersistent(false);
                ex.getRequestReceiver().pause();
                paused = true;
                exceeded(ex);
                return;
            }
            if (chunk.length > 0) {
                demand--;
                subscriber.onNext(ByteBuffer.wrap(chunk));
            }
            if (last) {
                done = true;
                keepOpen(ex);
                subscriber.onComplete();
            } else if (demand <= 0 && !paused) {
                paused = true;
                ex.getRequestReceiver().pause();
                keepOpen(ex);
            }
        }

        /**
         * Undertow runs receiver callbacks as a root handler and ends the exchange when one returns
         * with reads stopped and the exchange not dispatched; the response is still to come.
         */
        private void keepOpen(HttpServerExchange ex) {
            if (!ex.isDispatched()) ex.dispatch(SameThreadExecutor.INSTANCE, () -> {});
        }

        private void onError(HttpServerExchange ex, java.io.IOException e) {
            if (done) return;
            if (e instanceof RequestTooBigException) {
                exceeded(ex);
                return;
            }
            done = true;
            keepOpen(ex);
            subscriber.onError(
                    e instanceof StrictChunkedBody.Malformed
                            ? new FetchException(ErrorType.INVALID_REQUEST, e.getMessage())
                            : new FetchException(ErrorType.CANCELLED, "client request body failed: " + e.getMessage()));
        }

        private void exceeded(HttpServerExchange ex) {
            done = true;
            keepOpen(ex);
            ex.putAttachment(EXCEEDED, true);
            subscriber.onError(new FetchException(
                    ErrorType.TOO_LARGE, "request body exceeds " + maxBytes + " bytes (server.max_request_body)"));
        }
    }
}
