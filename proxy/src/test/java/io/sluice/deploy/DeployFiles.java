package io.sluice.deploy;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.dataformat.yaml.YAMLFactory;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;

/** The files under {@code deploy/}, found from the module directory the tests run in. */
final class DeployFiles {
    static final ObjectMapper YAML = new ObjectMapper(new YAMLFactory());

    private DeployFiles() {}

    /** The repository root: the nearest directory above the working directory that has {@code deploy/}. */
    static Path root() {
        Path dir = Path.of("").toAbsolutePath();
        for (Path d = dir; d != null; d = d.getParent()) {
            if (Files.isDirectory(d.resolve("deploy")) && Files.isRegularFile(d.resolve("pom.xml"))) return d;
        }
        throw new IllegalStateException("no deploy/ directory above " + dir);
    }

    static Path deploy(String relative) {
        Path path = root().resolve("deploy").resolve(relative);
        if (!Files.exists(path)) throw new IllegalStateException("missing " + path);
        return path;
    }

    static String read(Path path) {
        try {
            return Files.readString(path);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /** Every YAML document in {@code file} (a file may hold several, separated by {@code ---}). */
    static List<JsonNode> documents(Path file) {
        try (var parser = YAML.getFactory().createParser(file.toFile())) {
            List<JsonNode> docs = new ArrayList<>();
            YAML.readValues(parser, JsonNode.class).forEachRemaining(docs::add);
            return docs;
        } catch (IOException e) {
            throw new UncheckedIOException("cannot parse " + file, e);
        }
    }

    static JsonNode document(Path file) {
        List<JsonNode> docs = documents(file);
        if (docs.size() != 1) throw new IllegalStateException(file + " has " + docs.size() + " documents");
        return docs.get(0);
    }

    static List<Path> yamlFiles() {
        try (Stream<Path> files = Files.walk(root().resolve("deploy"))) {
            return files.filter(Files::isRegularFile)
                    .filter(p -> p.toString().endsWith(".yaml") || p.toString().endsWith(".yml"))
                    .sorted()
                    .toList();
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /**
     * A systemd unit as section → key → values (a key may repeat; continuation lines joined).
     * Comments and blank lines are dropped.
     */
    static Map<String, Map<String, List<String>>> unit(Path file) {
        Map<String, Map<String, List<String>>> sections = new LinkedHashMap<>();
        Map<String, List<String>> current = null;
        StringBuilder pending = new StringBuilder();
        for (String raw : read(file).split("\n", -1)) {
            String line = raw.strip();
            if (pending.isEmpty() && (line.isEmpty() || line.startsWith("#") || line.startsWith(";"))) continue;
            if (line.endsWith("\\")) {
                pending.append(line, 0, line.length() - 1).append(' ');
                continue;
            }
            pending.append(line);
            String entry = pending.toString().replaceAll("\\s+", " ").strip();
            pending.setLength(0);
            if (entry.startsWith("[") && entry.endsWith("]")) {
                current = sections.computeIfAbsent(entry.substring(1, entry.length() - 1), s -> new LinkedHashMap<>());
                continue;
            }
            int eq = entry.indexOf('=');
            if (current == null || eq < 0) throw new IllegalStateException("not a unit line: " + entry);
            current.computeIfAbsent(entry.substring(0, eq).strip(), k -> new ArrayList<>())
                    .add(entry.substring(eq + 1).strip());
        }
        return sections;
    }

    /** Dockerfile instructions in order, continuation lines joined, e.g. {@code ["FROM", "x AS y"]}. */
    static List<String[]> dockerfile(Path file) {
        List<String[]> instructions = new ArrayList<>();
        StringBuilder pending = new StringBuilder();
        for (String raw : read(file).split("\n", -1)) {
            String line = raw.strip();
            if (line.startsWith("#") || (pending.isEmpty() && line.isEmpty())) continue;
            if (line.endsWith("\\")) {
                pending.append(line, 0, line.length() - 1).append(' ');
                continue;
            }
            pending.append(line);
            String text = pending.toString().replaceAll("\\s+", " ").strip();
            pending.setLength(0);
            if (text.isEmpty()) continue;
            int space = text.indexOf(' ');
            instructions.add(
                    new String[] {text.substring(0, space).toUpperCase(java.util.Locale.ROOT), text.substring(space + 1)
                    });
        }
        return instructions;
    }
}
