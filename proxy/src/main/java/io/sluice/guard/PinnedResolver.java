package io.sluice.guard;

import java.net.Inet4Address;
import java.net.Inet6Address;
import java.net.InetAddress;
import java.net.UnknownHostException;
import java.net.spi.InetAddressResolver;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.stream.Stream;

/**
 * The resolver the JDK uses once {@link PinningResolverProvider} is installed. It refuses nothing:
 * other code in the process (a Redis client, say) may legitimately reach private addresses, so a host
 * nobody has pinned is passed to the built-in resolver untouched.
 */
final class PinnedResolver implements InetAddressResolver {

    private final PinTable pins;
    private final InetAddressResolver builtin;

    PinnedResolver(PinTable pins, InetAddressResolver builtin) {
        this.pins = pins;
        this.builtin = builtin;
    }

    @Override
    public Stream<InetAddress> lookupByName(String host, LookupPolicy policy) throws UnknownHostException {
        List<InetAddress> pinned = pins.pinned(host);
        if (pinned == null) {
            return builtin.lookupByName(host, policy);
        }
        List<InetAddress> answer = select(pinned, policy.characteristics());
        if (answer.isEmpty()) {
            throw new UnknownHostException(host + ": no pinned address of the address family asked for");
        }
        return answer.stream();
    }

    @Override
    public String lookupByAddress(byte[] address) throws UnknownHostException {
        return builtin.lookupByAddress(address);
    }

    @Override
    public String toString() {
        return "PinnedResolver[builtin=" + builtin + "]";
    }

    /** Honours the family and ordering the JDK asks for, as the built-in resolver would. */
    private static List<InetAddress> select(List<InetAddress> pinned, int characteristics) {
        boolean v4 = (characteristics & LookupPolicy.IPV4) != 0;
        boolean v6 = (characteristics & LookupPolicy.IPV6) != 0;
        List<InetAddress> answer = new ArrayList<>(pinned.size());
        for (InetAddress address : pinned) {
            if (address instanceof Inet4Address ? v4 : v6) {
                answer.add(address);
            }
        }
        if ((characteristics & LookupPolicy.IPV4_FIRST) != 0) {
            answer.sort(Comparator.comparing(address -> !(address instanceof Inet4Address)));
        } else if ((characteristics & LookupPolicy.IPV6_FIRST) != 0) {
            answer.sort(Comparator.comparing(address -> !(address instanceof Inet6Address)));
        }
        return answer;
    }
}
