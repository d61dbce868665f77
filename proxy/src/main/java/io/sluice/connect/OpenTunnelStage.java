package io.sluice.connect;

import io.sluice.config.Policy;
import io.sluice.fetch.Call;
import io.sluice.fetch.ErrorType;
import io.sluice.fetch.FetchException;
import io.sluice.fetch.FetchResponse;
import io.sluice.fetch.Fields;
import io.sluice.fetch.ResponseBody;
import io.sluice.fetch.Stage;
import io.sluice.guard.AddressGuard;
import java.io.IOException;
import java.net.ConnectException;
import java.net.InetSocketAddress;
import java.nio.ByteBuffer;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.Flow;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import org.xnio.IoFuture;
import org.xnio.IoUtils;
import org.xnio.OptionMap;
import org.xnio.Options;
import org.xnio.StreamConnection;
import org.xnio.XnioIoThread;
import org.xnio.XnioWorker;

/**
 * The last stage of the tunnel pipeline, in place of {@code SendStage}: checks the destination with the
 * address guard and opens a TCP connection to the checked address within {@code timeouts.connect}.
 * Its "response" is a {@code 200} whose body ends when the tunnel closes, so the concurrency slot the
 * stage above took is held for the tunnel's whole life, as {@code max_concurrency} promises.
 */
public final class OpenTunnelStage implements Stage {
    private final AddressGuard guard;
    private final XnioWorker worker;
    private final Map<Call, Opened> opened = new ConcurrentHashMap<>();

    /** An upstream connection waiting to be joined to its client, and how to say the tunnel ended. */
    record Opened(StreamConnection upstream, Runnable ended) {}

    public OpenTunnelStage(AddressGuard guard, XnioWorker worker) {
        this.guard = guard;
        this.worker = worker;
    }

    @Override
    public CompletableFuture<FetchResponse> apply(Chain chain) {
        Call call = chain.call();
        Policy policy = chain.upstream().policy();
        call.trace().countAttempt();
        call.trace().via("tunnel");
        int port = chain.request().uri().getPort();
        // Connected to the checked address itself, as the Undertow client is: no pin needed.
        return guard.admitDirect(chain.request().uri(), policy.allowPrivate()).thenCompose(address -> {
            return connect(
                    call,
                    new InetSocketAddress(address, port),
                    policy.timeouts().connect().toMillis());
        });
    }

    /** The connection opened for {@code call}, once; null if there is none (the call failed). */
    Opened take(Call call) {
        return opened.remove(call);
    }

    private CompletableFuture<FetchResponse> connect(Call call, InetSocketAddress address, long timeoutMillis) {
        XnioIoThread thread = call.affinity() instanceof XnioIoThread own ? own : worker.getIoThread();
        CompletableFuture<FetchResponse> result = new CompletableFuture<>();
        IoFuture<? extends StreamConnection> connecting =
                thread.openStreamConnection(address, null, OptionMap.create(Options.TCP_NODELAY, true));
        var timer = thread.executeAfter(connecting::cancel, timeoutMillis, TimeUnit.MILLISECONDS);
        call.onCancel(reason -> {
            connecting.cancel();
            result.completeExceptionally(reason);
        });
        connecting.addNotifier(
                (future, ignored) -> {
                    timer.remove();
                    switch (future.getStatus()) {
                        case DONE -> {
                            StreamConnection upstream = result(future);
                            Ended ended = new Ended();
                            if (result.isDone()) {
                                IoUtils.safeClose(upstream);
                                return;
                            }
                            opened.put(call, new Opened(upstream, ended::signal));
                            result.complete(new FetchResponse(
                                    200, Fields.EMPTY, ResponseBody.streaming(ended, -1), call.trace()));
                        }
                        case FAILED -> result.completeExceptionally(failure(future, address));
                        default ->
                            result.completeExceptionally(new FetchException(
                                    ErrorType.TIMEOUT,
                                    "connect to " + address + " timed out after " + timeoutMillis
                                            + " ms (timeouts.connect)"));
                    }
                },
                null);
        return result;
    }

    private static StreamConnection result(IoFuture<? extends StreamConnection> future) {
        try {
            return future.get();
        } catch (IOException e) {
            throw new IllegalStateException("a done future has a result", e);
        }
    }

    private static FetchException failure(IoFuture<? extends StreamConnection> future, InetSocketAddress address) {
        IOException e = future.getException();
        if (e instanceof ConnectException) {
            return new FetchException(ErrorType.CONNECT, "connection to " + address + " failed: " + e.getMessage());
        }
        return new FetchException(ErrorType.CONNECT, "connection to " + address + " failed: " + e);
    }

    /** A body with no bytes that completes when the tunnel closes. */
    private static final class Ended implements Flow.Publisher<List<ByteBuffer>> {
        private final AtomicBoolean ended = new AtomicBoolean();
        private volatile Flow.Subscriber<? super List<ByteBuffer>> subscriber;

        @Override
        public void subscribe(Flow.Subscriber<? super List<ByteBuffer>> s) {
            subscriber = s;
            s.onSubscribe(new Flow.Subscription() {
                @Override
                public void request(long n) {}

                @Override
                public void cancel() {}
            });
            if (ended.get()) s.onComplete();
        }

        void signal() {
            if (!ended.compareAndSet(false, true)) return;
            var s = subscriber;
            if (s != null) s.onComplete();
        }
    }

    @Override
    public String toString() {
        return "OpenTunnel";
    }
}
