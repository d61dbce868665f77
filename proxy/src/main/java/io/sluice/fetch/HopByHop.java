package io.sluice.fetch;

import java.net.http.HttpHeaders;
import java.util.Collections;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.TreeSet;

/**
 * Header hygiene at the proxy boundary. RFC 9110 §7.6.1: a proxy removes the connection-specific
 * fields (and any field the {@code Connection} header names) before forwarding, in both
 * directions; §7.6.3: it adds {@code Via}.
 */
public final class HopByHop {
    /** RFC 9110 §7.6.1 plus the pre-standard fields still seen in the wild. */
    private static final Set<String> HOP_BY_HOP = ignoringCase(
            "connection",
            "keep-alive",
            "proxy-connection",
            "te",
            "trailer",
            "transfer-encoding",
            "upgrade",
            "proxy-authorization",
            "proxy-authenticate",
            "http2-settings");

    /** What java.net.http sets itself and refuses from callers. */
    private static final Set<String> RESTRICTED = ignoringCase("host", "content-length", "expect", "via");

    /** Sluice's own per-request controls ({@code Sluice-Max-Wait}); they go no further. */
    private static final String OWN_PREFIX = "sluice-";

    public static final String VIA = "1.1 sluice";

    private HopByHop() {}

    /** The end-to-end headers of {@code headers}, as a mutable case-insensitive map. */
    public static Map<String, List<String>> endToEnd(HttpHeaders headers) {
        Map<String, List<String>> out = new TreeMap<>(String.CASE_INSENSITIVE_ORDER);
        Set<String> named = connectionNamed(headers.allValues("connection"));
        headers.map().forEach((name, values) -> {
            if (isEndToEnd(name, named)) out.put(name, values);
        });
        return out;
    }

    /** Fields that the {@code Connection} header values name (RFC 9110 §7.6.1), as a case-blind set. */
    static Set<String> connectionNamed(Iterable<String> connectionValues) {
        Set<String> named = Set.of();
        for (String value : connectionValues) {
            for (String token : value.split(",")) {
                if (named.isEmpty()) named = new TreeSet<>(String.CASE_INSENSITIVE_ORDER);
                named.add(token.trim());
            }
        }
        return named;
    }

    /**
     * Whether {@code name} travels past this hop, given the fields {@code Connection} named. Sets that
     * ignore case, so no lower-cased copy of every field name is made per request.
     */
    static boolean isEndToEnd(String name, Set<String> connectionNamed) {
        return !HOP_BY_HOP.contains(name) && !connectionNamed.contains(name) && !name.startsWith(":");
    }

    /**
     * Whether a request field is sent on: end to end, not one the client library sets itself, and not
     * one of Sluice's own controls.
     */
    static boolean isForwardable(String name, Set<String> connectionNamed) {
        if (!isEndToEnd(name, connectionNamed)) return false;
        return !RESTRICTED.contains(name) && !name.regionMatches(true, 0, OWN_PREFIX, 0, OWN_PREFIX.length());
    }

    private static Set<String> ignoringCase(String... names) {
        Set<String> set = new TreeSet<>(String.CASE_INSENSITIVE_ORDER);
        set.addAll(List.of(names));
        return Collections.unmodifiableSet(set);
    }

    /** End-to-end headers that java.net.http will accept on a request. */
    static Map<String, List<String>> forwardable(HttpHeaders headers) {
        Map<String, List<String>> out = new TreeMap<>(String.CASE_INSENSITIVE_ORDER);
        Set<String> named = connectionNamed(headers.allValues("connection"));
        headers.map().forEach((name, values) -> {
            if (isForwardable(name, named)) out.put(name, values);
        });
        return out;
    }

    /** {@code Via} with Sluice appended to whatever the message already carried. */
    public static String via(HttpHeaders headers) {
        List<String> existing = headers.allValues("via");
        return existing.isEmpty() ? VIA : String.join(", ", existing) + ", " + VIA;
    }
}
