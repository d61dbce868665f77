package io.sluice.server;

import io.sluice.fetch.Fields;
import io.sluice.fetch.HopByHop;
import io.sluice.fetch.Interim;
import io.undertow.util.HeaderMap;
import io.undertow.util.HeaderValues;
import io.undertow.util.HttpString;
import java.lang.invoke.MethodHandles;
import java.lang.invoke.VarHandle;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.function.Predicate;

/**
 * A message head's field lines re-read from the bytes that carried them (responses: {@code
 * send/HeadCapture}; requests: {@link RawRequestHeads}), to
 * forward each value byte for byte and each name as the origin spelled it. Undertow has already
 * parsed and accepted the same bytes with its strict parser, so this only splits lines it has
 * validated; and unless the two readings agree field for field, Undertow's is used.
 *
 * <p>What changes is what RFC 9112 asks for: leading and trailing whitespace is not part of a value
 * (§5), and an obs-fold becomes one space (§5.2).
 */
public final class RawHead {
    private RawHead() {}

    /** One field name as first spelled and its values in order. */
    private record Field(String name, List<String> values) {}

    /**
     * The fields of {@code head} that {@code keep} accepts, grouped by name (ignoring case), in order of
     * first appearance, or null when the head's fields do not match {@code parsed} field for field once
     * whitespace runs are ignored.
     */
    public static Fields fields(byte[] head, HeaderMap parsed, Predicate<String> keep) {
        // Runs for every request and every response, so it reads the bytes once, compares each line with
        // Undertow's reading as it goes, and makes a String only where the bytes differ from Undertow's.
        int size = parsed.size();
        // Undertow's fields once, in its order: each line looks its name up here, where iterating the map
        // for every line cost more than the rest of this method.
        HeaderValues[] all = new HeaderValues[size];
        int stored = 0;
        for (long c = parsed.fastIterateNonEmpty(); c != -1L && stored < size; c = parsed.fiNextNonEmpty(c)) {
            all[stored++] = parsed.fiCurrent(c);
        }
        HeaderValues[] known = new HeaderValues[size]; // per distinct name, in order of first appearance
        String[] names = new String[size];
        Object[] values = new Object[size]; // one value as a String, more as a List<String>
        int count = 0;
        int i = lineEnd(head, 0) + 2;
        if (i < 2) return null;
        while (i < head.length) {
            int end = lineEnd(head, i);
            if (end < 0) return null;
            if (end == i) break;
            if (head[i] == ' ' || head[i] == '\t') return folded(head, parsed, keep); // obs-fold: rare
            int colon = indexOf(head, (byte) ':', i, end);
            if (colon < 0) return null;
            int from = colon + 1;
            int to = end;
            while (from < to && (head[from] == ' ' || head[from] == '\t')) from++;
            while (to > from && (head[to - 1] == ' ' || head[to - 1] == '\t')) to--;
            int next = end + 2;
            if (next < head.length && (head[next] == ' ' || head[next] == '\t')) return folded(head, parsed, keep);
            HeaderValues named = parsedNamed(all, stored, head, i, colon);
            if (named == null) return null; // a field Undertow did not read
            int f = 0;
            while (f < count && known[f] != named) f++;
            if (f == count) {
                known[f] = named;
                // Where Undertow kept the same bytes, its Strings are used rather than new copies: a
                // well-known name is one constant for every message, and a value is the one already parsed.
                names[f] = sameBytes(named.getHeaderName(), head, i, colon)
                        ? named.getHeaderName().toString()
                        : new String(head, i, colon - i, StandardCharsets.ISO_8859_1);
                count++;
            }
            int index = valueCount(values[f]);
            if (index >= named.size()) return null;
            String parsedValue = named.get(index);
            String value = sameChars(parsedValue, head, from, to)
                    ? parsedValue
                    : new String(head, from, to - from, StandardCharsets.ISO_8859_1);
            if (value != parsedValue && !sameCollapsed(parsedValue, value)) return null;
            values[f] = withValue(values[f], value);
            i = next;
        }
        if (count != size) return null;
        Fields.Builder fields = Fields.builder(count);
        for (int f = 0; f < count; f++) {
            if (valueCount(values[f]) != known[f].size()) return null;
            if (keep.test(names[f])) fields.addChecked(names[f], valueList(values[f]));
        }
        return fields.build();
    }

    private static int valueCount(Object values) {
        return values == null ? 0 : values instanceof String ? 1 : ((List<?>) values).size();
    }

    @SuppressWarnings("unchecked")
    private static Object withValue(Object values, String value) {
        if (values == null) return value;
        List<String> list;
        if (values instanceof String first) {
            list = new ArrayList<>(2);
            list.add(first);
        } else {
            list = (List<String>) values;
        }
        list.add(value);
        return list;
    }

    @SuppressWarnings("unchecked")
    private static List<String> valueList(Object values) {
        return values instanceof String one ? List.of(one) : List.copyOf((List<String>) values);
    }

    /** The field of the first {@code count} of {@code parsed} named {@code b[from, to)} (ignoring ASCII case), or null. */
    private static HeaderValues parsedNamed(HeaderValues[] parsed, int count, byte[] b, int from, int to) {
        for (int p = 0; p < count; p++) {
            HeaderValues values = parsed[p];
            HttpString name = values.getHeaderName();
            if (name.length() != to - from) continue;
            int k = 0;
            while (k < to - from && lower(name.byteAt(k)) == lower(b[from + k])) k++;
            if (k == to - from) return values;
        }
        return null;
    }

    private static boolean sameBytes(HttpString name, byte[] b, int from, int to) {
        if (name.length() != to - from) return false;
        for (int k = 0; k < to - from; k++) {
            if (name.byteAt(k) != b[from + k]) return false;
        }
        return true;
    }

    /** Whether {@code s} is {@code b[from, to)} read as ISO-8859-1. */
    private static boolean sameChars(String s, byte[] b, int from, int to) {
        if (s.length() != to - from) return false;
        for (int k = 0; k < to - from; k++) {
            if (s.charAt(k) != (char) (b[from + k] & 0xff)) return false;
        }
        return true;
    }

    private static int lower(byte c) {
        return c >= 'A' && c <= 'Z' ? c + ('a' - 'A') : c;
    }

    /**
     * The interim response in {@code head} (a 1xx head {@code send/HeadCapture} took out, CRLF line ends
     * only), its hop-by-hop fields dropped; or null if any field line is not one RFC 9110 allows (§5.1
     * a token name and a colon, §5.5 a value of visible characters, obs-text, spaces and tabs; no
     * obs-fold). Undertow never parses these heads, so this reading is strict: what it doubts is
     * counted but not forwarded.
     */
    public static Interim interim(int status, byte[] head) {
        List<Field> fields = new ArrayList<>(2);
        int i = lineEnd(head, 0) + 2;
        if (i < 2) return null;
        while (i < head.length) {
            int end = lineEnd(head, i);
            if (end < 0) return null;
            if (end == i) break;
            int colon = i;
            while (colon < end && isTchar(head[colon])) colon++;
            if (colon == i || colon == end || head[colon] != ':') return null;
            int from = colon + 1;
            int to = end;
            for (int v = from; v < to; v++) {
                int b = head[v] & 0xff;
                if (b < 0x20 && b != '\t' || b == 0x7f) return null;
            }
            while (from < to && (head[from] == ' ' || head[from] == '\t')) from++;
            while (to > from && (head[to - 1] == ' ' || head[to - 1] == '\t')) to--;
            String name = new String(head, i, colon - i, StandardCharsets.ISO_8859_1);
            fieldNamed(fields, name).values().add(new String(head, from, to - from, StandardCharsets.ISO_8859_1));
            i = end + 2;
        }
        java.util.Set<String> named = java.util.Set.of();
        for (Field field : fields) {
            if (field.name().equalsIgnoreCase("connection")) named = HopByHop.connectionNamed(field.values());
        }
        Fields.Builder kept = Fields.builder(fields.size());
        for (Field field : fields) {
            if (HopByHop.isEndToEnd(field.name(), named)) kept.add(field.name(), field.values());
        }
        return new Interim(status, kept.build());
    }

    /** RFC 9110 §5.6.2 tchar. */
    private static boolean isTchar(byte b) {
        if (b >= 'a' && b <= 'z' || b >= 'A' && b <= 'Z' || b >= '0' && b <= '9') return true;
        return switch (b) {
            case '!', '#', '$', '%', '&', '\'', '*', '+', '-', '.', '^', '_', '`', '|', '~' -> true;
            default -> false;
        };
    }

    /** The field called {@code name} (ignoring case), added last if new. Heads are small: a scan is fine. */
    private static Field fieldNamed(List<Field> fields, String name) {
        for (int f = fields.size() - 1; f >= 0; f--) {
            Field field = fields.get(f);
            if (field.name().equalsIgnoreCase(name)) return field;
        }
        Field field = new Field(name, new ArrayList<>(1));
        fields.add(field);
        return field;
    }

    /** Where the first CRLF at or after {@code from} starts, or -1. */
    private static int lineEnd(byte[] b, int from) {
        for (int lf = indexOfLf(b, from + 1); lf >= 0; lf = indexOfLf(b, lf + 1)) {
            if (b[lf - 1] == '\r') return lf - 1;
        }
        return -1;
    }

    private static final VarHandle LONGS = MethodHandles.byteArrayViewVarHandle(long[].class, ByteOrder.LITTLE_ENDIAN);
    private static final long LFS = 0x0A0A0A0A0A0A0A0AL;
    private static final long ONES = 0x0101010101010101L;
    private static final long HIGHS = 0x8080808080808080L;

    /**
     * The first LF at or after {@code from}, or -1: eight bytes at a time (a byte equal to LF leaves a zero
     * byte in {@code word ^ LFS}, and the lowest byte flagged by the zero-byte test is the first such),
     * since a byte at a time this scan was a third of this class's time.
     */
    private static int indexOfLf(byte[] b, int from) {
        int i = from;
        for (; i + Long.BYTES <= b.length; i += Long.BYTES) {
            long x = (long) LONGS.get(b, i) ^ LFS;
            long zero = (x - ONES) & ~x & HIGHS;
            if (zero != 0) return i + (Long.numberOfTrailingZeros(zero) >>> 3);
        }
        for (; i < b.length; i++) {
            if (b[i] == '\n') return i;
        }
        return -1;
    }

    private static int indexOf(byte[] b, byte wanted, int from, int to) {
        for (int i = from; i < to; i++) {
            if (b[i] == wanted) return i;
        }
        return -1;
    }

    /** {@link #fields} for a head with an obs-fold, which becomes one space (RFC 9112 §5.2). */
    private static Fields folded(byte[] head, HeaderMap parsed, Predicate<String> keep) {
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
        if (!agrees(fields, parsed)) return null;
        Fields.Builder kept = Fields.builder(fields.size());
        for (Field field : fields) {
            if (keep.test(field.name())) kept.add(field.name(), field.values());
        }
        return kept.build();
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
                if (!sameCollapsed(values.get(v), field.values().get(v))) return false;
            }
        }
        return true;
    }

    /**
     * Whether {@code a} and {@code b} are equal once each run of spaces and tabs is one space and
     * both ends are trimmed: {@code collapsed(a).equals(collapsed(b))}, without making either.
     */
    static boolean sameCollapsed(String a, String b) {
        int i = skipWhitespace(a, 0);
        int j = skipWhitespace(b, 0);
        while (i < a.length() && j < b.length()) {
            char x = a.charAt(i);
            char y = b.charAt(j);
            boolean wx = x == ' ' || x == '\t';
            boolean wy = y == ' ' || y == '\t';
            if (wx || wy) {
                if (!(wx && wy)) return false;
                i = skipWhitespace(a, i);
                j = skipWhitespace(b, j);
                // A run at the very end is trimmed away on both sides, or on neither.
                if ((i == a.length()) != (j == b.length())) return false;
                continue;
            }
            if (x != y) return false;
            i++;
            j++;
        }
        return skipWhitespace(a, i) == a.length() && skipWhitespace(b, j) == b.length();
    }

    private static int skipWhitespace(String s, int from) {
        int i = from;
        while (i < s.length() && (s.charAt(i) == ' ' || s.charAt(i) == '\t')) i++;
        return i;
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
