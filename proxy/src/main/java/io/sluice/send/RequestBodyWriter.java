package io.sluice.send;

import io.sluice.fetch.Call;
import io.sluice.fetch.FetchRequest;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.util.concurrent.Flow;
import org.xnio.XnioIoThread;
import org.xnio.channels.StreamSinkChannel;

/**
 * Streams a request body into the request channel of one of Undertow's client exchanges (an HTTP/1.1
 * connection, or one HTTP/2 stream), one buffer in flight: the next is asked for once it is written,
 * so a slow upstream pushes back on the client. Channel work runs on the exchange's IO thread.
 */
final class RequestBodyWriter implements Flow.Subscriber<ByteBuffer> {
    /** How the exchange hears that the body was written whole (and flushed), or failed. */
    interface Outcome {
        void written();

        void failed(Throwable error);
    }

    private final Call call;
    private final StreamSinkChannel channel;
    private final XnioIoThread thread;
    private final Outcome outcome;
    private Flow.Subscription subscription;
    private ByteBuffer pending;
    private boolean completed;

    private RequestBodyWriter(Call call, StreamSinkChannel channel, XnioIoThread thread, Outcome outcome) {
        this.call = call;
        this.channel = channel;
        this.thread = thread;
        this.outcome = outcome;
    }

    /**
     * Writes {@code request}'s body to {@code channel}. An empty body is written at once: the client
     * ended the request itself when its head said there is no content.
     */
    static void write(
            FetchRequest request, Call call, StreamSinkChannel channel, XnioIoThread thread, Outcome outcome) {
        if (request.body().length() == 0) {
            outcome.written();
            return;
        }
        request.body().publisher().subscribe(new RequestBodyWriter(call, channel, thread, outcome));
    }

    @Override
    public void onSubscribe(Flow.Subscription s) {
        subscription = s;
        call.onCancel(reason -> s.cancel());
        s.request(1);
    }

    @Override
    public void onNext(ByteBuffer buffer) {
        onThread(() -> {
            pending = buffer;
            write();
        });
    }

    @Override
    public void onError(Throwable t) {
        onThread(() -> outcome.failed(t));
    }

    @Override
    public void onComplete() {
        onThread(() -> {
            completed = true;
            if (pending == null) shutdown();
        });
    }

    private void write() {
        try {
            while (pending.hasRemaining()) {
                if (channel.write(pending) == 0) {
                    channel.getWriteSetter().set(ch -> {
                        ch.suspendWrites();
                        // A TLS conduit wakes the listener for its own reasons too, the chunk written by then.
                        if (pending != null) write();
                    });
                    channel.resumeWrites();
                    return;
                }
            }
        } catch (IOException e) {
            subscription.cancel();
            outcome.failed(e);
            return;
        }
        pending = null;
        if (completed) {
            shutdown();
        } else {
            subscription.request(1);
        }
    }

    private void shutdown() {
        try {
            channel.shutdownWrites();
            if (channel.flush()) {
                outcome.written();
                return;
            }
            channel.getWriteSetter().set(ch -> {
                try {
                    if (ch.flush()) {
                        ch.suspendWrites();
                        outcome.written();
                    }
                } catch (IOException e) {
                    outcome.failed(e);
                }
            });
            channel.resumeWrites();
        } catch (IOException e) {
            outcome.failed(e);
        }
    }

    private void onThread(Runnable task) {
        IoThreads.run(thread, task);
    }
}
