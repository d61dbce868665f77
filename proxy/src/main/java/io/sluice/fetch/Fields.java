package io.sluice.fetch;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collections;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.TreeMap;
import java.util.function.BiConsumer;

/**
 * A message's header fields: each name once, as first spelled, with its values in order; names
 * compare ignoring case (RFC 9110 §5.1). Immutable.
 *
 * <p>This is the type {@link FetchRequest} and {@link FetchResponse} carry instead of
 * {@code java.net.http.HttpHeaders}, whose {@code of} sorts the fields into a case-blind
 * {@code TreeMap} and copies every list: a passthrough request made three of those (the request,
 * the response, the response again with {@code Cache-Status}), and their tree nodes and
 * comparisons were the largest share of what Sluice itself allocated and spent per request (see
 * docs/performance.md). A message has about a dozen fields, so two arrays filled in one pass and
 * scanned on lookup cost less than any map, and adding one field copies an array of references.
 * {@link #map()} still gives the sorted map, built once, for paths that want it.
 */
public final class Fields {
    public static final Fields EMPTY = new Fields(new String[0], lists(0), 0);

    private final String[] names;
    private final List<String>[] values;
    private final int size;
    /** Built on first {@link #map()}; racy but idempotent, as {@code String.hash} is. */
    private Map<String, List<String>> map;

    private Fields(String[] names, List<String>[] values, int size) {
        this.names = names;
        this.values = values;
        this.size = size;
    }

    /**
     * The fields of {@code map}, as {@code HttpHeaders.of} reads one: names and values trimmed, a
     * name without values left out.
     *
     * @throws IllegalArgumentException if a name is empty or appears twice, whatever its case
     */
    public static Fields of(Map<String, List<String>> map) {
        Builder builder = builder(map.size());
        map.forEach(builder::add);
        return builder.build();
    }

    public static Builder builder(int expectedNames) {
        return new Builder(expectedNames);
    }

    /** The first value of {@code name}, if the message has the field. */
    public Optional<String> firstValue(String name) {
        int i = indexOf(name);
        return i < 0 ? Optional.empty() : Optional.of(values[i].get(0));
    }

    /** Every value of {@code name}, in order; empty if the message does not have the field. */
    public List<String> allValues(String name) {
        int i = indexOf(name);
        return i < 0 ? List.of() : values[i];
    }

    public boolean contains(String name) {
        return indexOf(name) >= 0;
    }

    /** Each field in the order it was added: its name, as first spelled, and its values. */
    public void forEach(BiConsumer<String, List<String>> action) {
        for (int i = 0; i < size; i++) action.accept(names[i], values[i]);
    }

    /** How many distinct names. */
    public int size() {
        return size;
    }

    /** The name of the {@code i}th field added, as first spelled; {@code 0 <= i < size()}. */
    public String name(int i) {
        return names[Objects.checkIndex(i, size)];
    }

    /** The values of the {@code i}th field added. */
    public List<String> values(int i) {
        return values[Objects.checkIndex(i, size)];
    }

    /** These fields with {@code name} holding just {@code value}, in its place if it was there. */
    public Fields with(String name, String value) {
        Builder builder = builder(size + 1);
        boolean replaced = false;
        for (int i = 0; i < size; i++) {
            if (!replaced && names[i].equalsIgnoreCase(name)) {
                builder.put(names[i], List.of(value));
                replaced = true;
            } else {
                builder.put(names[i], values[i]);
            }
        }
        if (!replaced) builder.put(name, List.of(value));
        return builder.build();
    }

    /** The fields as an unmodifiable map sorted by name, ignoring case, as {@code HttpHeaders.map()}. */
    public Map<String, List<String>> map() {
        Map<String, List<String>> m = map;
        if (m == null) {
            TreeMap<String, List<String>> sorted = new TreeMap<>(String.CASE_INSENSITIVE_ORDER);
            forEach(sorted::put);
            map = m = Collections.unmodifiableMap(sorted);
        }
        return m;
    }

    @SuppressWarnings("unchecked")
    private static List<String>[] lists(int length) {
        return (List<String>[]) new List<?>[length];
    }

    private int indexOf(String name) {
        for (int i = 0; i < size; i++) {
            if (names[i].equalsIgnoreCase(name)) return i;
        }
        return -1;
    }

    /** Equal when they hold the same names, ignoring case, with the same values in the same order. */
    @Override
    public boolean equals(Object o) {
        return o instanceof Fields other && map().equals(other.map());
    }

    @Override
    public int hashCode() {
        int hash = 0;
        for (int i = 0; i < size; i++) hash += names[i].toLowerCase(Locale.ROOT).hashCode() ^ values[i].hashCode();
        return hash;
    }

    @Override
    public String toString() {
        return map().toString();
    }

    /** Fields added one name at a time; not thread-safe, used once. */
    public static final class Builder {
        private String[] names;
        private List<String>[] values;
        private int size;

        private Builder(int expectedNames) {
            int capacity = Math.max(expectedNames, 4);
            names = new String[capacity];
            values = lists(capacity);
        }

        /**
         * Adds a field, its name and values trimmed and its values copied; a name without values is left
         * out.
         *
         * @throws IllegalArgumentException if the name is empty or already added, whatever its case
         */
        public Builder add(String name, List<String> fieldValues) {
            ensureOpen();
            String trimmed = Objects.requireNonNull(name, "name").trim();
            if (trimmed.isEmpty()) throw new IllegalArgumentException("empty field name");
            for (int i = 0; i < size; i++) {
                if (names[i].equalsIgnoreCase(trimmed)) throw new IllegalArgumentException("duplicate field: " + name);
            }
            List<String> copy = copyOf(fieldValues);
            if (!copy.isEmpty()) put(trimmed, copy);
            return this;
        }

        /**
         * Appends a field whose checks the caller has made: {@code name} is trimmed, not empty and not
         * added before (whatever its case), and {@code fieldValues} is not empty, each value trimmed, and
         * never changed afterwards. For a head already parsed and grouped by name ({@code
         * server/RawHead}), where {@link #add}'s duplicate scan and copy were a visible share of each
         * request's CPU.
         */
        public Builder addChecked(String name, List<String> fieldValues) {
            put(name, fieldValues);
            return this;
        }

        /** The fields added; the builder hands its arrays over and cannot be used again. */
        public Fields build() {
            ensureOpen();
            Fields fields = size == 0 ? EMPTY : new Fields(names, values, size);
            names = null;
            values = null;
            return fields;
        }

        /** Appends a name known to be new and values already copied. */
        private void put(String name, List<String> fieldValues) {
            ensureOpen();
            if (size == names.length) {
                names = Arrays.copyOf(names, size * 2);
                values = Arrays.copyOf(values, size * 2);
            }
            names[size] = name;
            values[size++] = fieldValues;
        }

        private void ensureOpen() {
            if (names == null) throw new IllegalStateException("these fields were already built");
        }

        /** An immutable copy with each value trimmed; one value, the usual case, is one small object. */
        private static List<String> copyOf(List<String> fieldValues) {
            return switch (fieldValues.size()) {
                case 0 -> List.of();
                case 1 -> List.of(fieldValues.get(0).trim());
                default -> {
                    List<String> trimmed = new ArrayList<>(fieldValues.size());
                    for (String value : fieldValues) trimmed.add(value.trim());
                    yield Collections.unmodifiableList(trimmed);
                }
            };
        }
    }
}
