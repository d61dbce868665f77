package io.sluice.fetch;

import io.sluice.upstream.Upstream;
import io.sluice.upstream.Upstreams;
import java.util.concurrent.CompletableFuture;

/**
 * Resolves the upstream that governs the hop, once: the one the route form or a batch item named,
 * else the most specific match of the request's origin. The stages after it read it from
 * {@link Stage.Chain#upstream}.
 */
public final class ResolveUpstreamStage implements Stage {
    private final Upstreams upstreams;

    public ResolveUpstreamStage(Upstreams upstreams) {
        this.upstreams = upstreams;
    }

    @Override
    public CompletableFuture<FetchResponse> apply(Chain chain) {
        FetchRequest request = chain.request();
        Upstream upstream = request.upstream().isPresent()
                ? upstreams
                        .get(request.upstream().get())
                        .orElseThrow(() ->
                                new UnknownUpstreamException(request.upstream().get(), ""))
                : upstreams.resolve(request.uri());
        // The pipeline's own chain is the only one there is; handing the upstream down is its job.
        return ((Pipeline.RealChain) chain).proceed(request, upstream);
    }

    @Override
    public String toString() {
        return "ResolveUpstream";
    }
}
