package io.sluice.send;

import io.sluice.config.Policy;
import io.sluice.config.UpstreamTls;
import io.sluice.fetch.Call;
import io.sluice.fetch.FetchException;
import io.sluice.fetch.FetchRequest;
import io.sluice.fetch.FetchResponse;
import io.sluice.guard.AddressGuard;
import io.sluice.time.TimeSource;
import io.sluice.upstream.Upstream;
import java.net.InetAddress;
import java.net.URI;
import java.util.concurrent.CompletableFuture;
import java.util.function.BiPredicate;
import java.util.function.Consumer;

/**
 * Over one of Undertow's clients on the IO threads ({@link Http1Transport}, {@link Http2Transport}):
 * the destination is checked by the address guard and connected to as checked, so no pin is needed.
 */
final class UndertowSend implements Transport {
    /** A transport's own send, to an address the guard has checked. */
    interface Sender {
        CompletableFuture<FetchResponse> send(
                FetchRequest request,
                Policy policy,
                InetAddress address,
                Call call,
                ResponseHeaderLimits headerLimits,
                Consumer<FetchException> bodyProtocolError);
    }

    private final BiPredicate<URI, UpstreamTls> carries;
    private final Sender sender;
    private final AddressGuard guard;
    private final TimeSource time;
    private final ResponseHeaderLimits headerLimits;
    private final ProtocolErrorLog protocolErrors;

    UndertowSend(
            BiPredicate<URI, UpstreamTls> carries,
            Sender sender,
            AddressGuard guard,
            TimeSource time,
            ResponseHeaderLimits headerLimits,
            ProtocolErrorLog protocolErrors) {
        this.carries = carries;
        this.sender = sender;
        this.guard = guard;
        this.time = time;
        this.headerLimits = headerLimits;
        this.protocolErrors = protocolErrors;
    }

    @Override
    public boolean carries(URI uri, Policy policy) {
        return carries.test(uri, policy.tls());
    }

    @Override
    public CompletableFuture<FetchResponse> send(Call call, FetchRequest request, Upstream upstream, int attempt) {
        Policy policy = upstream.policy();
        // Connected to the checked address itself, so no pin: with the name's answer kept, this
        // goes on without leaving the IO thread.
        return guard.admitDirect(request.uri(), policy.allowPrivate()).thenCompose(address -> {
            long sentAt = time.nanoTime();
            call.events().attemptStart(call, attempt);
            return sender.send(
                            request,
                            policy,
                            address,
                            call,
                            headerLimits,
                            bad -> protocolErrors.report(call, upstream.name(), bad))
                    .whenComplete((response, error) -> {
                        call.trace().addUpstream(time.nanoTime() - sentAt);
                        call.events().attemptEnd(call, attempt, response == null ? 0 : response.status(), error);
                        if (error != null) protocolErrors.report(call, upstream.name(), error);
                    });
        });
    }
}
