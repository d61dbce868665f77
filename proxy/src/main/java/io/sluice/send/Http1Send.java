package io.sluice.send;

import io.sluice.config.Policy;
import io.sluice.fetch.Call;
import io.sluice.fetch.FetchRequest;
import io.sluice.fetch.FetchResponse;
import io.sluice.guard.AddressGuard;
import io.sluice.time.TimeSource;
import java.net.URI;
import java.util.concurrent.CompletableFuture;

/**
 * Over Undertow's HTTP/1.1 client on the IO threads ({@link Http1Transport}): the destination is
 * checked by the address guard and connected to as checked, so no pin is needed.
 */
final class Http1Send implements Transport {
    private final Http1Transport http1;
    private final AddressGuard guard;
    private final TimeSource time;
    private final ResponseHeaderLimits headerLimits;
    private final ProtocolErrorLog protocolErrors;

    Http1Send(
            Http1Transport http1,
            AddressGuard guard,
            TimeSource time,
            ResponseHeaderLimits headerLimits,
            ProtocolErrorLog protocolErrors) {
        this.http1 = http1;
        this.guard = guard;
        this.time = time;
        this.headerLimits = headerLimits;
        this.protocolErrors = protocolErrors;
    }

    /** {@code http://} origins, and {@code https://} ones whose policy does not ask for HTTP/2. */
    @Override
    public boolean carries(URI uri, Policy policy) {
        return http1.carries(uri, policy.tls());
    }

    @Override
    public CompletableFuture<FetchResponse> send(Call call, FetchRequest request, Policy policy, int attempt) {
        // Connected to the checked address itself, so no pin: with the name's answer kept, this
        // goes on without leaving the IO thread.
        return guard.admitDirect(request.uri(), policy.allowPrivate()).thenCompose(address -> {
            long sentAt = time.nanoTime();
            call.events().attemptStart(call, attempt);
            return http1.send(request, policy, address, call, headerLimits, bad -> protocolErrors.report(call, bad))
                    .whenComplete((response, error) -> {
                        call.trace().addUpstream(time.nanoTime() - sentAt);
                        call.events().attemptEnd(call, attempt, response == null ? 0 : response.status(), error);
                        if (error != null) protocolErrors.report(call, error);
                    });
        });
    }
}
