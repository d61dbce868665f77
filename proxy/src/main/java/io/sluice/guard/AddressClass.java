package io.sluice.guard;

/**
 * What kind of destination an address is, as far as server-side request forgery is concerned. Only
 * {@link #PUBLIC} may be fetched for an upstream that does not set {@code allow_private}.
 */
public enum AddressClass {
    /** Globally routable unicast. */
    PUBLIC,
    /** 127.0.0.0/8 and ::1. */
    LOOPBACK,
    /** RFC 1918 (10/8, 172.16/12, 192.168/16) and the deprecated IPv6 site-local fec0::/10. */
    PRIVATE,
    /** 169.254.0.0/16 and fe80::/10, except the metadata endpoints below. */
    LINK_LOCAL,
    /**
     * Cloud instance metadata endpoints, which hand out credentials: 169.254.169.254, fd00:ec2::254 and
     * the few other well-known ones (AWS ECS and EKS Pod Identity, Alibaba Cloud).
     */
    METADATA,
    /** Carrier-grade NAT shared space 100.64.0.0/10 (RFC 6598). */
    CGNAT,
    /** IPv6 unique local fc00::/7 (RFC 4193). */
    UNIQUE_LOCAL,
    /** 0.0.0.0/8 and ::, which Linux treats as this host when connecting. */
    UNSPECIFIED,
    /** 224.0.0.0/4 and ff00::/8. */
    MULTICAST,
    /**
     * Not routable on the internet: documentation and benchmarking ranges, 240.0.0.0/4, the limited
     * broadcast address, IETF protocol assignments and IPv6 space outside global unicast 2000::/3.
     */
    RESERVED,
    /**
     * IPv6 that carries a non-public IPv4 address to a translator or relay: NAT64 (64:ff9b::/96 and the
     * local-use 64:ff9b:1::/48), 6to4 (2002::/16), Teredo (2001::/32) and the deprecated IPv4-compatible
     * ::/96. An IPv4-mapped address (::ffff:0:0/96) is the IPv4 address itself on the wire, so it takes the
     * class of the address it maps.
     */
    IPV4_EMBEDDED;

    /** Whether a request may connect here without its upstream setting {@code allow_private}. */
    public boolean allowedWithoutOptIn() {
        return this == PUBLIC;
    }
}
