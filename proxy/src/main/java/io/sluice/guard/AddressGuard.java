package io.sluice.guard;

import java.net.InetAddress;
import java.net.URI;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.Executor;

// TEMPORARY stand-in until the guard branch lands; replaced wholesale.
public final class AddressGuard {
    private final Executor executor;

    public AddressGuard(Executor lookupExecutor) {
        this.executor = lookupExecutor;
    }

    public CompletableFuture<Pin> admit(URI uri, boolean allowPrivate) {
        return CompletableFuture.supplyAsync(
                () -> {
                    try {
                        String scheme = uri.getScheme();
                        if (!"http".equals(scheme) && !"https".equals(scheme))
                            throw new BlockedAddressException("unsupported scheme \"" + scheme + "\"");
                        InetAddress[] all = InetAddress.getAllByName(uri.getHost());
                        for (InetAddress a : all) {
                            if (!allowPrivate
                                    && (a.isLoopbackAddress() || a.isSiteLocalAddress() || a.isLinkLocalAddress())) {
                                throw new BlockedAddressException(a.getHostAddress() + " is private");
                            }
                        }
                        List<InetAddress> list = List.of(all);
                        return new Pin() {
                            public List<InetAddress> addresses() {
                                return list;
                            }

                            public void close() {}
                        };
                    } catch (Exception e) {
                        throw new java.util.concurrent.CompletionException(e);
                    }
                },
                executor);
    }
}
