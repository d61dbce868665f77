package io.sluice.fetch;

import java.util.Arrays;
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
    private static final NameSet HOP_BY_HOP = new NameSet(
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
    private static final NameSet RESTRICTED = new NameSet("host", "content-length", "expect", "via");

    /** Sluice's own per-request controls ({@code Sluice-Max-Wait}); they go no further. */
    private static final String OWN_PREFIX = "sluice-";

    public static final String VIA = "1.1 sluice";

    private HopByHop() {}

    /**
     * The end-to-end fields of a message's case-blind map ({@link Fields#map()}, or
     * {@code java.net.http}'s), as a mutable case-insensitive map.
     */
    public static Map<String, List<String>> endToEnd(Map<String, List<String>> fields) {
        Map<String, List<String>> out = new TreeMap<>(String.CASE_INSENSITIVE_ORDER);
        Set<String> named = connectionNamed(fields.getOrDefault("connection", List.of()));
        fields.forEach((name, values) -> {
            if (isEndToEnd(name, named)) out.put(name, values);
        });
        return out;
    }

    /**
     * Fields that the {@code Connection} header values name (RFC 9110 §7.6.1), as a case-blind set.
     * Tokens naming fields dropped anyway, such as the {@code keep-alive} in nginx's every answer,
     * are left out, so the usual result is the empty set and no set is made.
     */
    public static Set<String> connectionNamed(Iterable<String> connectionValues) {
        Set<String> named = Set.of();
        for (String value : connectionValues) {
            int from = 0;
            while (from <= value.length()) {
                // Token by token without String.split, which allocated an array and a String per response
                // for the "keep-alive" alone.
                int comma = value.indexOf(',', from);
                int to = comma < 0 ? value.length() : comma;
                String field = value.substring(from, to).trim();
                from = to + 1;
                if (field.isEmpty() || HOP_BY_HOP.contains(field)) continue;
                if (named.isEmpty()) named = new TreeSet<>(String.CASE_INSENSITIVE_ORDER);
                named.add(field);
            }
        }
        return named;
    }

    /**
     * Whether {@code name} travels past this hop, given the fields {@code Connection} named. Sets that
     * ignore case, so no lower-cased copy of every field name is made per request.
     */
    public static boolean isEndToEnd(String name, Set<String> connectionNamed) {
        return !HOP_BY_HOP.contains(name)
                && (connectionNamed.isEmpty() || !connectionNamed.contains(name))
                && !name.startsWith(":");
    }

    /**
     * Whether a request field is sent on: end to end, not one the client library sets itself, and not
     * one of Sluice's own controls.
     */
    public static boolean isForwardable(String name, Set<String> connectionNamed) {
        if (!isEndToEnd(name, connectionNamed)) return false;
        return !RESTRICTED.contains(name) && !name.regionMatches(true, 0, OWN_PREFIX, 0, OWN_PREFIX.length());
    }

    /** End-to-end headers that java.net.http will accept on a request. */
    public static Map<String, List<String>> forwardable(Fields headers) {
        Map<String, List<String>> out = new TreeMap<>(String.CASE_INSENSITIVE_ORDER);
        Set<String> named = connectionNamed(headers.allValues("connection"));
        headers.forEach((name, values) -> {
            if (isForwardable(name, named)) out.put(name, values);
        });
        return out;
    }

    /** {@code Via} with Sluice appended to whatever the message already carried. */
    public static String via(Fields headers) {
        List<String> existing = headers.allValues("via");
        return existing.isEmpty() ? VIA : String.join(", ", existing) + ", " + VIA;
    }

    /**
     * A fixed set of field names compared ignoring case, kept by length: a lookup compares the
     * name only with the one or two of the same length, and allocates nothing. (A case-blind
     * {@code TreeSet} took about 1% of a passthrough request's CPU for the lookups made on every
     * field of the request and the response.)
     */
    private static final class NameSet {
        private final String[][] byLength;

        NameSet(String... names) {
            int longest = Arrays.stream(names).mapToInt(String::length).max().orElse(0);
            byLength = new String[longest + 1][0];
            for (String name : names) {
                String[] same = byLength[name.length()];
                same = Arrays.copyOf(same, same.length + 1);
                same[same.length - 1] = name;
                byLength[name.length()] = same;
            }
        }

        boolean contains(String name) {
            if (name.length() >= byLength.length || name.isEmpty()) return false;
            // The names kept are lower-case ASCII: the first character, folded, rules out most candidates
            // before equalsIgnoreCase (which was ~1% of a passthrough request's CPU on its own).
            char first = (char) (name.charAt(0) | 0x20);
            for (String candidate : byLength[name.length()]) {
                if (candidate.charAt(0) == first && candidate.equalsIgnoreCase(name)) return true;
            }
            return false;
        }
    }
}
