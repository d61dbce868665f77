package io.sluice.fetch;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.net.http.HttpHeaders;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import org.junit.jupiter.api.Test;

class FieldsTest {
    private static final List<String> NAMES =
            List.of("Content-Type", "ETag", "Cache-Control", "Set-Cookie", "X-Request-Id", "Vary", "Age", "Via");

    /** java.net.http.HttpHeaders, which FetchRequest and FetchResponse carried before, is the reference. */
    @Test
    void readsLikeHttpHeadersOfTheSameMap() {
        Random random = new Random(7);
        for (int round = 0; round < 500; round++) {
            Map<String, List<String>> map = new LinkedHashMap<>();
            for (String name : NAMES) {
                if (random.nextBoolean()) continue;
                List<String> values = new ArrayList<>();
                int count = random.nextInt(4); // 0: a name without values, left out by both
                for (int v = 0; v < count; v++) values.add((random.nextBoolean() ? " " : "") + "v" + v + " ");
                map.put(random.nextBoolean() ? name : name.toUpperCase(), values);
            }
            Fields fields = Fields.of(map);
            HttpHeaders reference = HttpHeaders.of(map, (a, b) -> true);

            assertThat(fields.map()).as("map of %s", map).isEqualTo(reference.map());
            assertThat(fields.size()).isEqualTo(reference.map().size());
            for (String name : NAMES) {
                for (String asked : List.of(name, name.toLowerCase(), name.toUpperCase())) {
                    assertThat(fields.firstValue(asked)).as(asked).isEqualTo(reference.firstValue(asked));
                    assertThat(fields.allValues(asked)).as(asked).isEqualTo(reference.allValues(asked));
                    assertThat(fields.contains(asked))
                            .as(asked)
                            .isEqualTo(reference.map().containsKey(asked));
                }
            }
        }
    }

    @Test
    void refusesANameTwiceOrEmptyAsHttpHeadersDoes() {
        Map<String, List<String>> twice = new LinkedHashMap<>();
        twice.put("ETag", List.of("\"a\""));
        twice.put("etag", List.of("\"b\""));

        assertThatThrownBy(() -> Fields.of(twice))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("etag");
        assertThatThrownBy(() -> HttpHeaders.of(twice, (a, b) -> true)).isInstanceOf(IllegalArgumentException.class);
        assertThatThrownBy(() -> Fields.of(Map.of(" ", List.of("x"))))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("empty");
    }

    @Test
    void keepsTheOrderFieldsArrivedInAndTheirFirstSpelling() {
        Fields fields = Fields.builder(3)
                .add("x-b", List.of("1"))
                .add("X-A", List.of("2", "3"))
                .add("Content-Type", List.of("text/plain"))
                .build();

        List<String> seen = new ArrayList<>();
        fields.forEach((name, values) -> seen.add(name + "=" + values));
        assertThat(seen).containsExactly("x-b=[1]", "X-A=[2, 3]", "Content-Type=[text/plain]");
        assertThat(fields.name(1)).isEqualTo("X-A");
        assertThat(fields.values(1)).containsExactly("2", "3");
        assertThat(fields.map().keySet()).containsExactly("Content-Type", "X-A", "x-b");
    }

    @Test
    void withReplacesAFieldInItsPlaceOrAddsItLast() {
        Fields fields = Fields.builder(2)
                .add("Cache-Status", List.of("upstream; hit"))
                .add("ETag", List.of("\"v1\""))
                .build();

        Fields replaced = fields.with("cache-status", "sluice; fwd=miss");
        Fields added = fields.with("Age", "3");

        assertThat(replaced.name(0)).isEqualTo("Cache-Status");
        assertThat(replaced.allValues("Cache-Status")).containsExactly("sluice; fwd=miss");
        assertThat(replaced.size()).isEqualTo(2);
        assertThat(added.name(2)).isEqualTo("Age");
        assertThat(added.firstValue("age")).contains("3");
        assertThat(fields.contains("Age")).as("the original is unchanged").isFalse();
        assertThat(Fields.EMPTY.with("Via", "1.1 sluice").firstValue("via")).contains("1.1 sluice");
    }

    @Test
    void equalWhenTheSameFieldsWhateverTheCaseOfTheirNames() {
        Fields a = Fields.of(Map.of("ETag", List.of("\"v1\""), "Vary", List.of("Accept")));
        Fields b = Fields.builder(2)
                .add("vary", List.of("Accept"))
                .add("etag", List.of("\"v1\""))
                .build();

        assertThat(a).isEqualTo(b).hasSameHashCodeAs(b);
        assertThat(a).isNotEqualTo(b.with("Vary", "Accept-Encoding"));
    }

    @Test
    void aBuilderHandsItsFieldsOverOnce() {
        Fields.Builder builder = Fields.builder(1).add("ETag", List.of("\"v1\""));
        Fields built = builder.build();

        assertThatThrownBy(() -> builder.add("Vary", List.of("Accept")))
                .isInstanceOf(IllegalStateException.class)
                .hasMessageContaining("already built");
        assertThatThrownBy(builder::build).isInstanceOf(IllegalStateException.class);
        assertThat(built.size())
                .as("the fields built are not changed by later use")
                .isEqualTo(1);
    }
}
