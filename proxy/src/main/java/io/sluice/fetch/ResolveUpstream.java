package io.sluice.fetch;

import io.sluice.upstream.Upstream;
import io.sluice.upstream.Upstreams;
import java.util.concurrent.CompletableFuture;

/** Binds the call to its upstream: the one the route form named, else the most specific match. */
public final class ResolveUpstream implements Stage {
    private final Upstreams upstreams;

    public ResolveUpstream(Upstreams upstreams) {
        this.upstreams = upstreams;
    }

    @Override
    public CompletableFuture<FetchResponse> apply(Chain chain) {
        FetchRequest request = chain.request();
        Upstream upstream = request.upstream().isPresent()
                ? upstreams
                        .get(request.upstream().get())
                        .orElseThrow(() -> new FetchException(
                                ErrorType.INVALID_REQUEST,
                                "unknown upstream \"" + request.upstream().get() + "\""))
                : upstreams.resolve(request.uri());
        chain.call().upstream(upstream);
        return chain.proceed(request);
    }

    @Override
    public String toString() {
        return "ResolveUpstream";
    }
}
