package io.sluice.send;

import io.sluice.fetch.FetchResponse;
import io.sluice.fetch.Stage;
import io.sluice.guard.AddressGuard;
import java.io.IOException;
import java.util.concurrent.CompletableFuture;

/**
 * Refuses a request to an IP literal the guard blocks (metadata, private, loopback) before it
 * spends a token, a retry or a queue position: decided without DNS, on the caller's thread, so a
 * batch of 100,000 such items is answered at parsing speed rather than at the upstream's rate
 * limit. Names are left to {@link SendStage}, which checks every address they resolve to.
 */
public final class RefuseEarlyStage implements Stage {
    private final AddressGuard guard;

    public RefuseEarlyStage(AddressGuard guard) {
        this.guard = guard;
    }

    @Override
    public CompletableFuture<FetchResponse> apply(Chain chain) {
        String host = chain.request().uri().getHost();
        if (host != null && !host.isEmpty() && (host.charAt(0) == '[' || Character.isDigit(host.charAt(0)))) {
            IOException refused = guard.refusal(
                    chain.request().uri(), chain.upstream().policy().allowPrivate());
            if (refused != null) return CompletableFuture.failedFuture(refused);
        }
        return chain.proceed(chain.request());
    }

    @Override
    public String toString() {
        return "RefuseEarly";
    }
}
