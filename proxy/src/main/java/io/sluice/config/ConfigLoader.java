package io.sluice.config;

import static io.sluice.config.TreeReader.checkKeys;
import static io.sluice.config.TreeReader.kind;
import static io.sluice.config.TreeReader.merge;
import static io.sluice.config.TreeReader.object;

import com.fasterxml.jackson.core.JsonFactory;
import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.core.JsonToken;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.ObjectNode;
import com.fasterxml.jackson.dataformat.yaml.YAMLFactory;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Optional;
import java.util.Set;

/**
 * Reads configuration, one section codec per section ({@link PolicyCodec}, {@link UpstreamCodec},
 * {@code ServerCodec}, {@code TlsCodec}, …: each owns its keys and their validation, and lists them
 * for docs/configuration.md). The built-in defaults ({@link #BUILTIN}) are themselves a config document;
 * the user's file is merged over them, and each upstream is merged over {@code defaults}, so every
 * key is optional and an upstream states only what differs. Unknown keys are errors (a typo must
 * not silently fall back to a default), and every error names the key path and the bad value.
 */
public final class ConfigLoader {

    /**
     * The built-in defaults, as documented in docs/configuration.md (ConfigReferenceTest checks it).
     * Written as JSON, which YAML reads as well, so that a start without a config file needs neither
     * a YAML parser nor an {@code ObjectMapper} to read it ({@link #builtin}): SnakeYAML and Jackson's
     * mappers were most of the classes such a start loaded to read its config (docs/performance.md,
     * "Start time and footprint").
     */
    public static final String BUILTIN = """
            {
              "listen": "127.0.0.1:7600",
              "admin": {"listen": "127.0.0.1:7601", "token": "${SLUICE_ADMIN_TOKEN:-}", "insecure_open": false},
              "server": {
                "max_batch_items": 100000,
                "max_batch_bytes": "64MB",
                "max_batch_concurrency": 1000,
                "max_item_response_bytes": "8MB",
                "max_request_body": "1GB",
                "max_header_size": "64KB",
                "max_response_header_size": "64KB",
                "max_response_headers": 200,
                "idle_timeout": "2m",
                "upstream_idle_timeout": "30s",
                "shutdown_grace": "30s",
                "io_threads": 0,
                "worker_threads": 0
              },
              "cache": {"max_size": "256MB", "max_entry_size": "8MB", "max_in_flight": "64MB"},
              "defaults": {
                "limits": [{"rate": "50/s", "burst": 50}],
                "max_concurrency": 32,
                "max_wait": "30s",
                "max_cooldown": "10m",
                "max_keys": 10000,
                "cooldown": "upstream",
                "key_metrics": 0,
                "key_limits": [],
                "learn": false,
                "free_304": false,
                "timeouts": {"connect": "5s", "response": "30s", "total": "60s"},
                "retry": {"max_attempts": 3, "base_delay": "100ms", "max_delay": "10s", "budget": "20%", "budget_reserve": 10},
                "cache": {"enabled": true, "max_ttl": "1d", "min_uses": 1},
                "headers": {},
                "allow_private": false,
                "connect": "intercept",
                "tunnel_idle_timeout": "5m",
                "tls": {}
              },
              "tls": {"ca_dir": "~/.sluice", "min_version": "TLSv1.2", "provider": "auto"},
              "tracing": {"sample_ratio": 1.0, "service_name": "sluice", "schedule_delay": "5s"},
              "log": {"format": "text", "access": false},
              "upstreams": {}
            }
            """;

    private static final Set<String> TOP_KEYS =
            Set.of("listen", "admin", "server", "cache", "defaults", "upstreams", "redis", "tls", "tracing", "log");

    private final TreeReader in;
    private final PolicyCodec policyCodec;
    private final UpstreamCodec upstreamCodec;

    public ConfigLoader(Map<String, String> env) {
        this.in = new TreeReader(env);
        this.policyCodec = new PolicyCodec(in);
        this.upstreamCodec = new UpstreamCodec(policyCodec);
    }

    /** The built-in defaults alone: what {@code java -jar sluice.jar} runs with. */
    public SluiceConfig defaults() {
        return read(builtin());
    }

    public SluiceConfig load(Path file) {
        String text;
        try {
            text = Files.readString(file);
        } catch (NoSuchFileException e) {
            throw new ConfigException("", "config file not found: " + file);
        } catch (IOException e) {
            throw new ConfigException("", "cannot read config file " + file + ": " + e.getMessage());
        }
        return fromYaml(text);
    }

    public SluiceConfig fromYaml(String yaml) {
        JsonNode user;
        try {
            user = Yaml.MAPPER.readTree(yaml);
        } catch (JsonProcessingException e) {
            var location = e.getLocation();
            throw new ConfigException(
                    "",
                    "invalid YAML" + (location == null ? "" : " at line " + location.getLineNr()) + ": "
                            + e.getOriginalMessage());
        }
        if (user == null || user.isMissingNode() || user.isNull()) user = JsonNodeFactory.instance.objectNode();
        if (!user.isObject()) throw new ConfigException("", "the config must be a mapping of keys, not " + kind(user));
        checkKeys("", user, TOP_KEYS);
        JsonNode root = merge(builtin(), user);
        return read(root);
    }

    /**
     * Reads one upstream from a JSON/YAML tree in the config's own shape, merged over
     * {@code defaults}; the admin API uses this so that its validation is the config's.
     */
    public UpstreamConfig upstream(String name, JsonNode node, JsonNode defaultsNode) {
        return upstreamCodec.read(name, node, defaultsNode);
    }

    /**
     * Reads a {@code defaults} policy from a tree in the config's shape, merged over {@code base};
     * the admin API uses this to replace the policy of origins no upstream claims.
     */
    public Policy defaultsPolicy(JsonNode node, JsonNode base) {
        if (!node.isObject()) throw new ConfigException("defaults", "expected a mapping, got " + kind(node));
        checkKeys("defaults", node, PolicyCodec.NAMES);
        return policyCodec.read("defaults", merge(base, node));
    }

    /** The built-in {@code defaults} policy tree, for callers of {@link #upstream}. */
    public static JsonNode builtinDefaultsNode() {
        return builtin().get("defaults");
    }

    private SluiceConfig read(JsonNode root) {
        ServerCodec serverCodec = new ServerCodec(in);
        HostPort listen = serverCodec.listen(root.get("listen"));
        AdminConfig admin = new AdminCodec(in).read(object("admin", root.get("admin")));
        ServerConfig server = serverCodec.read(object("server", root.get("server")));
        CacheConfig cache = new CacheCodec(in).read(object("cache", root.get("cache")));
        TlsConfig tls = new TlsCodec(in).read(object("tls", root.get("tls")));

        JsonNode defaultsNode = object("defaults", root.get("defaults"));
        checkKeys("defaults", defaultsNode, PolicyCodec.NAMES);
        // tls.min_version is the default of every policy's own; defaults.tls.min_version, when
        // written, wins over it, and an upstream's over both (by the usual merge).
        JsonNode defaultsTls = object("defaults.tls", defaultsNode.get("tls"));
        if (!defaultsTls.has("min_version") || defaultsTls.get("min_version").isNull()) {
            ObjectNode withVersion = defaultsTls.deepCopy();
            withVersion.put("min_version", tls.minVersion());
            ((ObjectNode) defaultsNode).set("tls", withVersion);
        }
        Policy defaults = policyCodec.read("defaults", defaultsNode);

        JsonNode upstreamsNode = root.get("upstreams");
        Map<String, UpstreamConfig> upstreams = new LinkedHashMap<>();
        if (upstreamsNode != null && !upstreamsNode.isNull()) {
            object("upstreams", upstreamsNode);
            for (Iterator<Map.Entry<String, JsonNode>> it = upstreamsNode.fields(); it.hasNext(); ) {
                var entry = it.next();
                upstreams.put(entry.getKey(), upstream(entry.getKey(), entry.getValue(), defaultsNode));
            }
        }

        Optional<RedisConfig> redis = new RedisCodec(in).read(root.get("redis"));
        TracingConfig tracing = new TracingCodec(in).read(object("tracing", root.get("tracing")));
        LogConfig log = new LogCodec(in).read(object("log", root.get("log")));
        return new SluiceConfig(listen, admin, server, cache, defaults, upstreams, redis, tls, tracing, log);
    }

    /**
     * {@link #BUILTIN} as a tree, read with Jackson's streaming parser alone: an {@link ObjectMapper}
     * (some hundreds of classes) is then not made at all by a start without a config file.
     */
    private static JsonNode builtin() {
        try (JsonParser parser = BuiltinJson.FACTORY.createParser(BUILTIN)) {
            parser.nextToken();
            return BuiltinJson.tree(parser);
        } catch (IOException e) {
            throw new IllegalStateException("built-in config does not parse", e);
        }
    }

    /** Jackson's YAML mapper (and SnakeYAML), loaded only when a config file or document is read. */
    private static final class Yaml {
        static final ObjectMapper MAPPER = new ObjectMapper(new YAMLFactory());
    }

    /** The plain JSON reader of {@link #BUILTIN}: tokens to tree nodes, nothing else. */
    private static final class BuiltinJson {
        static final JsonFactory FACTORY = new JsonFactory();

        /** The value whose first token {@code parser} is on; leaves it on the value's last token. */
        static JsonNode tree(JsonParser parser) throws IOException {
            JsonNodeFactory nodes = JsonNodeFactory.instance;
            return switch (parser.currentToken()) {
                case START_OBJECT -> {
                    ObjectNode object = nodes.objectNode();
                    while (parser.nextToken() == JsonToken.FIELD_NAME) {
                        String name = parser.currentName();
                        parser.nextToken();
                        object.set(name, tree(parser));
                    }
                    yield object;
                }
                case START_ARRAY -> {
                    var array = nodes.arrayNode();
                    while (parser.nextToken() != JsonToken.END_ARRAY) array.add(tree(parser));
                    yield array;
                }
                case VALUE_STRING -> nodes.textNode(parser.getText());
                case VALUE_NUMBER_INT -> nodes.numberNode(parser.getIntValue());
                case VALUE_NUMBER_FLOAT -> nodes.numberNode(parser.getDoubleValue());
                case VALUE_TRUE, VALUE_FALSE -> nodes.booleanNode(parser.getBooleanValue());
                case VALUE_NULL -> nodes.nullNode();
                default -> throw new IOException("unexpected " + parser.currentToken());
            };
        }
    }
}
