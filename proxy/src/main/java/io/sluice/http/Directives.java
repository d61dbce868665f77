package io.sluice.http;

import java.util.HashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * The directives of {@code Cache-Control} field lines (RFC 9111 §5.2), names lower-cased, values
 * unquoted. When a directive repeats, the first occurrence counts (§4.2.1 allows either that or
 * treating the response as stale).
 */
public final class Directives {
    /** RFC 9111 §1.2.2: delta-seconds too large to represent become 2^31. */
    public static final long MAX_DELTA_SECONDS = 2_147_483_648L;

    private static final Directives NONE = new Directives(Map.of());

    private final Map<String, String> directives;

    private Directives(Map<String, String> directives) {
        this.directives = directives;
    }

    public static Directives parse(List<String> fieldValues) {
        if (fieldValues.isEmpty()) return NONE;
        Map<String, String> out = new HashMap<>();
        for (String value : fieldValues) parseInto(value, out);
        return new Directives(out);
    }

    private static void parseInto(String s, Map<String, String> out) {
        int i = 0;
        int n = s.length();
        while (i < n) {
            while (i < n && (s.charAt(i) == ',' || s.charAt(i) == ' ' || s.charAt(i) == '\t')) i++;
            int nameStart = i;
            while (i < n && s.charAt(i) != '=' && s.charAt(i) != ',') i++;
            String rawName = s.substring(nameStart, i);
            String name = rawName.trim().toLowerCase(Locale.ROOT);
            String value = "";
            // §5.2: cache-directive = token [ "=" ( token / quoted-string ) ], no whitespace around
            // the "=". `max-age =3600` or `max-age= 3600` is no max-age directive at all, so it is
            // read past and ignored, as if the origin had not sent it.
            boolean wellFormed = true;
            if (i < n && s.charAt(i) == '=') {
                i++;
                if (rawName.endsWith(" ") || rawName.endsWith("\t")) wellFormed = false;
                if (i < n && (s.charAt(i) == ' ' || s.charAt(i) == '\t')) wellFormed = false;
                while (i < n && (s.charAt(i) == ' ' || s.charAt(i) == '\t')) i++;
                if (i < n && s.charAt(i) == '"') {
                    StringBuilder quoted = new StringBuilder();
                    i++;
                    while (i < n && s.charAt(i) != '"') {
                        if (s.charAt(i) == '\\' && i + 1 < n) i++;
                        quoted.append(s.charAt(i++));
                    }
                    i++;
                    value = quoted.toString();
                    while (i < n && s.charAt(i) != ',') i++;
                } else {
                    int valueStart = i;
                    while (i < n && s.charAt(i) != ',') i++;
                    value = s.substring(valueStart, i).trim();
                }
            }
            if (!name.isEmpty() && wellFormed) out.putIfAbsent(name, value);
        }
    }

    public boolean isEmpty() {
        return directives.isEmpty();
    }

    public boolean has(String name) {
        return directives.containsKey(name);
    }

    /**
     * The directive's delta-seconds, {@code absent} if the directive is missing and {@code invalid}
     * if its value is not a number (for {@code max-age}, §4.2.1 says to treat that as stale: 0).
     */
    public long seconds(String name, long absent, long invalid) {
        String value = directives.get(name);
        if (value == null) return absent;
        if (value.isEmpty()) return invalid;
        for (int i = 0; i < value.length(); i++) {
            if (value.charAt(i) < '0' || value.charAt(i) > '9') return invalid;
        }
        if (value.length() > 10) return MAX_DELTA_SECONDS;
        return Math.min(Long.parseLong(value), MAX_DELTA_SECONDS);
    }

    /** Whether the directive is present with no argument ({@code max-stale} without a limit). */
    public boolean hasNoValue(String name) {
        String value = directives.get(name);
        return value != null && value.isEmpty();
    }

    @Override
    public String toString() {
        return directives.toString();
    }
}
