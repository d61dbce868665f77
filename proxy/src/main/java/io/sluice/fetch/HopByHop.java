package io.sluice.fetch;

import java.net.http.HttpHeaders;
import java.util.HashSet;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;

/**
 * Header hygiene at the proxy boundary. RFC 9110 §7.6.1: a proxy removes the connection-specific
 * fields (and any field the {@code Connection} header names) before forwarding, in both
 * directions; §7.6.3: it adds {@code Via}.
 */
public final class HopByHop {
    /** RFC 9110 §7.6.1 plus the pre-standard fields still seen in the wild. */
    private static final Set<String> HOP_BY_HOP = Set.of(
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
    private static final Set<String> RESTRICTED = Set.of("host", "content-length", "expect", "via");

    /** Sluice's own per-request controls ({@code Sluice-Max-Wait}); they go no further. */
    private static final String OWN_PREFIX = "sluice-";

    public static final String VIA = "1.1 sluice";

    private HopByHop() {}

    /** The end-to-end headers of {@code headers}, as a mutable case-insensitive map. */
    public static Map<String, List<String>> endToEnd(HttpHeaders headers) {
        Set<String> named = new HashSet<>();
        headers.allValues("connection").forEach(v -> {
            for (String token : v.split(",")) named.add(token.trim().toLowerCase(Locale.ROOT));
        });
        Map<String, List<String>> out = new TreeMap<>(String.CASE_INSENSITIVE_ORDER);
        headers.map().forEach((name, values) -> {
            String lower = name.toLowerCase(Locale.ROOT);
            if (!HOP_BY_HOP.contains(lower) && !named.contains(lower) && !lower.startsWith(":")) {
                out.put(name, values);
            }
        });
        return out;
    }

    /** End-to-end headers that java.net.http will accept on a request. */
    static Map<String, List<String>> forwardable(HttpHeaders headers) {
        Map<String, List<String>> out = endToEnd(headers);
        out.keySet().removeIf(name -> {
            String lower = name.toLowerCase(Locale.ROOT);
            return RESTRICTED.contains(lower) || lower.startsWith(OWN_PREFIX);
        });
        return out;
    }

    /** {@code Via} with Sluice appended to whatever the message already carried. */
    public static String via(HttpHeaders headers) {
        List<String> existing = headers.allValues("via");
        return existing.isEmpty() ? VIA : String.join(", ", existing) + ", " + VIA;
    }
}
