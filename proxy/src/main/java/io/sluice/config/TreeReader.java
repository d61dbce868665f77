package io.sluice.config;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Map;
import java.util.Optional;
import java.util.Set;

/**
 * Typed readers of a config tree (YAML or JSON, read by Jackson), shared by the section codecs:
 * each names the key path and the bad value in its error. {@code ${ENV}} in a string is
 * substituted from {@code env}.
 */
final class TreeReader {
    private final Map<String, String> env;

    TreeReader(Map<String, String> env) {
        this.env = Map.copyOf(env);
    }

    /** The environment {@code ${ENV}} templates are substituted from. */
    Map<String, String> env() {
        return env;
    }

    /** A TLS version, {@code TLSv1.2} or {@code TLSv1.3}; absent or null is the default. */
    String minVersion(String path, JsonNode node) {
        if (node == null || node.isNull()) return TlsVersions.DEFAULT;
        String value = string(path, node).trim();
        try {
            return TlsVersions.check(value);
        } catch (IllegalArgumentException e) {
            throw new ConfigException(path, "expected TLSv1.2 or TLSv1.3, got \"" + value + "\"");
        }
    }

    /** A path; {@code ~} at its start is the user's home directory. Absent or null is empty. */
    Optional<Path> optionalPath(String path, JsonNode node) {
        if (node == null || node.isNull()) return Optional.empty();
        String value = string(path, node).trim();
        if (value.isEmpty()) throw new ConfigException(path, "expected a file path, got \"\"");
        if (value.equals("~") || value.startsWith("~/")) {
            value = System.getProperty("user.home") + value.substring(1);
        }
        try {
            return Optional.of(Path.of(value));
        } catch (java.nio.file.InvalidPathException e) {
            throw new ConfigException(path, "invalid path \"" + value + "\": " + e.getReason());
        }
    }

    static void readableFile(String path, Path file) {
        if (!Files.isRegularFile(file)) throw new ConfigException(path, "file not found: " + file);
        if (!Files.isReadable(file)) throw new ConfigException(path, "cannot read " + file);
    }

    /** Runs a {@link Pem} read, naming {@code path} in its error; the message never holds file contents. */
    static <T> T pem(String path, java.util.function.Supplier<T> read) {
        try {
            return read.get();
        } catch (IllegalArgumentException e) {
            throw new ConfigException(path, e.getMessage());
        }
    }

    /** Deep merge: mappings merge key by key, anything else in {@code over} replaces. */
    static JsonNode merge(JsonNode base, JsonNode over) {
        if (over == null || over.isMissingNode()) return base;
        if (base == null || !base.isObject() || !over.isObject()) return over.deepCopy();
        ObjectNode result = base.deepCopy();
        over.fields().forEachRemaining(e -> result.set(e.getKey(), merge(result.get(e.getKey()), e.getValue())));
        return result;
    }

    static void checkKeys(String path, JsonNode node, Set<String> allowed) {
        node.fieldNames().forEachRemaining(key -> {
            if (!allowed.contains(key)) {
                throw new ConfigException(
                        path.isEmpty() ? key : path + "." + key,
                        "unknown key (expected one of " + new java.util.TreeSet<>(allowed) + ")");
            }
        });
    }

    static <T> T construct(String path, java.util.function.Supplier<T> constructor) {
        try {
            return constructor.get();
        } catch (IllegalArgumentException | ArithmeticException e) {
            if (e instanceof ConfigException) throw e;
            throw new ConfigException(path, e.getMessage());
        }
    }

    static JsonNode required(String path, JsonNode node) {
        if (node == null || node.isNull()) throw new ConfigException(path, "required");
        return node;
    }

    static JsonNode object(String path, JsonNode node) {
        if (node == null || node.isNull()) return JsonNodeFactory.instance.objectNode();
        if (!node.isObject()) throw new ConfigException(path, "expected a mapping, got " + kind(node) + " " + node);
        return node;
    }

    static String text(String path, JsonNode node) {
        if (node == null || !node.isValueNode() || node.isNull()) {
            throw new ConfigException(path, "expected a string, got " + kind(node));
        }
        return node.asText();
    }

    String string(String path, JsonNode node) {
        return interpolated(path, node).value();
    }

    Interpolated interpolated(String path, JsonNode node) {
        String raw = text(path, node);
        try {
            return Interpolated.of(raw, env);
        } catch (IllegalArgumentException e) {
            throw new ConfigException(path, e.getMessage());
        }
    }

    int integer(String path, JsonNode node) {
        if (node != null && node.isIntegralNumber() && node.canConvertToInt()) return node.intValue();
        String value = string(path, required(path, node));
        try {
            return Integer.parseInt(value.trim());
        } catch (NumberFormatException e) {
            throw new ConfigException(path, "expected a whole number, got \"" + value + "\"");
        }
    }

    /** A share written {@code 0.2} or {@code 20%}; the range is checked by the record. */
    double fraction(String path, JsonNode node) {
        if (node != null && node.isNumber()) return node.doubleValue();
        String value = string(path, required(path, node)).trim();
        try {
            if (value.endsWith("%")) {
                return Double.parseDouble(value.substring(0, value.length() - 1).trim()) / 100;
            }
            return Double.parseDouble(value);
        } catch (NumberFormatException e) {
            throw new ConfigException(path, "expected a fraction such as 0.2 or 20%, got \"" + value + "\"");
        }
    }

    boolean bool(String path, JsonNode node) {
        if (node != null && node.isBoolean()) return node.booleanValue();
        String value = string(path, required(path, node)).trim();
        return switch (value) {
            case "true", "yes", "on" -> true;
            case "false", "no", "off" -> false;
            default -> throw new ConfigException(path, "expected true or false, got \"" + value + "\"");
        };
    }

    Duration duration(String path, JsonNode node) {
        String value = string(path, required(path, node));
        try {
            return Durations.parse(value);
        } catch (IllegalArgumentException e) {
            throw new ConfigException(path, e.getMessage());
        }
    }

    DataSize size(String path, JsonNode node) {
        String value = string(path, required(path, node));
        try {
            return DataSize.parse(value);
        } catch (IllegalArgumentException | ArithmeticException e) {
            throw new ConfigException(path, e.getMessage());
        }
    }

    HostPort hostPort(String path, JsonNode node) {
        String value = string(path, required(path, node));
        try {
            return HostPort.parse(value);
        } catch (IllegalArgumentException e) {
            throw new ConfigException(path, e.getMessage());
        }
    }

    static String kind(JsonNode node) {
        if (node == null || node.isNull() || node.isMissingNode()) return "nothing";
        if (node.isObject()) return "a mapping";
        if (node.isArray()) return "a list";
        if (node.isNumber()) return "a number";
        if (node.isBoolean()) return "a boolean";
        return "a string";
    }
}
