package io.sluice.fuzz;

import io.sluice.fetch.Fields;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * What the {@code @FuzzTest} targets share. Inputs are raw bytes so that seeds are plain files a
 * person can write: a header block is one {@code name: value} line per field line, read as ISO-8859-1
 * (what a field value's bytes are on the wire).
 *
 * <p>In a normal test run Jazzer only replays the seeds under {@code <TestClass>Inputs/<method>/};
 * with {@code JAZZER_FUZZ=1} the one selected target is fuzzed for {@link #DURATION}.
 */
public final class FuzzInputs {
    /** How long one target is fuzzed with {@code JAZZER_FUZZ=1}: short enough for CI to run them all. */
    public static final String DURATION = "10s";

    private FuzzInputs() {}

    /** The input as text, one byte per character. */
    public static String latin1(byte[] input) {
        return new String(input, StandardCharsets.ISO_8859_1);
    }

    /** The input's lines (split on LF only; a CR stays in the line, as a hostile sender would send it). */
    public static List<String> lines(byte[] input) {
        return Arrays.asList(latin1(input).split("\n", -1));
    }

    /**
     * A field section from {@code name: value} lines; lines without a colon or with an empty name are
     * skipped, and repeated names become one field with several values.
     */
    public static Fields fields(List<String> lines) {
        Map<String, List<String>> byName = new LinkedHashMap<>();
        Map<String, String> spelling = new LinkedHashMap<>();
        for (String line : lines) {
            int colon = line.indexOf(':');
            if (colon <= 0) continue;
            String name = line.substring(0, colon).trim();
            if (name.isEmpty()) continue;
            String key = name.toLowerCase(Locale.ROOT);
            spelling.putIfAbsent(key, name);
            byName.computeIfAbsent(key, k -> new ArrayList<>()).add(line.substring(colon + 1));
        }
        Map<String, List<String>> fields = new LinkedHashMap<>();
        byName.forEach((key, values) -> fields.put(spelling.get(key), values));
        return Fields.of(fields);
    }
}
