package io.sluice.cache;

import io.sluice.fetch.FetchResponse;
import io.sluice.fetch.ResponseBody;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.concurrent.Flow;
import java.util.concurrent.atomic.AtomicInteger;

/** Test bodies. */
final class Bodies {
    private Bodies() {}

    /** A body of unknown length that delivers {@code chunks} one per request(1). */
    static ResponseBody chunked(List<String> chunks) {
        Flow.Publisher<List<ByteBuffer>> publisher = subscriber -> subscriber.onSubscribe(new Flow.Subscription() {
            private final AtomicInteger next = new AtomicInteger();
            private volatile boolean cancelled;

            @Override
            public void request(long n) {
                for (long i = 0; i < n && !cancelled; i++) {
                    int at = next.getAndIncrement();
                    if (at < chunks.size()) {
                        subscriber.onNext(List.of(ByteBuffer.wrap(chunks.get(at).getBytes(StandardCharsets.UTF_8))));
                    } else if (at == chunks.size()) {
                        subscriber.onComplete();
                        return;
                    } else {
                        return;
                    }
                }
            }

            @Override
            public void cancel() {
                cancelled = true;
            }
        });
        return ResponseBody.streaming(publisher, -1);
    }

    static String text(FetchResponse response) {
        return new String(response.body().collect(Long.MAX_VALUE).join(), StandardCharsets.UTF_8);
    }
}
