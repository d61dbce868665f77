package io.sluice.fetch;

import io.sluice.time.TimeSource;
import java.util.concurrent.CompletableFuture;

/**
 * Bounds the whole call by {@code timeouts.total} (or the client's shorter {@code timeout_ms}),
 * queueing, retries and the body included. {@link java.net.http.HttpRequest#timeout} covers only
 * the wait for headers, so when the deadline passes this stage fails the call and aborts a body
 * that is still streaming. The deadline is the call's, not the hop's: it is armed once, on the first
 * hop, and a redirect hop runs within what is left of it.
 */
public final class DeadlineStage implements Stage {
    private final TimeSource time;

    public DeadlineStage(TimeSource time) {
        this.time = time;
    }

    @Override
    public CompletableFuture<FetchResponse> apply(Chain chain) {
        Call call = chain.call();
        call.armDeadline(
                chain.request()
                        .timeoutWithin(chain.upstream().policy().timeouts().total()),
                time);

        CompletableFuture<FetchResponse> result = new CompletableFuture<>();
        call.onCancel(result::completeExceptionally);
        chain.proceed(chain.request()).whenComplete((response, error) -> {
            if (error != null) {
                result.completeExceptionally(error);
                return;
            }
            call.onCancel(response.body()::abort);
            if (!result.complete(response)) response.body().discard();
        });
        return result;
    }

    @Override
    public String toString() {
        return "Deadline";
    }
}
