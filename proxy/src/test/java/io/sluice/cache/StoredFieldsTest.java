package io.sluice.cache;

import static org.assertj.core.api.Assertions.assertThat;

import io.sluice.fetch.Fields;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import org.junit.jupiter.api.Test;

class StoredFieldsTest {
    private final Fields response = Fields.of(Map.of(
            "Content-Type", List.of("application/json"),
            "Cache-Control", List.of("max-age=60", "stale-if-error=30"),
            "ETag", List.of("\"v1\""),
            "Age", List.of("12"),
            "Empty", List.of("")));

    @Test
    void unpacksEveryKeptFieldWithItsValuesInOrder() {
        StoredFields fields = StoredFields.of(response, name -> !name.equalsIgnoreCase("age"));

        Map<String, List<String>> unpacked = new TreeMap<>(String.CASE_INSENSITIVE_ORDER);
        fields.copyInto(unpacked);

        assertThat(unpacked)
                .containsOnlyKeys("Content-Type", "Cache-Control", "ETag", "Empty")
                .containsEntry("Cache-Control", List.of("max-age=60", "stale-if-error=30"))
                .containsEntry("Content-Type", List.of("application/json"))
                .containsEntry("Empty", List.of(""));
    }

    @Test
    void findsTheFirstValueWhateverTheCase() {
        StoredFields fields = StoredFields.of(response, name -> true);

        assertThat(fields.first("etag")).hasValue("\"v1\"");
        assertThat(fields.first("CACHE-CONTROL")).hasValue("max-age=60");
        assertThat(fields.first("age")).hasValue("12");
        assertThat(fields.first("last-modified")).isEmpty();
    }

    @Test
    void weighsNamesValuesAndAnAllowancePerValue() {
        StoredFields one = StoredFields.of(Fields.of(Map.of("ETag", List.of("\"v1\""))), name -> true);
        StoredFields none = StoredFields.of(Fields.of(Map.of()), name -> true);

        assertThat(one.weight(16)).isEqualTo("ETag".length() + "\"v1\"".length() + 16);
        assertThat(none.weight(16)).isZero();
        assertThat(none.first("etag")).isEmpty();
    }
}
