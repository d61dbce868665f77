package io.sluice.send;

import io.sluice.config.Policy;
import io.sluice.fetch.Call;
import io.sluice.fetch.FetchRequest;
import io.sluice.fetch.FetchResponse;
import io.sluice.upstream.Upstream;
import java.net.URI;
import java.util.concurrent.CompletableFuture;

/**
 * One way to carry a request to its origin: it checks the destination with the address guard, sends,
 * and completes with the response as soon as its head has arrived (the body streams after),
 * reporting the attempt to the call's listener and the time spent upstream to its trace.
 * {@link SendStage} picks one per request.
 */
interface Transport {
    /** Whether this transport speaks to {@code uri} under {@code policy}'s TLS settings. */
    boolean carries(URI uri, Policy policy);

    /**
     * Sends {@code request} as attempt {@code attempt} of {@code call}, under the policy of
     * {@code upstream}, the one the chain handed down for this hop (its name goes in the
     * protocol-error log).
     */
    CompletableFuture<FetchResponse> send(Call call, FetchRequest request, Upstream upstream, int attempt);
}
