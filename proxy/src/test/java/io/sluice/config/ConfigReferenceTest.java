package io.sluice.config;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.catchThrowable;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.dataformat.yaml.YAMLFactory;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;

/**
 * docs/configuration.md and {@link ConfigLoader} agree: the page's "Every key" table is the one
 * {@link ConfigReference} generates from the section codecs, every key of
 * {@link ConfigLoader#BUILTIN} is in it, every key in it is one the loader accepts, the page's copy
 * of the built-in defaults is {@code BUILTIN}, its YAML examples load, and it names every rate
 * unit {@link RateLimit} reads.
 */
class ConfigReferenceTest {
    private static final ObjectMapper YAML = new ObjectMapper(new YAMLFactory());
    private static final String PAGE = read(root().resolve("docs/configuration.md"));
    private static final ConfigLoader LOADER =
            new ConfigLoader(Map.of("GITHUB_TOKEN", "t", "SLUICE_ADMIN_TOKEN", "t", "REDIS_PASSWORD", "p"));

    /** Run with {@code -Dsluice.docs.write=true} to rewrite the page's table instead of failing. */
    @Test
    void keyTableIsTheOneGeneratedFromTheCodecs() throws IOException {
        String regenerated = ConfigReference.regenerate(PAGE);
        if (!regenerated.equals(PAGE) && Boolean.getBoolean("sluice.docs.write")) {
            Files.writeString(root().resolve("docs/configuration.md"), regenerated);
            return;
        }
        assertThat(PAGE)
                .as("docs/configuration.md's key table is out of date: run ConfigReferenceTest with"
                        + " -Dsluice.docs.write=true, or paste the expected text")
                .isEqualTo(regenerated);
    }

    @Test
    void everyCodecKeyIsNamedOnce() {
        List<String> names =
                ConfigReference.keys().stream().map(ConfigKey::name).toList();
        assertThat(names).hasSizeGreaterThan(70).doesNotHaveDuplicates();
    }

    @Test
    void everyDefaultCellStartsWithTheBuiltinValue() throws IOException {
        Map<String, String> builtin = new java.util.LinkedHashMap<>();
        builtinValues("", YAML.readTree(ConfigLoader.BUILTIN), builtin);
        int checked = 0;
        for (ConfigKey key : ConfigReference.keys()) {
            String path = key.name().startsWith("<policy>.")
                    ? "defaults." + key.name().substring("<policy>.".length())
                    : key.name();
            String value = builtin.get(path);
            if (value == null) continue;
            assertThat(key.defaultValue())
                    .as("the default of %s, which BUILTIN sets", key.name())
                    .startsWith("`" + value + "`");
            checked++;
        }
        assertThat(checked).isGreaterThan(50);
    }

    /** Scalars, empty lists and empty mappings of a YAML tree, by path ({@code key[].field} for a list's first item). */
    private static void builtinValues(String path, JsonNode node, Map<String, String> out) {
        if (node.isObject() && !node.isEmpty()) {
            node.fields()
                    .forEachRemaining(e ->
                            builtinValues(path.isEmpty() ? e.getKey() : path + "." + e.getKey(), e.getValue(), out));
        } else if (node.isArray() && !node.isEmpty() && node.get(0).isObject()) {
            node.get(0).fields().forEachRemaining(e -> builtinValues(path + "[]." + e.getKey(), e.getValue(), out));
        } else {
            out.put(path, node.isValueNode() ? node.asText() : node.toString());
        }
    }

    @Test
    void everyRateSpellingTheCodecReadsIsDocumented() {
        String types = PAGE.substring(PAGE.indexOf("\n## Every key"), PAGE.indexOf(ConfigReference.BEGIN));
        for (String unit : RateLimit.READ.keySet()) {
            assertThat(types)
                    .as("docs/configuration.md names the rate unit %s", unit)
                    .contains("`N/" + unit + "`");
        }
    }

    @Test
    void everyBuiltinKeyIsDocumented() throws IOException {
        Set<String> documented = documentedKeys();
        List<String> builtin = new ArrayList<>();
        walk("", YAML.readTree(ConfigLoader.BUILTIN), builtin);
        assertThat(builtin).hasSizeGreaterThan(30);
        for (String key : builtin) {
            String asDocumented = key.startsWith("defaults.") ? "<policy>." + key.substring("defaults.".length()) : key;
            // An empty mapping in BUILTIN (defaults.tls, defaults.headers, upstreams) is documented by
            // its own row or by rows for the keys it may hold.
            boolean found = documented.contains(asDocumented)
                    || documented.stream().anyMatch(d -> d.startsWith(asDocumented + "."));
            assertThat(found)
                    .as("docs/configuration.md documents %s", asDocumented)
                    .isTrue();
        }
    }

    @Test
    void everyDocumentedKeyIsAcceptedByTheLoader() {
        Set<String> documented = documentedKeys();
        assertThat(documented).hasSizeGreaterThan(50);
        for (String key : documented) {
            for (String path : concrete(key)) {
                assertThat(probe(path)).as("the loader accepts %s", path).doesNotContain("unknown key");
                // The probe reaches that level of the tree: a misspelt sibling is refused there.
                assertThat(probe(path + "_misspelt"))
                        .as("the loader refuses %s_misspelt", path)
                        .contains(path.replace("[]", "[0]") + "_misspelt: unknown key");
            }
        }
    }

    @Test
    void documentedBuiltinDefaultsAreBuiltin() throws IOException {
        String block = yamlBlocks().stream()
                .filter(b -> b.contains("max_batch_items"))
                .findFirst()
                .orElseThrow();
        assertThat(YAML.readTree(block)).isEqualTo(YAML.readTree(ConfigLoader.BUILTIN));
    }

    @Test
    void yamlExamplesLoad() {
        List<String> blocks = yamlBlocks();
        assertThat(blocks).isNotEmpty();
        for (String block : blocks) LOADER.fromYaml(block);
    }

    /** The first backticked name of each row of the "Every key" table. */
    private static Set<String> documentedKeys() {
        String table = PAGE.substring(PAGE.indexOf("\n## Every key"));
        Set<String> keys = new LinkedHashSet<>();
        Matcher m = Pattern.compile("(?m)^\\| `([^`]+)` \\|").matcher(table);
        while (m.find()) keys.add(m.group(1));
        return keys;
    }

    private static List<String> yamlBlocks() {
        List<String> blocks = new ArrayList<>();
        Matcher m = Pattern.compile("(?s)```yaml\\n(.*?)```").matcher(PAGE);
        while (m.find()) blocks.add(m.group(1));
        return blocks;
    }

    /** Leaf paths of a YAML tree: scalars, empty mappings, and a list's items as {@code key[].field}. */
    private static void walk(String path, JsonNode node, List<String> out) {
        if (node.isObject() && !node.isEmpty()) {
            node.fields()
                    .forEachRemaining(
                            e -> walk(path.isEmpty() ? e.getKey() : path + "." + e.getKey(), e.getValue(), out));
        } else if (node.isArray() && !node.isEmpty() && node.get(0).isObject()) {
            node.get(0).fields().forEachRemaining(e -> walk(path + "[]." + e.getKey(), e.getValue(), out));
        } else {
            out.add(path);
        }
    }

    private static List<String> concrete(String key) {
        if (key.startsWith("<policy>.")) {
            String rest = key.substring("<policy>.".length());
            return List.of("defaults." + rest, "upstreams.doc." + rest);
        }
        return List.of(key.replace("<name>", "doc"));
    }

    /**
     * Loads a config that sets only {@code path}, to a value no key takes as it is, and returns the
     * error ("" when it loads): a known key fails on its value, an unknown one on its name.
     */
    private static String probe(String path) {
        StringBuilder yaml = new StringBuilder();
        String[] parts = path.split("\\.");
        for (int i = 0; i < parts.length; i++) {
            String indent = "  ".repeat(i);
            boolean last = i == parts.length - 1;
            String part = parts[i];
            if (part.endsWith("[]")) {
                yaml.append(indent).append(part, 0, part.length() - 2).append(":\n");
                yaml.append(indent).append("  - ").append(parts[i + 1]).append(": {probe: 1}\n");
                break;
            }
            yaml.append(indent).append(part).append(last ? ": {probe: 1}\n" : ":\n");
            // An upstream must govern an origin before its policy is read.
            if (i == 1 && parts[0].equals("upstreams") && !parts[2].equals("match") && !parts[2].equals("base_url")) {
                yaml.append(indent).append("  match: [doc.example]\n");
            }
        }
        Throwable error = catchThrowable(() -> LOADER.fromYaml(yaml.toString()));
        if (error == null) return "";
        assertThat(error).as("loading\n%s", yaml).isInstanceOf(ConfigException.class);
        return error.getMessage();
    }

    @Test
    void probeTellsAnUnknownKeyFromABadValue() {
        assertThat(probe("server.max_batch_items")).startsWith("server.max_batch_items: ");
        assertThat(probe("server.max_batch_items")).doesNotContain("unknown key");
        assertThat(probe("server.nonsense")).contains("server.nonsense: unknown key");
        assertThatThrownBy(() -> LOADER.fromYaml("server: {nonsense: 1}")).isInstanceOf(ConfigException.class);
    }

    /** The repository root: the nearest directory above the working directory with {@code docs/} and a POM. */
    static Path root() {
        Path dir = Path.of("").toAbsolutePath();
        for (Path d = dir; d != null; d = d.getParent()) {
            if (Files.isDirectory(d.resolve("docs")) && Files.isRegularFile(d.resolve("pom.xml"))) return d;
        }
        throw new IllegalStateException("no docs/ directory above " + dir);
    }

    private static String read(Path path) {
        try {
            return Files.readString(path);
        } catch (IOException e) {
            throw new java.io.UncheckedIOException(e);
        }
    }
}
