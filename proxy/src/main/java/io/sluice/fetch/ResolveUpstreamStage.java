package io.sluice.fetch;

import io.sluice.upstream.Upstream;
import io.sluice.upstream.Upstreams;
import java.util.concurrent.CompletableFuture;

/**
 * Resolves the upstream that governs the hop, once: the one the request carries (the route form's,
 * which its front door looked up already to find the {@code base_url}, so a name is looked up once),
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
        Upstream upstream = request.upstream().orElseGet(() -> upstreams.resolve(request.uri()));
        // The pipeline's own chain is the only one there is; handing the upstream down is its job.
        return ((Pipeline.RealChain) chain).proceed(request, upstream);
    }

    @Override
    public String toString() {
        return "ResolveUpstream";
    }
}
