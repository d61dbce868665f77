package io.sluice.fetch;

import java.util.concurrent.CompletableFuture;

/**
 * One step of the pipeline (OkHttp's interceptor shape): it may answer itself, or change the
 * request and call {@link Chain#proceed} (several times, for retries and redirects). A stage fails
 * its future with {@link FetchException}; it never blocks.
 */
public interface Stage {
    CompletableFuture<FetchResponse> apply(Chain chain);

    /** The rest of the pipeline, as seen from one stage. */
    interface Chain {
        Call call();

        FetchRequest request();

        /** Runs the stages after this one with {@code request}. */
        CompletableFuture<FetchResponse> proceed(FetchRequest request);
    }
}
