package io.sluice.cache;

import io.sluice.fetch.Fields;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.TreeMap;
import java.util.function.Predicate;

/**
 * A stored response's fields, packed into a handful of objects whatever their number: the names (for
 * well-known fields the very strings Undertow's parser shares between all responses), every value
 * concatenated into one string, and where each value ends. As a {@code java.net.http.HttpHeaders}
 * the same ten fields were some forty objects — map nodes, lists, value strings and their arrays —
 * and as {@link io.sluice.fetch.Fields} still two arrays and a list per field; in a full cache that
 * keeps taking new responses, objects are what the garbage collector copies and marks: with every
 * miss stored, young pauses grew with them (see docs/performance.md). A hit unpacks the fields into
 * the answer's own map, which it builds anyway.
 */
final class StoredFields {
    /** One per value, in order; a field with several values repeats its name, consecutively. */
    private final String[] names;

    private final String values;
    /** Where each value ends in {@link #values}; each starts where the one before ends. */
    private final int[] ends;

    private StoredFields(String[] names, String values, int[] ends) {
        this.names = names;
        this.values = values;
        this.ends = ends;
    }

    /** The fields of {@code headers} whose names {@code keep} accepts. */
    static StoredFields of(Fields headers, Predicate<String> keep) {
        int count = 0;
        int length = 0;
        for (int f = 0; f < headers.size(); f++) {
            if (!keep.test(headers.name(f))) continue;
            for (String value : headers.values(f)) {
                count++;
                length += value.length();
            }
        }
        String[] names = new String[count];
        int[] ends = new int[count];
        StringBuilder packed = new StringBuilder(length);
        int i = 0;
        for (int f = 0; f < headers.size(); f++) {
            if (!keep.test(headers.name(f))) continue;
            for (String value : headers.values(f)) {
                names[i] = headers.name(f);
                packed.append(value);
                ends[i++] = packed.length();
            }
        }
        return new StoredFields(names, packed.toString(), ends);
    }

    /** The first value of {@code name} (case-blind), if the response had the field. */
    Optional<String> first(String name) {
        for (int i = 0; i < names.length; i++) {
            if (names[i].equalsIgnoreCase(name)) return Optional.of(value(i));
        }
        return Optional.empty();
    }

    /** Puts every field into {@code into}, a field's values as one list, replacing what it held. */
    void copyInto(Map<String, List<String>> into) {
        int i = 0;
        while (i < names.length) {
            String name = names[i];
            int end = i + 1;
            while (end < names.length && names[end].equals(name)) end++;
            if (end == i + 1) {
                into.put(name, List.of(value(i)));
            } else {
                List<String> all = new ArrayList<>(end - i);
                for (int j = i; j < end; j++) all.add(value(j));
                into.put(name, List.copyOf(all));
            }
            i = end;
        }
    }

    /** Characters of names and values together, with {@code perValue} added for each value. */
    long weight(int perValue) {
        long weight = values.length() + (long) perValue * names.length;
        for (String name : names) weight += name.length();
        return weight;
    }

    private String value(int i) {
        return values.substring(i == 0 ? 0 : ends[i - 1], ends[i]);
    }

    @Override
    public String toString() {
        Map<String, List<String>> map = new TreeMap<>(String.CASE_INSENSITIVE_ORDER);
        copyInto(map);
        return "StoredFields" + map;
    }
}
