package io.sluice.cache;

import io.sluice.fetch.ResponseBody;
import java.nio.ByteBuffer;
import java.util.List;
import java.util.concurrent.Flow;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.function.Consumer;

/**
 * A response body that streams to its client unchanged while an {@link Accumulator} copies it;
 * when the last byte has passed, {@code stored} gets the whole body, and on any other ending
 * (too large, over budget, an error, the client cancelling) {@code abandoned} runs instead. Either
 * runs once. The client's pace, backpressure and cancellation pass straight through.
 */
final class Tee {
    private Tee() {}

    static ResponseBody of(ResponseBody source, Accumulator accumulator, Consumer<byte[]> stored, Runnable abandoned) {
        AtomicBoolean ended = new AtomicBoolean();
        Runnable giveUp = () -> {
            if (ended.compareAndSet(false, true)) {
                accumulator.abandon();
                abandoned.run();
            }
        };
        Flow.Publisher<List<ByteBuffer>> publisher = downstream -> source.subscribe(new Flow.Subscriber<>() {
            @Override
            public void onSubscribe(Flow.Subscription subscription) {
                downstream.onSubscribe(new Flow.Subscription() {
                    @Override
                    public void request(long n) {
                        subscription.request(n);
                    }

                    @Override
                    public void cancel() {
                        subscription.cancel();
                        giveUp.run();
                    }
                });
            }

            @Override
            public void onNext(List<ByteBuffer> item) {
                if (!ended.get() && !accumulator.offer(item)) giveUp.run();
                downstream.onNext(item);
            }

            @Override
            public void onError(Throwable throwable) {
                giveUp.run();
                downstream.onError(throwable);
            }

            @Override
            public void onComplete() {
                // Stored before the client hears the end, so its next request already hits.
                if (ended.compareAndSet(false, true)) {
                    byte[] body = accumulator.finish();
                    try {
                        stored.accept(body);
                    } catch (RuntimeException e) {
                        System.getLogger(Tee.class.getName())
                                .log(System.Logger.Level.WARNING, "storing a response failed", e);
                    }
                }
                downstream.onComplete();
            }
        });
        return ResponseBody.streaming(publisher, source.contentLength());
    }
}
