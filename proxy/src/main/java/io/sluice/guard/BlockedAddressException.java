package io.sluice.guard;

import java.io.IOException;
import java.net.InetAddress;
import java.util.Optional;

/**
 * A request that {@link AddressGuard} refused: a scheme other than http and https, a URI without a
 * host, an ambiguous address literal, or a host whose address class its upstream does not allow. When
 * an address was refused, the parts of the message are also available as values, so that the one
 * place that turns exceptions into {@code blocked} errors can name the upstream too.
 */
public final class BlockedAddressException extends IOException {

    private final String host;
    private final InetAddress address;
    private final AddressClass addressClass;

    public BlockedAddressException(String message) {
        this(message, null, null, null);
    }

    BlockedAddressException(String message, String host, InetAddress address, AddressClass addressClass) {
        super(message);
        this.host = host;
        this.address = address;
        this.addressClass = addressClass;
    }

    /** The host as written in the URI, when the refusal concerned a host. */
    public Optional<String> host() {
        return Optional.ofNullable(host);
    }

    /** The refused address, when an address was refused. */
    public Optional<InetAddress> address() {
        return Optional.ofNullable(address);
    }

    /** The class of the refused address, when an address was refused. */
    public Optional<AddressClass> addressClass() {
        return Optional.ofNullable(addressClass);
    }
}
