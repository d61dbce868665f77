package io.sluice.fetch;

import io.sluice.upstream.Upstream;
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

        /**
         * The upstream that governs this hop, resolved once by {@link ResolveUpstreamStage} and handed
         * down the chain to every stage after it; null in the stages before it. A redirect hop, which
         * may go to another origin, is resolved again.
         */
        Upstream upstream();

        /** Runs the stages after this one with {@code request}. */
        CompletableFuture<FetchResponse> proceed(FetchRequest request);
    }
}
