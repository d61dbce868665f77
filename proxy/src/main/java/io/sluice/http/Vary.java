package io.sluice.http;

import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Optional;

/**
 * The field names a response's {@code Vary} lists (RFC 9110 §12.5.5): the request fields that
 * selected this representation, which a cache compares before reusing it (RFC 9111 §4.1).
 */
public final class Vary {
    private Vary() {}

    /**
     * The names the {@code Vary} field lines list, lower-cased, in order; empty for a list with
     * {@code *}, which no later request matches (RFC 9111 §4.1). No lines, or only empty members,
     * give an empty list: the response does not vary.
     */
    public static Optional<List<String>> fieldNames(List<String> fieldLines) {
        List<String> names = new ArrayList<>();
        for (String line : fieldLines) {
            for (String member : line.split(",")) {
                String name = member.trim().toLowerCase(Locale.ROOT);
                if (name.isEmpty()) continue;
                if (name.equals("*")) return Optional.empty();
                names.add(name);
            }
        }
        return Optional.of(names);
    }
}
