package io.sluice.fetch;

import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.Flow;
import java.util.concurrent.atomic.AtomicBoolean;

/**
 * A response body that streams from the upstream (or is already in memory, for cache hits and
 * Sluice's own answers). Exactly one consumer reads it: a front door streams it to its client, or
 * {@link #collect} gathers it under a byte limit.
 *
 * <p>Whatever ends the body (the last byte, an error, the consumer cancelling, or {@link #abort}
 * from a deadline) runs the {@link #onFinish} hooks once: that is where the pipeline releases its
 * concurrency slot and disarms its deadline, so a slot is held for exactly as long as bytes flow.
 */
public final class ResponseBody {
    private final Flow.Publisher<List<ByteBuffer>> source;
    private final long contentLength;
    private final AtomicBoolean subscribed = new AtomicBoolean();
    private final AtomicBoolean finished = new AtomicBoolean();
    private final ConcurrentLinkedQueue<Runnable> finishers = new ConcurrentLinkedQueue<>();
    private volatile Relay relay;
    private volatile Throwable abortedWith;

    private ResponseBody(Flow.Publisher<List<ByteBuffer>> source, long contentLength) {
        this.source = source;
        this.contentLength = contentLength;
    }

    /** A body streamed from {@code source}, {@code contentLength} bytes long or -1 if unknown. */
    public static ResponseBody streaming(Flow.Publisher<List<ByteBuffer>> source, long contentLength) {
        return new ResponseBody(source, contentLength);
    }

    public static ResponseBody of(byte[] bytes) {
        return new ResponseBody(new BytesPublisher(bytes), bytes.length);
    }

    public static ResponseBody empty() {
        return of(new byte[0]);
    }

    /** Length from {@code Content-Length}, or -1. */
    public long contentLength() {
        return contentLength;
    }

    /** Runs {@code hook} once when the body ends for any reason (at once if it already has). */
    public void onFinish(Runnable hook) {
        finishers.add(hook);
        if (finished.get()) runFinishers();
    }

    /** Streams the body to {@code subscriber}; a body can be read once. */
    public void subscribe(Flow.Subscriber<? super List<ByteBuffer>> subscriber) {
        if (!subscribed.compareAndSet(false, true)) {
            throw new IllegalStateException("a response body can be read once");
        }
        Relay r = new Relay(subscriber);
        relay = r;
        source.subscribe(r);
        Throwable aborted = abortedWith;
        if (aborted != null) r.abort(aborted);
    }

    /**
     * Reads the whole body into memory, failing with {@link ErrorType#TOO_LARGE} as soon as it
     * passes {@code maxBytes} (before reading anything when {@code Content-Length} says so).
     */
    public CompletableFuture<byte[]> collect(long maxBytes) {
        CompletableFuture<byte[]> result = new CompletableFuture<>();
        if (contentLength > maxBytes) {
            discard();
            result.completeExceptionally(tooLarge(maxBytes));
            return result;
        }
        subscribe(new Flow.Subscriber<>() {
            private final List<ByteBuffer> parts = new ArrayList<>();
            private long size;
            private Flow.Subscription subscription;

            @Override
            public void onSubscribe(Flow.Subscription s) {
                subscription = s;
                s.request(Long.MAX_VALUE);
            }

            @Override
            public void onNext(List<ByteBuffer> buffers) {
                if (result.isDone()) return;
                for (ByteBuffer b : buffers) size += b.remaining();
                if (size > maxBytes) {
                    subscription.cancel();
                    parts.clear();
                    result.completeExceptionally(tooLarge(maxBytes));
                    return;
                }
                parts.addAll(buffers);
            }

            @Override
            public void onError(Throwable t) {
                result.completeExceptionally(t);
            }

            @Override
            public void onComplete() {
                byte[] bytes = new byte[(int) size];
                int at = 0;
                for (ByteBuffer b : parts) {
                    int n = b.remaining();
                    b.get(bytes, at, n);
                    at += n;
                }
                result.complete(bytes);
            }
        });
        return result;
    }

    /** Throws the body away. Cancelling closes an upstream HTTP/1.1 connection, which is the point. */
    public void discard() {
        if (subscribed.get()) {
            Relay r = relay;
            if (r != null) r.cancel();
            return;
        }
        subscribe(new Flow.Subscriber<>() {
            @Override
            public void onSubscribe(Flow.Subscription s) {
                s.cancel();
            }

            @Override
            public void onNext(List<ByteBuffer> item) {}

            @Override
            public void onError(Throwable t) {}

            @Override
            public void onComplete() {}
        });
    }

    /**
     * Stops the body with {@code cause}: the upstream subscription is cancelled and the consumer,
     * now or when it subscribes, receives {@code onError(cause)}. Used by deadlines, since a
     * {@link java.net.http.HttpRequest#timeout} does not cover reading the body.
     */
    public void abort(Throwable cause) {
        abortedWith = cause;
        Relay r = relay;
        if (r != null) r.abort(cause);
    }

    private static FetchException tooLarge(long maxBytes) {
        return new FetchException(ErrorType.TOO_LARGE, "response body exceeds " + maxBytes + " bytes");
    }

    private void runFinishers() {
        Runnable hook;
        while ((hook = finishers.poll()) != null) {
            try {
                hook.run();
            } catch (RuntimeException e) {
                // A finisher releases resources; one failing must not keep the others from running.
                System.getLogger(ResponseBody.class.getName())
                        .log(System.Logger.Level.WARNING, "response body finisher failed", e);
            }
        }
    }

    private void finish() {
        finished.set(true);
        runFinishers();
    }

    /**
     * Sits between the source and the consumer: passes data through, serialises the consumer's
     * signals against a concurrent {@link #abort}, and runs the finishers on every way out.
     */
    private final class Relay implements Flow.Subscriber<List<ByteBuffer>>, Flow.Subscription {
        private final Flow.Subscriber<? super List<ByteBuffer>> downstream;
        private Flow.Subscription upstream;
        private boolean done;

        Relay(Flow.Subscriber<? super List<ByteBuffer>> downstream) {
            this.downstream = downstream;
        }

        @Override
        public void onSubscribe(Flow.Subscription subscription) {
            synchronized (this) {
                upstream = subscription;
            }
            downstream.onSubscribe(this);
            // An abort that arrived before the source subscribed us could not cancel anything yet.
            Throwable aborted = abortedWith;
            if (aborted != null) abort(aborted);
        }

        @Override
        public void onNext(List<ByteBuffer> item) {
            synchronized (this) {
                if (done) return;
            }
            downstream.onNext(item);
        }

        @Override
        public void onError(Throwable throwable) {
            synchronized (this) {
                if (done) return;
                done = true;
            }
            finish();
            downstream.onError(throwable);
        }

        @Override
        public void onComplete() {
            synchronized (this) {
                if (done) return;
                done = true;
            }
            finish();
            downstream.onComplete();
        }

        @Override
        public void request(long n) {
            Flow.Subscription s;
            synchronized (this) {
                if (done) return;
                s = upstream;
            }
            s.request(n);
        }

        @Override
        public void cancel() {
            Flow.Subscription s;
            synchronized (this) {
                if (done) return;
                done = true;
                s = upstream;
            }
            if (s != null) s.cancel();
            finish();
        }

        void abort(Throwable cause) {
            Flow.Subscription s;
            synchronized (this) {
                if (done || upstream == null) return;
                done = true;
                s = upstream;
            }
            s.cancel();
            finish();
            downstream.onError(cause);
        }
    }

    /** Publishes one in-memory buffer. */
    private record BytesPublisher(byte[] bytes) implements Flow.Publisher<List<ByteBuffer>> {
        @Override
        public void subscribe(Flow.Subscriber<? super List<ByteBuffer>> subscriber) {
            subscriber.onSubscribe(new Flow.Subscription() {
                private final AtomicBoolean sent = new AtomicBoolean();

                @Override
                public void request(long n) {
                    if (n > 0 && sent.compareAndSet(false, true)) {
                        if (bytes.length > 0)
                            subscriber.onNext(List.of(ByteBuffer.wrap(bytes).asReadOnlyBuffer()));
                        subscriber.onComplete();
                    }
                }

                @Override
                public void cancel() {
                    sent.set(true);
                }
            });
        }
    }
}
