package io.sluice.guard;

import java.net.InetAddress;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.ConcurrentHashMap;

/**
 * The pinned answers, one per host, shared by every {@link AddressGuard} and the JDK's resolver.
 *
 * <p>It is a static singleton because the JDK instantiates {@link PinningResolverProvider} itself,
 * through {@link java.util.ServiceLoader}, and offers no way to hand it an object; the resolver is
 * process-wide anyway, so one table per process is what it means.
 *
 * <p>Several requests may hold a host at once, each checked under its own upstream's policy, and the
 * JDK gives all of them one answer. So the answer served must be acceptable to every holder: a newer
 * checked answer replaces the pinned one (keeping the pin as fresh as DNS under continuous traffic)
 * unless it contains addresses that a holder without {@code allow_private} may not reach, in which
 * case the newcomer, who allows private addresses and so accepts anything, shares the current answer.
 */
final class PinTable {

    static final PinTable GLOBAL = new PinTable();

    private record Entry(List<InetAddress> addresses, int holders, int strictHolders) {}

    private final ConcurrentHashMap<String, Entry> entries = new ConcurrentHashMap<>();

    /** Adds a holder for {@code host}; {@code checked} must already satisfy {@code allowPrivate}. */
    void hold(String host, List<InetAddress> checked, boolean allowPrivate) {
        int strict = allowPrivate ? 0 : 1;
        entries.compute(key(host), (key, entry) -> {
            if (entry == null) {
                return new Entry(checked, 1, strict);
            }
            boolean acceptableToAll = entry.strictHolders() == 0 || allPublic(checked);
            return new Entry(
                    acceptableToAll ? checked : entry.addresses(), entry.holders() + 1, entry.strictHolders() + strict);
        });
    }

    /** Removes a holder added by {@link #hold} with the same arguments. */
    void release(String host, boolean allowPrivate) {
        int strict = allowPrivate ? 0 : 1;
        entries.computeIfPresent(
                key(host),
                (key, entry) -> entry.holders() == 1
                        ? null
                        : new Entry(entry.addresses(), entry.holders() - 1, entry.strictHolders() - strict));
    }

    /** The pinned answer for {@code host}, or null when nothing holds it. */
    List<InetAddress> pinned(String host) {
        Entry entry = entries.get(key(host));
        return entry == null ? null : entry.addresses();
    }

    // DNS names are case-insensitive; the JDK passes the URI's spelling through unchanged.
    private static String key(String host) {
        return host.toLowerCase(Locale.ROOT);
    }

    private static boolean allPublic(List<InetAddress> addresses) {
        for (InetAddress address : addresses) {
            if (!AddressGuard.classify(address).allowedWithoutOptIn()) {
                return false;
            }
        }
        return true;
    }
}
