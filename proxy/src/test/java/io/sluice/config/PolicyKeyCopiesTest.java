package io.sluice.config;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.dataformat.yaml.YAMLFactory;
import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;

/**
 * The copies of the policy's key names outside its codecs agree with {@link UpstreamCodec} and
 * {@link PolicyCodec}: the admin API's {@code UpstreamPolicy} schema (openapi/sluice.yaml) names
 * exactly the keys they read, at every level they list, and the admin UI's form edits only keys
 * they read. (docs/configuration.md's table is generated from them: ConfigReferenceTest.)
 */
class PolicyKeyCopiesTest {
    private static final ObjectMapper YAML = new ObjectMapper(new YAMLFactory());

    @Test
    void upstreamPolicySchemaNamesTheCodecsKeysAtEveryLevel() throws IOException {
        JsonNode root = openApi();
        JsonNode upstreamPolicy = root.at("/components/schemas/UpstreamPolicy");
        assertThat(upstreamPolicy.isMissingNode()).isFalse();

        Map<String, Set<String>> levels = codecLevels();
        assertThat(levels).containsKeys("", "limits[]", "timeouts", "retry", "cache", "tls", "priority.weights");
        levels.forEach((parent, names) -> {
            JsonNode schema = at(root, upstreamPolicy, parent);
            Set<String> properties = new LinkedHashSet<>();
            resolve(root, schema).path("properties").fieldNames().forEachRemaining(properties::add);
            assertThat(properties)
                    .as("properties of UpstreamPolicy%s", parent.isEmpty() ? "" : "." + parent)
                    .containsExactlyInAnyOrderElementsOf(names);
        });
    }

    @Test
    void adminUiFormEditsOnlyKeysTheCodecsRead() throws IOException {
        String app =
                Files.readString(ConfigReferenceTest.root().resolve("admin-ui/src/main/resources/sluice-admin/app.js"));
        Matcher formKeys = Pattern.compile("const FORM_KEYS = \\[([^\\]]*)\\]").matcher(app);
        assertThat(formKeys.find()).as("app.js declares FORM_KEYS").isTrue();
        List<String> keys = new ArrayList<>();
        Matcher quoted = Pattern.compile("'([^']+)'").matcher(formKeys.group(1));
        while (quoted.find()) keys.add(quoted.group(1));
        assertThat(keys).contains("max_concurrency", "base_url");
        Set<String> known = codecLevels().get("");
        for (String key : keys) {
            // `name` is the upstream's name: the key it is stored under, not a key of its own.
            if (!key.equals("name"))
                assertThat(known).as("the admin UI's form key %s", key).contains(key);
        }
    }

    @Test
    void levelsOfAKeyListAreItsParents() {
        Map<String, Set<String>> levels = levels(List.of("a.b[].c", "a.d", "e"));
        assertThat(levels).containsOnlyKeys("", "a", "a.b[]");
        assertThat(levels.get("")).containsExactlyInAnyOrder("a", "e");
        assertThat(levels.get("a")).containsExactlyInAnyOrder("b", "d");
        assertThat(levels.get("a.b[]")).containsExactly("c");
    }

    /** The codecs' keys relative to an upstream, grouped by the path of their parent. */
    private static Map<String, Set<String>> codecLevels() {
        List<String> names = new ArrayList<>();
        UpstreamCodec.KEYS.forEach(k -> names.add(k.name().substring("upstreams.<name>.".length())));
        PolicyCodec.KEYS.forEach(k -> names.add(k.name().substring("<policy>.".length())));
        return levels(names);
    }

    /** {@code a.b[].c} gives {@code "" → a}, {@code a → b}, {@code a.b[] → c}. */
    private static Map<String, Set<String>> levels(List<String> names) {
        Map<String, Set<String>> levels = new TreeMap<>();
        for (String name : names) {
            String[] segments = name.split("\\.");
            String parent = "";
            for (String segment : segments) {
                levels.computeIfAbsent(parent, p -> new LinkedHashSet<>()).add(segment.replace("[]", ""));
                parent = parent.isEmpty() ? segment : parent + "." + segment;
            }
        }
        return levels;
    }

    /** The schema of {@code path} under {@code schema}: {@code x[]} is the items of the list {@code x}. */
    private static JsonNode at(JsonNode root, JsonNode schema, String path) {
        JsonNode node = schema;
        if (path.isEmpty()) return node;
        for (String segment : path.split("\\.")) {
            boolean list = segment.endsWith("[]");
            node = resolve(root, node).path("properties").path(segment.replace("[]", ""));
            assertThat(node.isMissingNode()).as("UpstreamPolicy has %s", path).isFalse();
            if (list) node = items(root, node);
        }
        return node;
    }

    /** The items of a list schema, also when it is one branch of a {@code oneOf} ({@code limits: learn}). */
    private static JsonNode items(JsonNode root, JsonNode schema) {
        JsonNode resolved = resolve(root, schema);
        if (resolved.has("items")) return resolved.get("items");
        for (JsonNode branch : resolved.path("oneOf")) {
            if (resolve(root, branch).has("items")) return resolve(root, branch).get("items");
        }
        throw new AssertionError("not a list schema: " + schema);
    }

    private static JsonNode resolve(JsonNode root, JsonNode schema) {
        JsonNode ref = schema.get("$ref");
        return ref == null ? schema : resolve(root, root.at(ref.asText().substring(1)));
    }

    private static JsonNode openApi() throws IOException {
        try (InputStream in = PolicyKeyCopiesTest.class.getClassLoader().getResourceAsStream("openapi/sluice.yaml")) {
            assertThat(in).as("openapi/sluice.yaml on the classpath").isNotNull();
            return YAML.readTree(in);
        }
    }
}
