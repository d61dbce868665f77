package io.sluice.openapi;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import com.fasterxml.jackson.dataformat.yaml.YAMLFactory;
import com.networknt.schema.JsonSchema;
import com.networknt.schema.JsonSchemaFactory;
import com.networknt.schema.SpecVersion;
import com.networknt.schema.ValidationMessage;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.util.List;
import java.util.Set;

/**
 * The OpenAPI document Sluice serves, and JSON Schema validation of real responses against the
 * schemas it declares (OpenAPI 3.1 schemas are JSON Schema 2020-12).
 */
final class OpenApiDocument {
    static final String RESOURCE = "openapi/sluice.yaml";
    private static final ObjectMapper YAML = new ObjectMapper(new YAMLFactory());
    private static final JsonSchemaFactory SCHEMAS = JsonSchemaFactory.getInstance(SpecVersion.VersionFlag.V202012);

    final JsonNode root;

    private OpenApiDocument(JsonNode root) {
        this.root = root;
    }

    static OpenApiDocument fromClasspath() {
        try (InputStream in = OpenApiDocument.class.getClassLoader().getResourceAsStream(RESOURCE)) {
            if (in == null) throw new IllegalStateException(RESOURCE + " not on the classpath");
            return parse(new String(in.readAllBytes(), java.nio.charset.StandardCharsets.UTF_8));
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    static OpenApiDocument parse(String yaml) {
        try {
            return new OpenApiDocument(YAML.readTree(yaml));
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /** JSON Pointer escaping of one reference token (RFC 6901). */
    static String token(String name) {
        return name.replace("~", "~0").replace("/", "~1");
    }

    /** The pointer to a response body's schema: {@code path}, {@code method}, {@code status}, media type. */
    static String responseSchema(String path, String method, String status, String mediaType) {
        return "/paths/" + token(path) + "/" + method + "/responses/" + status + "/content/" + token(mediaType)
                + "/schema";
    }

    /** The node at {@code pointer}, following every {@code $ref} met on the way. */
    JsonNode at(String pointer) {
        return root.at(resolve(pointer));
    }

    /** {@code pointer} rewritten so that no step passes through a {@code $ref}. */
    String resolve(String pointer) {
        String resolved = "";
        for (String step : pointer.substring(1).split("/")) {
            resolved = follow(resolved) + "/" + step;
        }
        return follow(resolved);
    }

    private String follow(String pointer) {
        JsonNode node = root.at(pointer);
        while (node.has("$ref")) {
            pointer = node.get("$ref").asText().substring(1);
            node = root.at(pointer);
        }
        return pointer;
    }

    /**
     * Validates {@code instance} against the schema at {@code pointer}. Validation is strict: every
     * object schema that lists properties is closed, so a field Sluice sends but the document does
     * not declare fails the test (the served document stays open, for clients' forward compatibility).
     */
    List<String> validate(String path, JsonNode instance) {
        String pointer = resolve(path);
        if (root.at(pointer).isMissingNode()) throw new IllegalArgumentException("no schema at " + path);
        ObjectNode document = root.deepCopy();
        close(document.path("components").path("schemas"));
        close(document.at(pointer));
        document.put("$schema", "https://json-schema.org/draft/2020-12/schema");
        document.put("$ref", "#" + pointer);
        JsonSchema schema = SCHEMAS.getSchema(document);
        Set<ValidationMessage> errors = schema.validate(instance);
        return errors.stream().map(ValidationMessage::getMessage).sorted().toList();
    }

    private static void close(JsonNode node) {
        if (node.isObject()) {
            ObjectNode object = (ObjectNode) node;
            if (object.has("properties") && !object.has("additionalProperties")) {
                object.put("additionalProperties", false);
            }
            object.forEach(OpenApiDocument::close);
        } else if (node.isArray()) {
            node.forEach(OpenApiDocument::close);
        }
    }
}
