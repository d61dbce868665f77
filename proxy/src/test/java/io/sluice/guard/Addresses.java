package io.sluice.guard;

import static org.assertj.core.api.Assertions.assertThat;

import java.net.InetAddress;
import java.net.UnknownHostException;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;

/** Small helpers shared by the guard's tests. */
final class Addresses {
    private Addresses() {}

    /** Parses address literals only; the JDK never consults DNS for these. */
    static InetAddress of(String literal) {
        try {
            return InetAddress.getByName(literal.indexOf(':') >= 0 ? "[" + literal + "]" : literal);
        } catch (UnknownHostException e) {
            throw new IllegalArgumentException("not an address literal: " + literal, e);
        }
    }

    static List<InetAddress> list(String... literals) {
        List<InetAddress> addresses = new ArrayList<>();
        for (String literal : literals) {
            addresses.add(of(literal));
        }
        return List.copyOf(addresses);
    }

    static List<String> texts(List<InetAddress> addresses) {
        return addresses.stream().map(InetAddress::getHostAddress).toList();
    }

    static Pin admitted(CompletableFuture<Pin> admission) throws Exception {
        return admission.get(5, TimeUnit.SECONDS);
    }

    static Throwable failure(CompletableFuture<Pin> admission) throws InterruptedException, TimeoutException {
        try {
            Pin pin = admission.get(5, TimeUnit.SECONDS);
            pin.close();
            throw new AssertionError("expected admission to fail, but it pinned " + pin);
        } catch (ExecutionException e) {
            return e.getCause();
        }
    }

    static BlockedAddressException blocked(CompletableFuture<Pin> admission) throws Exception {
        Throwable failure = failure(admission);
        assertThat(failure).isInstanceOf(BlockedAddressException.class);
        return (BlockedAddressException) failure;
    }
}
