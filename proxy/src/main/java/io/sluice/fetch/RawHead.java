package io.sluice.fetch;

import io.undertow.util.HeaderMap;
import io.undertow.util.HeaderValues;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * A response head's field lines re-read from the bytes that carried them ({@link HeadCapture}), to
 * forward each value byte for byte and each name as the origin spelled it. Undertow has already
 * parsed and accepted the same bytes with its strict parser, so this only splits lines it has
 * validated; and unless the two readings agree field for field, Undertow's is used.
 *
 * <p>What changes is what RFC 9112 asks for: leading and trailing whitespace is not part of a value
 * (§5), and an obs-fold becomes one space (§5.2).
 */
final class RawHead {
    private RawHead() {}

    /** One field name as first spelled and its values in order. */
    record Field(String name, List<String> values) {}

    /**
     * The fields of {@code head} grouped by name (ignoring case), in order of first appearance, or
     * null when they do not match {@code parsed} field for field once whitespace runs are ignored.
     */
    static List<Field> fields(byte[] head, HeaderMap parsed) {
        Map<String, Field> byName = new LinkedHashMap<>();
        String text = new String(head, StandardCharsets.ISO_8859_1);
        int i = text.indexOf("\r\n") + 2;
        String name = null;
        StringBuilder value = null;
        while (i < text.length()) {
            int end = text.indexOf("\r\n", i);
            if (end < 0) return null;
            if (end > i && (text.charAt(i) == ' ' || text.charAt(i) == '\t')) {
                // obs-fold: OWS CRLF RWS becomes one SP.
                if (value == null) return null;
                trimEnd(value);
                value.append(' ').append(text, i, end);
                trimStart(value, value.length() - (end - i));
                i = end + 2;
                continue;
            }
            if (name != null) add(byName, name, value);
            if (end == i) break;
            int colon = text.indexOf(':', i);
            if (colon < 0 || colon > end) return null;
            name = text.substring(i, colon);
            value = new StringBuilder(text.substring(colon + 1, end));
            trimStart(value, 0);
            i = end + 2;
        }
        List<Field> fields = new ArrayList<>(byName.values());
        return agrees(fields, parsed) ? fields : null;
    }

    private static void add(Map<String, Field> byName, String name, StringBuilder value) {
        trimEnd(value);
        byName.computeIfAbsent(name.toLowerCase(Locale.ROOT), k -> new Field(name, new ArrayList<>()))
                .values()
                .add(value.toString());
    }

    private static boolean agrees(List<Field> fields, HeaderMap parsed) {
        if (fields.size() != parsed.size()) return false;
        for (Field field : fields) {
            HeaderValues values = parsed.get(field.name());
            if (values == null || values.size() != field.values().size()) return false;
            for (int v = 0; v < values.size(); v++) {
                if (!collapsed(values.get(v)).equals(collapsed(field.values().get(v)))) return false;
            }
        }
        return true;
    }

    /** {@code s} with each run of spaces and tabs as one space: what Undertow's parser leaves of it. */
    static String collapsed(String s) {
        StringBuilder out = new StringBuilder(s.length());
        boolean inRun = false;
        for (int i = 0; i < s.length(); i++) {
            char c = s.charAt(i);
            boolean ws = c == ' ' || c == '\t';
            if (!ws) out.append(c);
            else if (!inRun) out.append(' ');
            inRun = ws;
        }
        return out.toString().trim();
    }

    private static void trimStart(StringBuilder s, int from) {
        int j = from;
        while (j < s.length() && (s.charAt(j) == ' ' || s.charAt(j) == '\t')) j++;
        s.delete(from, j);
    }

    private static void trimEnd(StringBuilder s) {
        int j = s.length();
        while (j > 0 && (s.charAt(j - 1) == ' ' || s.charAt(j - 1) == '\t')) j--;
        s.setLength(j);
    }
}
