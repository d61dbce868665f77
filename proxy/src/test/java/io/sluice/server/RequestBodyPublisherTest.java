package io.sluice.server;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatCode;

import io.sluice.fetch.ErrorType;
import io.sluice.fetch.FetchException;
import io.undertow.Undertow;
import java.net.InetSocketAddress;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.ByteBuffer;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.Flow;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.xnio.XnioIoThread;

/** A client's request body read through {@link RequestBodyPublisher} from a real Undertow server on port 0. */
class RequestBodyPublisherTest {
    private Undertow server;

    @AfterEach
    void stop() {
        if (server != null) server.stop();
    }

    /**
     * The upstream answered at the request's head and the answer went out whole before the body was asked
     * for (an origin that does not read the body, a fast one over HTTP/2): the exchange ended, and Undertow
     * took the request channel to drain the body. The subscriber then hears that the body is gone; it was
     * told nothing (Undertow's receiver refused to be made, in a task that failed on the IO thread).
     */
    @Test
    void aBodyAskedForAfterTheExchangeEndedFailsItsSubscriberInsteadOfLeavingItWaiting() throws Exception {
        CompletableFuture<Throwable> signal = new CompletableFuture<>();
        server = Undertow.builder()
                .addHttpListener(0, "127.0.0.1")
                .setHandler(exchange -> {
                    var body = new RequestBodyPublisher(exchange, 1 << 20);
                    exchange.setStatusCode(204);
                    exchange.endExchange();
                    body.subscribe(recording(signal));
                })
                .build();
        server.start();
        int port = ((InetSocketAddress) server.getListenerInfo().get(0).getAddress()).getPort();

        HttpResponse<Void> answer = HttpClient.newHttpClient()
                .send(
                        HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + port + "/"))
                                .POST(HttpRequest.BodyPublishers.ofString("x".repeat(1024)))
                                .build(),
                        HttpResponse.BodyHandlers.discarding());

        assertThat(answer.statusCode()).isEqualTo(204);
        Throwable error = signal.get(10, TimeUnit.SECONDS);
        assertThat(error).isInstanceOf(FetchException.class);
        assertThat(((FetchException) error).type()).isEqualTo(ErrorType.CANCELLED);
        assertThat(error).hasMessageContaining("request body");
    }

    /**
     * The exchange's IO thread stopped (Sluice shutting down) while a body was still being written
     * upstream: an HTTP/2 connection closing then wakes every stream's writer, which cancels its body. The
     * cancel (and a request) cannot be queued on a stopped thread; XNIO's refusal used to escape into the
     * listener that woke the writer, an ERROR stack trace per stream (9,313 at one shutdown under load).
     */
    @Test
    void aSubscriptionWhoseIoThreadStoppedIsCancelledAndAskedQuietly() throws Exception {
        CompletableFuture<Flow.Subscription> subscribed = new CompletableFuture<>();
        server = Undertow.builder()
                .addHttpListener(0, "127.0.0.1")
                .setHandler(exchange -> {
                    var body = new RequestBodyPublisher(exchange, 1 << 20);
                    exchange.dispatch(io.undertow.util.SameThreadExecutor.INSTANCE, () -> {});
                    body.subscribe(new Flow.Subscriber<>() {
                        @Override
                        public void onSubscribe(Flow.Subscription subscription) {
                            subscribed.complete(subscription);
                        }

                        @Override
                        public void onNext(ByteBuffer item) {}

                        @Override
                        public void onError(Throwable throwable) {}

                        @Override
                        public void onComplete() {}
                    });
                })
                .build();
        server.start();
        int port = ((InetSocketAddress) server.getListenerInfo().get(0).getAddress()).getPort();
        HttpClient.newHttpClient()
                .sendAsync(
                        HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + port + "/"))
                                .POST(HttpRequest.BodyPublishers.ofString("x".repeat(1024)))
                                .build(),
                        HttpResponse.BodyHandlers.discarding());
        Flow.Subscription subscription = subscribed.get(10, TimeUnit.SECONDS);
        XnioIoThread thread = server.getWorker().getIoThread(0);

        server.stop();
        thread.join(10_000);
        assertThat(thread.isAlive()).isFalse();

        assertThatCode(() -> subscription.request(1)).doesNotThrowAnyException();
        assertThatCode(subscription::cancel).doesNotThrowAnyException();
    }

    /** Completes {@code signal} with the first thing it hears: an error, or an AssertionError for data or the end. */
    private static Flow.Subscriber<ByteBuffer> recording(CompletableFuture<Throwable> signal) {
        return new Flow.Subscriber<>() {
            @Override
            public void onSubscribe(Flow.Subscription subscription) {
                subscription.request(1);
            }

            @Override
            public void onNext(ByteBuffer item) {
                signal.complete(new AssertionError("a chunk of a body Undertow drained: " + item.remaining()));
            }

            @Override
            public void onError(Throwable throwable) {
                signal.complete(throwable);
            }

            @Override
            public void onComplete() {
                signal.complete(new AssertionError("completed"));
            }
        };
    }
}
