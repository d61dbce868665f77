package io.sluice.guard;

import java.net.InetAddress;
import java.util.List;
import java.util.concurrent.atomic.AtomicBoolean;

/** One holder's share of a host's entry in the {@link PinTable}. */
final class HostPin implements Pin {

    private final PinTable pins;
    private final String host;
    private final boolean allowPrivate;
    private final List<InetAddress> addresses;
    private final AtomicBoolean closed = new AtomicBoolean();

    HostPin(PinTable pins, String host, boolean allowPrivate, List<InetAddress> addresses) {
        this.pins = pins;
        this.host = host;
        this.allowPrivate = allowPrivate;
        this.addresses = List.copyOf(addresses);
    }

    @Override
    public List<InetAddress> addresses() {
        return addresses;
    }

    @Override
    public void close() {
        // A second close must not release somebody else's hold on the same host.
        if (closed.compareAndSet(false, true)) {
            pins.release(host, allowPrivate);
        }
    }

    @Override
    public String toString() {
        return "Pin[" + host + " -> " + addresses.stream().map(AddressText::of).toList()
                + (closed.get() ? ", closed]" : "]");
    }
}
