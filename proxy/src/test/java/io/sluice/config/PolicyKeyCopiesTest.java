package io.sluice.config;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatCode;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import com.fasterxml.jackson.databind.node.TextNode;
import com.fasterxml.jackson.dataformat.yaml.YAMLFactory;
import com.networknt.schema.JsonSchema;
import com.networknt.schema.JsonSchemaFactory;
import com.networknt.schema.SpecVersion;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.TreeSet;
import java.util.function.Consumer;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;

/**
 * The copies of the policy's key names outside its codecs agree with {@link UpstreamCodec} and
 * {@link PolicyCodec}: the admin API's {@code UpstreamPolicy} schema (openapi/sluice.yaml) names
 * exactly the keys they read, at every level they list, each with the type they declare and no
 * default but theirs; every rate spelling the codec reads is written back as one that schema takes;
 * and the admin UI's form edits only keys they read, each field (the grouped ones of FORM_GROUPS
 * too) an input of the key's type. (docs/configuration.md's table is generated from them:
 * ConfigReferenceTest.)
 */
class PolicyKeyCopiesTest {
    private static final ObjectMapper YAML = new ObjectMapper(new YAMLFactory());
    private static final JsonSchemaFactory SCHEMAS = JsonSchemaFactory.getInstance(SpecVersion.VersionFlag.V202012);
    private static final String UPSTREAM_POLICY = "/components/schemas/UpstreamPolicy";
    /** "default false", "default: 5s" in a description. */
    private static final Pattern DEFAULT_IN_WORDS = Pattern.compile("(?i)\\bdefault\\b:?\\s+`?([\\w./%-]+)");

    /** Codec types without a grammar, and the one JSON Schema type each is. */
    private static final Map<String, String> PLAIN = Map.of(
            "integer", "integer",
            "boolean", "boolean",
            "path", "string",
            "URL", "string",
            "list", "array",
            "mapping", "object");

    /**
     * A codec type written in a grammar: the JSON Schema types its schema must have, values the codec
     * reads and values it refuses (theSamplesOfEachGrammarAreWhatTheCodecsRead checks both against the
     * codec), which the schema's pattern must take and refuse alike.
     */
    private record Grammar(Set<String> types, List<String> valid, List<String> invalid, Consumer<String> codec) {}

    private static final Map<String, Grammar> GRAMMARS = Map.of(
            "duration",
            new Grammar(
                    Set.of("string"),
                    List.of("0", "250ms", "5s", "2m", "1h", "1d", "1m30s", "106751d"),
                    List.of("5", "5 s", "1.5s", "-1s", "5sec", "PT5S", ""),
                    Durations::parse),
            "rate",
            new Grammar(
                    Set.of("string"),
                    List.of("50/s", "90/min", "5000/h", "100000/d"),
                    List.of("50", "fast", "1.5/s", "/s", "50/week"),
                    value -> RateLimit.parse(value, null)),
            "share",
            new Grammar(
                    Set.of("number", "string"),
                    List.of("20%", "0.2", "12.5%", "0"),
                    List.of("twenty", "%", "20%%", "0.2.1"),
                    value -> new TreeReader(Map.of()).fraction("share", TextNode.valueOf(value))),
            "size",
            new Grammar(
                    Set.of("string"),
                    List.of("65536", "64KB", "1MB", "4MiB", "8mb", "512 KB"),
                    List.of("4M", "lots", "1.5MB", "-1MB", "MB", ""),
                    DataSize::parse),
            "`header:NAME` \\| `query:NAME`",
            new Grammar(
                    Set.of("string"),
                    List.of("header:X-Tenant", "query:api_key"),
                    List.of("cookie:session", "header", "header:"),
                    KeySource::parse));

    @Test
    void upstreamPolicySchemaNamesTheCodecsKeysAtEveryLevel() throws IOException {
        JsonNode root = openApi();
        JsonNode upstreamPolicy = root.at(UPSTREAM_POLICY);
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
    void upstreamPolicySchemaTypesAndDefaultsAreTheCodecs() throws IOException {
        JsonNode root = openApi();
        List<String> disagreements = new ArrayList<>();
        Map<String, ConfigKey> keys = codecKeys();
        keys.forEach((path, key) -> {
            String pointer = pointer(root, path);
            JsonNode property = root.at(pointer);
            JsonNode schema = resolve(root, property);
            Set<String> types = new TreeSet<>();
            schema.path("type").forEach(t -> types.add(t.asText()));
            if (schema.path("type").isTextual()) types.add(schema.get("type").asText());
            JsonSchema validator = validator(root, pointer);
            String wrong = typeDisagreement(key.type(), types, schema, validator);
            if (wrong == null) wrong = defaultDisagreement(key.defaultValue(), property, schema, validator);
            if (wrong != null) {
                disagreements.add("%s: schema %s, codec %s: %s".formatted(path, describe(schema), key.type(), wrong));
            }
        });
        assertThat(keys).hasSizeGreaterThan(40);
        assertThat(disagreements)
                .as("UpstreamPolicy properties whose schema is not what the codecs read")
                .isEmpty();
    }

    @Test
    void theSamplesOfEachGrammarAreWhatTheCodecsRead() {
        GRAMMARS.forEach((type, grammar) -> {
            for (String value : grammar.valid()) {
                assertThatCode(() -> grammar.codec().accept(value))
                        .as("the codec reads %s \"%s\"", type, value)
                        .doesNotThrowAnyException();
            }
            for (String value : grammar.invalid()) {
                assertThatThrownBy(() -> grammar.codec().accept(value))
                        .as("the codec refuses %s \"%s\"", type, value)
                        .isInstanceOf(RuntimeException.class);
            }
        });
    }

    @Test
    void everyRateSpellingTheCodecReadsIsWrittenBackAsOneTheSchemaTakes() throws IOException {
        JsonNode root = openApi();
        List<JsonSchema> schemas = List.of(
                validator(root, pointer(root, "limits[].rate")),
                validator(root, pointer(root, "key_limits[].limits[].rate")));
        ConfigLoader loader = new ConfigLoader(Map.of());
        assertThat(RateLimit.READ.keySet()).contains("s", "min", "h", "d", "sec", "hour", "ms");
        for (String unit : RateLimit.READ.keySet()) {
            for (String spelling : List.of("7/" + unit, " 7 / " + unit + " ")) {
                Policy read = loader.fromYaml("defaults: {limits: [{rate: \"" + spelling + "\"}]}")
                        .defaults();
                ObjectNode written = PolicyCodec.write(read);
                JsonNode rate = written.at("/limits/0/rate");
                for (JsonSchema schema : schemas) {
                    assertThat(schema.validate(rate))
                            .as("\"%s\" written back as %s", spelling, rate)
                            .isEmpty();
                }
                assertThat(loader.defaultsPolicy(written, ConfigLoader.builtinDefaultsNode()))
                        .as("\"%s\" written back as %s reads back the same", spelling, rate)
                        .isEqualTo(read);
            }
        }
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

    /**
     * The form's fields: each names a key the codecs read ({@code retry.max_attempts}; a bucket's
     * {@code rate} is {@code limits[].rate}), its input kind is the codec's type (a number an integer,
     * a checkbox a boolean or a key of one value), and a sample it shows is a value the codec reads.
     * The grouped fields are FORM_GROUPS, which keptKeys leaves out of what it sends back as it was.
     */
    @Test
    void adminUiFormFieldsAreKeysTheCodecsReadWithTheirTypes() throws IOException {
        Path ui = ConfigReferenceTest.root().resolve("admin-ui/src/main/resources/sluice-admin");
        String app = Files.readString(ui.resolve("app.js"));
        String html = Files.readString(ui.resolve("index.html"));
        Map<String, ConfigKey> keys = codecKeys();

        Matcher formGroups = Pattern.compile("const FORM_GROUPS = \\{(.*)\\};").matcher(app);
        assertThat(formGroups.find()).as("app.js declares FORM_GROUPS").isTrue();
        Set<String> grouped = new TreeSet<>();
        Matcher group = Pattern.compile("(\\w+): \\[([^\\]]*)\\]").matcher(formGroups.group(1));
        while (group.find()) {
            Matcher quoted = Pattern.compile("'([^']+)'").matcher(group.group(2));
            while (quoted.find()) grouped.add(group.group(1) + "." + quoted.group(1));
        }
        assertThat(grouped).contains("retry.max_attempts", "timeouts.connect", "cache.enabled");
        List<String> disagreements = new ArrayList<>();
        for (String key : grouped) {
            if (!keys.containsKey(key)) disagreements.add("FORM_GROUPS: " + key + ": no codec reads it");
        }

        // The editor's inputs (index.html), and a bucket's (limitRow in app.js), as attribute → value.
        int form = html.indexOf("<form id=\"editor-form\"");
        assertThat(form).as("index.html has the editor's form").isNotNegative();
        String editor = html.substring(form, html.indexOf("</form>", form));
        Map<String, Map<String, String>> fields = new TreeMap<>();
        Matcher input = Pattern.compile("<input ([^>]*)>").matcher(editor);
        while (input.find()) {
            Map<String, String> attributes = attributes(input.group(1), "(\\w+)=\"([^\"]*)\"");
            fields.put(attributes.get("name"), attributes);
        }
        Matcher bucketInput =
                Pattern.compile("el\\('input', \\{ ([^}]*) \\}\\)").matcher(app);
        while (bucketInput.find()) {
            Map<String, String> attributes = attributes(bucketInput.group(1), "(\\w+): '([^']*)'");
            fields.put("limits[]." + attributes.get("name"), attributes);
        }
        assertThat(fields).containsKeys("retry.max_attempts", "cache.default_ttl", "limits[].rate", "limits[].per");
        fields.remove("name"); // the upstream's name: the key it is stored under, not a key of its own
        fields.forEach((name, attributes) -> {
            ConfigKey key = keys.get(name);
            if (key == null) {
                disagreements.add(name + ": no codec reads it");
                return;
            }
            String kind = attributes.getOrDefault("type", "text");
            List<String> values = enumeration(key.type());
            boolean fits = switch (kind) {
                case "number" -> key.type().equals("integer");
                // Sends true or false, or (per: key) its one value or nothing.
                case "checkbox" -> key.type().equals("boolean") || (values != null && values.size() == 1);
                case "text" -> !Set.of("integer", "boolean", "mapping").contains(key.type());
                default -> false;
            };
            if (!fits) disagreements.add(name + ": a " + kind + " input, but the codec reads a " + key.type());
            String sample = attributes.get("placeholder");
            Grammar grammar = GRAMMARS.get(key.type());
            if (sample != null && !sample.startsWith("(") && grammar != null) {
                try {
                    grammar.codec().accept(sample);
                } catch (RuntimeException e) {
                    disagreements.add(name + ": shows the sample \"" + sample + "\", which the codec refuses");
                }
            }
        });
        assertThat(disagreements)
                .as("admin UI form fields that are not what the codecs read")
                .isEmpty();
        assertThat(fields.keySet().stream().filter(name -> name.matches("\\w+\\.\\w+")))
                .as("the grouped inputs of index.html are FORM_GROUPS")
                .containsExactlyInAnyOrderElementsOf(grouped);
    }

    /** The attributes {@code pattern} finds in {@code text}, each a name and a value. */
    private static Map<String, String> attributes(String text, String pattern) {
        Map<String, String> attributes = new LinkedHashMap<>();
        Matcher m = Pattern.compile(pattern).matcher(text);
        while (m.find()) attributes.put(m.group(1), m.group(2));
        return attributes;
    }

    @Test
    void levelsOfAKeyListAreItsParents() {
        Map<String, Set<String>> levels = levels(List.of("a.b[].c", "a.d", "e"));
        assertThat(levels).containsOnlyKeys("", "a", "a.b[]");
        assertThat(levels.get("")).containsExactlyInAnyOrder("a", "e");
        assertThat(levels.get("a")).containsExactlyInAnyOrder("b", "d");
        assertThat(levels.get("a.b[]")).containsExactly("c");
    }

    /**
     * What is wrong with a schema of {@code types} for a key the codec declares of {@code codecType},
     * or null. A codec type with a grammar must be a string with a pattern that takes what the codec
     * reads and refuses what it refuses; an enumeration must list the codec's values.
     */
    private static String typeDisagreement(String codecType, Set<String> types, JsonNode schema, JsonSchema validator) {
        Grammar grammar = GRAMMARS.get(codecType);
        if (grammar != null) {
            if (!types.equals(grammar.types())) return "expected type " + String.join(" or ", grammar.types());
            if (!schema.has("pattern")) return "expected a pattern for " + codecType;
            for (String value : grammar.valid()) {
                if (!valid(validator, TextNode.valueOf(value)))
                    return "refuses \"" + value + "\", which the codec reads";
            }
            for (String value : grammar.invalid()) {
                if (valid(validator, TextNode.valueOf(value)))
                    return "takes \"" + value + "\", which the codec refuses";
            }
            return null;
        }
        List<String> values = enumeration(codecType);
        if (values != null) {
            if (!types.equals(Set.of("string"))) return "expected type string";
            List<String> listed = new ArrayList<>();
            schema.path("enum").forEach(v -> listed.add(v.asText()));
            return new TreeSet<>(listed).equals(new TreeSet<>(values)) ? null : "expected enum " + values;
        }
        String expected = PLAIN.get(codecType);
        if (expected == null) return "no rule in this test for the codec type " + codecType;
        if (!types.equals(Set.of(expected))) return "expected type " + expected;
        if (codecType.equals("URL") && !schema.path("format").asText().equals("uri")) return "expected format uri";
        return null;
    }

    /**
     * What is wrong with the schema's defaults against the codec's {@code codecDefault}, or null: a
     * literal default the codec states must be valid under the schema; a default the schema states
     * (as {@code default}, or in its description as "default X" or "off unless set") must be the
     * codec's.
     */
    private static String defaultDisagreement(
            String codecDefault, JsonNode property, JsonNode schema, JsonSchema validator) {
        JsonNode literal = literal(codecDefault);
        if (literal != null && !valid(validator, literal)) {
            return "the codec's default " + literal + " is not valid here: " + validator.validate(literal);
        }
        JsonNode stated = property.has("default") ? property.get("default") : schema.get("default");
        if (stated != null && !stated.equals(literal)) {
            return "default " + stated + ", but the codec's is " + codecDefault;
        }
        String description = property.path("description").asText() + " "
                + schema.path("description").asText();
        Matcher said = DEFAULT_IN_WORDS.matcher(description);
        if (said.find() && (literal == null || !literal.asText().equals(said.group(1)))) {
            return "the description says default " + said.group(1) + ", but the codec's is " + codecDefault;
        }
        boolean offUnlessSet =
                codecDefault.equals("unset") || codecDefault.equals("—") || codecDefault.contains("off unless set");
        if (description.toLowerCase(Locale.ROOT).contains("off unless set") && !offUnlessSet) {
            return "the description says off unless set, but the codec's default is " + codecDefault;
        }
        return null;
    }

    /**
     * The value a codec default starts with ({@code `32`}, {@code `5s` (…)}), read as YAML; null when
     * there is none ({@code —}, {@code unset}) or it names another key ({@code `tls.min_version`}).
     */
    private static JsonNode literal(String codecDefault) {
        Matcher m = Pattern.compile("^`([^`]*)`").matcher(codecDefault);
        if (!m.find() || m.group(1).matches("[a-z_]+(\\.[a-z_]+)+")) return null;
        try {
            return YAML.readTree(m.group(1));
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /** The values of a codec type written as alternatives ({@code `a` \| `b`}), or null. */
    private static List<String> enumeration(String codecType) {
        if (codecType.equals("class"))
            return Arrays.stream(Priority.values()).map(Priority::tag).toList();
        if (!codecType.matches("`[^`]+`( \\\\\\| `[^`]+`)*")) return null;
        List<String> values = new ArrayList<>();
        Matcher m = Pattern.compile("`([^`]+)`").matcher(codecType);
        while (m.find()) values.add(m.group(1));
        return values;
    }

    /** The schema's type, and its format, pattern or enum: {@code string (pattern ^…$)}. */
    private static String describe(JsonNode schema) {
        String type = schema.path("type").isArray()
                ? schema.get("type").toString()
                : schema.path("type").asText("none");
        for (String detail : List.of("format", "pattern", "enum")) {
            if (schema.has(detail)) return type + " (" + detail + " " + schema.get(detail) + ")";
        }
        return type;
    }

    private static boolean valid(JsonSchema validator, JsonNode value) {
        return validator.validate(value).isEmpty();
    }

    /** A validator of the schema at {@code pointer}, with the document's {@code $ref}s resolvable. */
    private static JsonSchema validator(JsonNode root, String pointer) {
        ObjectNode document = root.deepCopy();
        document.put("$schema", "https://json-schema.org/draft/2020-12/schema");
        document.put("$ref", "#" + pointer);
        return SCHEMAS.getSchema(document);
    }

    /** The codecs' keys relative to an upstream, grouped by the path of their parent. */
    private static Map<String, Set<String>> codecLevels() {
        return levels(List.copyOf(codecKeys().keySet()));
    }

    /** The codecs' keys by their path relative to an upstream ({@code limits[].rate}). */
    private static Map<String, ConfigKey> codecKeys() {
        Map<String, ConfigKey> keys = new LinkedHashMap<>();
        UpstreamCodec.KEYS.forEach(k -> keys.put(k.name().substring("upstreams.<name>.".length()), k));
        PolicyCodec.KEYS.forEach(k -> keys.put(k.name().substring("<policy>.".length()), k));
        return keys;
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
        return path.isEmpty() ? schema : root.at(pointer(root, path));
    }

    /**
     * The JSON pointer of {@code path}'s schema in UpstreamPolicy: {@code x[]} is the items of the list
     * {@code x}, also when the list is one branch of a {@code oneOf} ({@code limits: learn}).
     */
    private static String pointer(JsonNode root, String path) {
        String pointer = UPSTREAM_POLICY;
        for (String segment : path.split("\\.")) {
            pointer = follow(root, pointer) + "/properties/" + segment.replace("[]", "");
            assertThat(root.at(pointer).isMissingNode())
                    .as("UpstreamPolicy has %s", path)
                    .isFalse();
            if (segment.endsWith("[]")) pointer = items(root, follow(root, pointer));
        }
        return pointer;
    }

    private static String items(JsonNode root, String list) {
        if (root.at(list).has("items")) return list + "/items";
        for (int i = 0; i < root.at(list).path("oneOf").size(); i++) {
            String branch = follow(root, list + "/oneOf/" + i);
            if (root.at(branch).has("items")) return branch + "/items";
        }
        throw new AssertionError("not a list schema: " + list);
    }

    /** {@code pointer}, past every {@code $ref} it leads to. */
    private static String follow(JsonNode root, String pointer) {
        while (root.at(pointer).has("$ref"))
            pointer = root.at(pointer).get("$ref").asText().substring(1);
        return pointer;
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
