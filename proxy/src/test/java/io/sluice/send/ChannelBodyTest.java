package io.sluice.send;

import static org.assertj.core.api.Assertions.assertThat;

import io.sluice.testing.IoWorkers;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.Flow;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.xnio.ChannelPipe;
import org.xnio.XnioIoThread;
import org.xnio.XnioWorker;
import org.xnio.channels.StreamSinkChannel;
import org.xnio.channels.StreamSourceChannel;

/** {@link ChannelBody} over a real XNIO pipe, on its IO thread. */
class ChannelBodyTest {
    private final XnioWorker worker = IoWorkers.start("channel-body-test", 1);

    @AfterEach
    void stop() {
        worker.shutdownNow();
    }

    /**
     * An exchange that learns its body cannot complete (an HTTP/2 stream the origin reset mid-body) ends
     * it at once: the exchange is told, and whoever subscribes afterwards gets the failure, not a wait.
     */
    @Test
    void aBodyAbortedBeforeAnyoneSubscribedEndsAndFailsItsLaterSubscriber() throws Exception {
        ChannelPipe<StreamSourceChannel, StreamSinkChannel> pipe = worker.createHalfDuplexPipe();
        XnioIoThread thread = pipe.getLeftSide().getIoThread();
        List<Boolean> ended = new ArrayList<>();
        List<String> seen = new ArrayList<>();
        ChannelBody body = new ChannelBody(pipe.getLeftSide(), thread, 1_000, ended::add);

        IoWorkers.on(thread, () -> {
            body.abort(new IOException("reset mid-body"));
            body.abort(new IOException("again"));
            body.subscribe(new Flow.Subscriber<>() {
                @Override
                public void onSubscribe(Flow.Subscription subscription) {
                    seen.add("subscribed");
                    subscription.request(1);
                }

                @Override
                public void onNext(List<ByteBuffer> item) {
                    seen.add("data");
                }

                @Override
                public void onError(Throwable failure) {
                    seen.add("failed: " + failure.getMessage());
                }

                @Override
                public void onComplete() {
                    seen.add("complete");
                }
            });
            return null;
        });

        assertThat(ended).containsExactly(false);
        assertThat(seen).containsExactly("subscribed", "failed: reset mid-body");
    }
}
