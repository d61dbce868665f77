package io.sluice.guard;

import static io.sluice.guard.AddressClass.CGNAT;
import static io.sluice.guard.AddressClass.IPV4_EMBEDDED;
import static io.sluice.guard.AddressClass.LINK_LOCAL;
import static io.sluice.guard.AddressClass.LOOPBACK;
import static io.sluice.guard.AddressClass.METADATA;
import static io.sluice.guard.AddressClass.MULTICAST;
import static io.sluice.guard.AddressClass.PRIVATE;
import static io.sluice.guard.AddressClass.PUBLIC;
import static io.sluice.guard.AddressClass.RESERVED;
import static io.sluice.guard.AddressClass.UNIQUE_LOCAL;
import static io.sluice.guard.AddressClass.UNSPECIFIED;

import java.net.InetAddress;
import java.util.Arrays;
import java.util.HexFormat;
import java.util.List;

/**
 * Sorts addresses into {@link AddressClass}es, with a description for error messages. The ranges
 * follow the IANA IPv4 and IPv6 special-purpose address registries; within each table the more
 * specific range comes first, because the first match wins.
 */
final class AddressClassifier {

    /** An address class and how to say it in a message, e.g. "link-local (cloud metadata)". */
    record Classification(AddressClass addressClass, String description) {}

    private record Range(byte[] prefix, int bits, Classification classification) {
        boolean contains(byte[] address) {
            int whole = bits / 8;
            if (!Arrays.equals(address, 0, whole, prefix, 0, whole)) {
                return false;
            }
            int rest = bits % 8;
            if (rest == 0) {
                return true;
            }
            int mask = 0xff << (8 - rest) & 0xff;
            return (address[whole] & mask) == (prefix[whole] & mask);
        }
    }

    private static final Classification PUBLIC_ADDRESS = new Classification(PUBLIC, "public");

    private static final List<Range> IPV4 = List.of(
            v4("169.254.169.254/32", METADATA, "link-local (cloud metadata)"),
            v4("169.254.170.2/32", METADATA, "link-local (AWS ECS task metadata)"),
            v4("169.254.170.23/32", METADATA, "link-local (AWS EKS Pod Identity credentials)"),
            v4("100.100.100.200/32", METADATA, "carrier-grade NAT (Alibaba Cloud metadata)"),
            // Connecting to 0.0.0.0 reaches this host on Linux, so "this network" is not harmless.
            v4("0.0.0.0/8", UNSPECIFIED, "unspecified (this host on Linux)"),
            v4("10.0.0.0/8", PRIVATE, "private (RFC 1918)"),
            v4("100.64.0.0/10", CGNAT, "carrier-grade NAT (RFC 6598)"),
            v4("127.0.0.0/8", LOOPBACK, "loopback"),
            v4("169.254.0.0/16", LINK_LOCAL, "link-local"),
            v4("172.16.0.0/12", PRIVATE, "private (RFC 1918)"),
            v4("192.0.0.0/24", RESERVED, "reserved (IETF protocol assignments)"),
            v4("192.0.2.0/24", RESERVED, "reserved (documentation, RFC 5737)"),
            v4("192.88.99.0/24", RESERVED, "reserved (deprecated 6to4 relay anycast, RFC 7526)"),
            v4("192.168.0.0/16", PRIVATE, "private (RFC 1918)"),
            v4("198.18.0.0/15", RESERVED, "reserved (benchmarking, RFC 2544)"),
            v4("198.51.100.0/24", RESERVED, "reserved (documentation, RFC 5737)"),
            v4("203.0.113.0/24", RESERVED, "reserved (documentation, RFC 5737)"),
            v4("224.0.0.0/4", MULTICAST, "multicast"),
            v4("255.255.255.255/32", RESERVED, "reserved (limited broadcast)"),
            v4("240.0.0.0/4", RESERVED, "reserved (240.0.0.0/4)"));

    // Forms that embed IPv4 are handled in classifyV6 before this table is consulted.
    private static final List<Range> IPV6 = List.of(
            v6("fd00:ec2::254/128", METADATA, "unique local (AWS instance metadata)"),
            v6("fd00:ec2::23/128", METADATA, "unique local (AWS EKS Pod Identity credentials)"),
            v6("fc00::/7", UNIQUE_LOCAL, "unique local (RFC 4193)"),
            v6("fe80::/10", LINK_LOCAL, "link-local"),
            v6("fec0::/10", PRIVATE, "private (deprecated site-local)"),
            v6("ff00::/8", MULTICAST, "multicast"),
            v6("2001:2::/48", RESERVED, "reserved (benchmarking, RFC 5180)"),
            v6("2001:10::/28", RESERVED, "reserved (deprecated ORCHID)"),
            v6("2001:db8::/32", RESERVED, "reserved (documentation, RFC 3849)"),
            v6("3fff::/20", RESERVED, "reserved (documentation, RFC 9637)"),
            v6("5f00::/16", RESERVED, "reserved (SRv6 SIDs, RFC 9602)"),
            // Global unicast. Everything left outside it is unassigned: nothing legitimate lives there.
            v6("2000::/3", PUBLIC, "public"));

    private static final Classification OUTSIDE_GLOBAL_UNICAST =
            new Classification(RESERVED, "reserved (outside global unicast 2000::/3)");

    private AddressClassifier() {}

    static Classification classify(InetAddress address) {
        byte[] bytes = address.getAddress();
        return bytes.length == 4 ? classifyV4(bytes) : classifyV6(bytes);
    }

    private static Classification classifyV4(byte[] address) {
        for (Range range : IPV4) {
            if (range.contains(address)) {
                return range.classification();
            }
        }
        return PUBLIC_ADDRESS;
    }

    private static Classification classifyV6(byte[] a) {
        if (isZero(a, 0, 15)) {
            return a[15] == 0
                    ? new Classification(UNSPECIFIED, "unspecified (this host on Linux)")
                    : a[15] == 1 ? new Classification(LOOPBACK, "loopback") : compatible(a);
        }
        if (isZero(a, 0, 10) && a[10] == (byte) 0xff && a[11] == (byte) 0xff) {
            // The socket layer sends an IPv4-mapped address as plain IPv4: it simply is that address.
            byte[] v4 = Arrays.copyOfRange(a, 12, 16);
            Classification mapped = classifyV4(v4);
            return mapped.addressClass() == PUBLIC
                    ? PUBLIC_ADDRESS
                    : new Classification(
                            mapped.addressClass(),
                            "IPv4-mapped " + AddressText.of(v4) + ", which is " + mapped.description());
        }
        if (startsWith(a, 0x00, 0x64, 0xff, 0x9b) && isZero(a, 4, 12)) {
            return embedding(a, 12, false, "NAT64 of");
        }
        if (startsWith(a, 0x00, 0x64, 0xff, 0x9b, 0x00, 0x01)) {
            // Where the IPv4 address sits depends on the prefix length the operator chose (RFC 6052 §2.2),
            // and the prefix only ever leads into the local network.
            return new Classification(IPV4_EMBEDDED, "IPv4-embedding (local-use NAT64, RFC 8215)");
        }
        if (a[0] == 0) {
            return compatible(a);
        }
        if (startsWith(a, 0x20, 0x02)) {
            return embedding(a, 2, false, "6to4 of");
        }
        if (startsWith(a, 0x20, 0x01, 0x00, 0x00)) {
            // Teredo (RFC 4380 §4): packets reach the client's NAT, whose address is stored inverted,
            // by way of the server; neither may be internal.
            Classification client = embedding(a, 12, true, "Teredo client");
            return client.addressClass() != PUBLIC ? client : embedding(a, 4, false, "Teredo server");
        }
        for (Range range : IPV6) {
            if (range.contains(a)) {
                return range.classification();
            }
        }
        return OUTSIDE_GLOBAL_UNICAST;
    }

    /** The deprecated IPv4-compatible form ::a.b.c.d and the rest of ::/8. */
    private static Classification compatible(byte[] a) {
        if (isZero(a, 0, 12)) {
            Classification embedded = embedding(a, 12, false, "IPv4-compatible");
            if (embedded.addressClass() != PUBLIC) {
                return embedded;
            }
        }
        return OUTSIDE_GLOBAL_UNICAST;
    }

    private static Classification embedding(byte[] a, int offset, boolean inverted, String form) {
        byte[] v4 = Arrays.copyOfRange(a, offset, offset + 4);
        if (inverted) {
            for (int i = 0; i < 4; i++) {
                v4[i] = (byte) ~v4[i];
            }
        }
        Classification embedded = classifyV4(v4);
        if (embedded.addressClass() == PUBLIC) {
            return PUBLIC_ADDRESS;
        }
        return new Classification(
                IPV4_EMBEDDED,
                "IPv4-embedding (" + form + " " + AddressText.of(v4) + ", which is " + embedded.description() + ")");
    }

    private static boolean isZero(byte[] a, int from, int to) {
        for (int i = from; i < to; i++) {
            if (a[i] != 0) {
                return false;
            }
        }
        return true;
    }

    private static boolean startsWith(byte[] a, int... prefix) {
        for (int i = 0; i < prefix.length; i++) {
            if ((a[i] & 0xff) != prefix[i]) {
                return false;
            }
        }
        return true;
    }

    private static Range v4(String cidr, AddressClass addressClass, String description) {
        int slash = cidr.indexOf('/');
        String[] octets = cidr.substring(0, slash).split("\\.");
        byte[] prefix = new byte[4];
        for (int i = 0; i < 4; i++) {
            prefix[i] = (byte) Integer.parseInt(octets[i]);
        }
        return new Range(
                prefix, Integer.parseInt(cidr.substring(slash + 1)), new Classification(addressClass, description));
    }

    private static Range v6(String cidr, AddressClass addressClass, String description) {
        int slash = cidr.indexOf('/');
        return new Range(
                parseV6(cidr.substring(0, slash)),
                Integer.parseInt(cidr.substring(slash + 1)),
                new Classification(addressClass, description));
    }

    /** Parses the table's own IPv6 prefixes (hex groups and one "::"), keeping class loading free of I/O. */
    private static byte[] parseV6(String text) {
        int gap = text.indexOf("::");
        String[] head = gap < 0 ? text.split(":") : groups(text.substring(0, gap));
        String[] tail = gap < 0 ? new String[0] : groups(text.substring(gap + 2));
        byte[] bytes = new byte[16];
        for (int i = 0; i < head.length; i++) {
            put(bytes, i, head[i]);
        }
        for (int i = 0; i < tail.length; i++) {
            put(bytes, 8 - tail.length + i, tail[i]);
        }
        return bytes;
    }

    private static String[] groups(String text) {
        return text.isEmpty() ? new String[0] : text.split(":");
    }

    private static void put(byte[] bytes, int group, String digits) {
        int value = HexFormat.fromHexDigits(digits);
        bytes[2 * group] = (byte) (value >>> 8);
        bytes[2 * group + 1] = (byte) value;
    }
}
