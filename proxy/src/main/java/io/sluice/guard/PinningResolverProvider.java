package io.sluice.guard;

import java.net.spi.InetAddressResolver;
import java.net.spi.InetAddressResolverProvider;

/**
 * Installs the pin table into the JDK's name resolution. Listed in
 * {@code META-INF/services/java.net.spi.InetAddressResolverProvider}, so the JDK loads it on the first
 * name lookup in the process; it is public only because {@link java.util.ServiceLoader} requires it.
 * Not for direct use: take pins through {@link AddressGuard#admit}.
 */
public final class PinningResolverProvider extends InetAddressResolverProvider {

    @Override
    public InetAddressResolver get(Configuration configuration) {
        InetAddressResolver builtin = configuration.builtinResolver();
        SystemResolver.useBuiltin(builtin);
        return new PinnedResolver(PinTable.GLOBAL, builtin);
    }

    @Override
    public String name() {
        return "sluice-pinning";
    }
}
