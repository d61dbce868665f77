package io.sluice.guard;

import java.net.InetAddress;
import java.net.UnknownHostException;
import java.net.spi.InetAddressResolver;
import java.net.spi.InetAddressResolver.LookupPolicy;
import java.util.List;

/**
 * DNS as the guard asks it: the JDK's built-in resolver, straight, so the check sees a fresh answer
 * rather than the pinned one or the JVM's cache. Until the JDK has loaded {@link PinningResolverProvider}
 * (it does so on the first name lookup, or never when the services file is missing or
 * {@code jdk.net.hosts.file} is set) there is no handle on the built-in resolver, and the guard asks
 * {@link InetAddress} instead; admission checks the JVM's answer either way.
 */
final class SystemResolver implements AddressGuard.Resolver {

    static final SystemResolver INSTANCE = new SystemResolver();

    // Both families, whatever the JVM prefers: the pin must hold every address the JDK might pick.
    private static final LookupPolicy BOTH_FAMILIES = LookupPolicy.of(LookupPolicy.IPV4 | LookupPolicy.IPV6);

    private static volatile InetAddressResolver builtin;

    private SystemResolver() {}

    static void useBuiltin(InetAddressResolver resolver) {
        builtin = resolver;
    }

    /** Whether the JDK has loaded {@link PinningResolverProvider}, i.e. whether pins reach connections. */
    static boolean pinningInstalled() {
        return builtin != null;
    }

    @Override
    public List<InetAddress> lookup(String host) throws UnknownHostException {
        InetAddressResolver resolver = builtin;
        if (resolver == null) {
            return List.of(InetAddress.getAllByName(host));
        }
        return resolver.lookupByName(host, BOTH_FAMILIES).toList();
    }

    @Override
    public String toString() {
        return "SystemResolver";
    }
}
