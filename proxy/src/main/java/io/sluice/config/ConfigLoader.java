package io.sluice.config;

import static io.sluice.config.TreeReader.checkKeys;
import static io.sluice.config.TreeReader.construct;
import static io.sluice.config.TreeReader.kind;
import static io.sluice.config.TreeReader.merge;
import static io.sluice.config.TreeReader.object;
import static io.sluice.config.TreeReader.pem;
import static io.sluice.config.TreeReader.readableFile;
import static io.sluice.config.TreeReader.required;
import static io.sluice.config.TreeReader.text;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.ObjectNode;
import com.fasterxml.jackson.dataformat.yaml.YAMLFactory;
import java.io.IOException;
import java.net.URI;
import java.net.URISyntaxException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.regex.Pattern;

/**
 * Reads configuration. The built-in defaults ({@link #BUILTIN}) are themselves a config document;
 * the user's file is merged over them, and each upstream is merged over {@code defaults}, so every
 * key is optional and an upstream states only what differs. Unknown keys are errors (a typo must
 * not silently fall back to a default), and every error names the key path and the bad value.
 */
public final class ConfigLoader {

    /** The built-in defaults, as documented in docs/configuration.md (ConfigReferenceTest checks it). */
    public static final String BUILTIN = """
            listen: 127.0.0.1:7600
            admin:
              listen: 127.0.0.1:7601
              token: "${SLUICE_ADMIN_TOKEN:-}"
              insecure_open: false
            server:
              max_batch_items: 100000
              max_batch_bytes: 64MB
              max_batch_concurrency: 1000
              max_item_response_bytes: 8MB
              max_request_body: 1GB
              max_header_size: 64KB
              max_response_header_size: 64KB
              max_response_headers: 200
              idle_timeout: 2m
              shutdown_grace: 30s
              io_threads: 0
              worker_threads: 0
            cache:
              max_size: 256MB
              max_entry_size: 8MB
              max_in_flight: 64MB
            defaults:
              limits: [{rate: 50/s, burst: 50}]
              max_concurrency: 32
              max_wait: 30s
              max_cooldown: 10m
              max_keys: 10000
              cooldown: upstream
              key_metrics: 0
              key_limits: []
              learn: false
              free_304: false
              timeouts: {connect: 5s, response: 30s, total: 60s}
              retry: {max_attempts: 3, base_delay: 100ms, max_delay: 10s, budget: 20%, budget_reserve: 10}
              cache: {enabled: true, max_ttl: 1d, min_uses: 1}
              headers: {}
              allow_private: false
              connect: intercept
              tunnel_idle_timeout: 5m
              tls: {}
            tls:
              ca_dir: "~/.sluice"
              min_version: TLSv1.2
              provider: auto
            tracing:
              sample_ratio: 1.0
              service_name: sluice
              schedule_delay: 5s
            log:
              format: text
              access: false
            upstreams: {}
            """;

    private static final ObjectMapper YAML = new ObjectMapper(new YAMLFactory());
    private static final Pattern UPSTREAM_NAME = Pattern.compile("[A-Za-z0-9][A-Za-z0-9_.-]{0,62}");
    private static final Set<String> TOP_KEYS =
            Set.of("listen", "admin", "server", "cache", "defaults", "upstreams", "redis", "tls", "tracing", "log");

    private final TreeReader in;
    private final PolicyCodec policies;

    public ConfigLoader(Map<String, String> env) {
        this.in = new TreeReader(env);
        this.policies = new PolicyCodec(in);
    }

    /** The built-in defaults alone: what {@code java -jar sluice.jar} runs with. */
    public SluiceConfig defaults() {
        return fromYaml("{}");
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
            user = YAML.readTree(yaml);
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
        String path = "upstreams." + name;
        if (!UPSTREAM_NAME.matcher(name).matches() || name.equals("v1") || name.equals("api")) {
            throw new ConfigException(
                    path,
                    "invalid upstream name \"" + name + "\" (letters, digits, '.', '_', '-'; not \"v1\" or \"api\")");
        }
        if (!node.isObject()) throw new ConfigException(path, "expected a mapping, got " + kind(node));
        Set<String> keys = new java.util.HashSet<>(PolicyCodec.NAMES);
        keys.addAll(Set.of("base_url", "match"));
        checkKeys(path, node, keys);
        Optional<URI> baseUrl = Optional.ofNullable(node.get("base_url"))
                .map(n -> baseUrl(path + ".base_url", text(path + ".base_url", n)));
        List<String> match = new ArrayList<>();
        JsonNode matchNode = node.get("match");
        if (matchNode != null) {
            if (matchNode.isTextual())
                matchNode = JsonNodeFactory.instance.arrayNode().add(matchNode);
            if (!matchNode.isArray())
                throw new ConfigException(path + ".match", "expected a list, got " + kind(matchNode));
            for (int i = 0; i < matchNode.size(); i++) {
                String where = path + ".match[" + i + "]";
                match.add(OriginPattern.validate(where, text(where, matchNode.get(i))));
            }
        }
        if (baseUrl.isEmpty() && match.isEmpty()) {
            throw new ConfigException(path, "an upstream needs base_url or match (the origins it governs)");
        }
        ObjectNode policyNode = ((ObjectNode) node.deepCopy());
        policyNode.remove(List.of("base_url", "match"));
        Policy policy = policies.read(path, merge(defaultsNode, policyNode));
        return new UpstreamConfig(name, baseUrl, match, policy);
    }

    /**
     * Reads a {@code defaults} policy from a tree in the config's shape, merged over {@code base};
     * the admin API uses this to replace the policy of origins no upstream claims.
     */
    public Policy defaultsPolicy(JsonNode node, JsonNode base) {
        if (!node.isObject()) throw new ConfigException("defaults", "expected a mapping, got " + kind(node));
        checkKeys("defaults", node, PolicyCodec.NAMES);
        return policies.read("defaults", merge(base, node));
    }

    /** The built-in {@code defaults} policy tree, for callers of {@link #upstream}. */
    public static JsonNode builtinDefaultsNode() {
        return builtin().get("defaults");
    }

    private SluiceConfig read(JsonNode root) {
        HostPort listen = in.hostPort("listen", root.get("listen"));
        JsonNode adminNode = object("admin", root.get("admin"));
        checkKeys("admin", adminNode, Set.of("listen", "token", "insecure_open", "state_file"));
        AdminConfig admin = new AdminConfig(
                in.hostPort("admin.listen", adminNode.get("listen")),
                in.interpolated("admin.token", adminNode.get("token")),
                in.bool("admin.insecure_open", adminNode.get("insecure_open")),
                Optional.ofNullable(adminNode.get("state_file")).map(n -> Path.of(in.string("admin.state_file", n))));

        JsonNode s = object("server", root.get("server"));
        checkKeys(
                "server",
                s,
                Set.of(
                        "max_batch_items",
                        "max_batch_bytes",
                        "max_batch_concurrency",
                        "max_item_response_bytes",
                        "max_request_body",
                        "max_header_size",
                        "max_response_header_size",
                        "max_response_headers",
                        "idle_timeout",
                        "shutdown_grace",
                        "io_threads",
                        "worker_threads"));
        int cores = Runtime.getRuntime().availableProcessors();
        int io = in.integer("server.io_threads", s.get("io_threads"));
        int workers = in.integer("server.worker_threads", s.get("worker_threads"));
        ServerConfig server = construct(
                "server",
                () -> new ServerConfig(
                        in.integer("server.max_batch_items", s.get("max_batch_items")),
                        in.size("server.max_batch_bytes", s.get("max_batch_bytes")),
                        in.integer("server.max_batch_concurrency", s.get("max_batch_concurrency")),
                        in.size("server.max_item_response_bytes", s.get("max_item_response_bytes")),
                        in.size("server.max_request_body", s.get("max_request_body")),
                        in.size("server.max_header_size", s.get("max_header_size")),
                        in.size("server.max_response_header_size", s.get("max_response_header_size")),
                        in.integer("server.max_response_headers", s.get("max_response_headers")),
                        in.duration("server.idle_timeout", s.get("idle_timeout")),
                        in.duration("server.shutdown_grace", s.get("shutdown_grace")),
                        io > 0 ? io : Math.max(2, cores),
                        workers > 0 ? workers : Math.max(4, cores * 2)));

        JsonNode c = object("cache", root.get("cache"));
        checkKeys("cache", c, Set.of("max_size", "max_entry_size", "max_in_flight"));
        CacheConfig cache = construct(
                "cache",
                () -> new CacheConfig(
                        in.size("cache.max_size", c.get("max_size")),
                        in.size("cache.max_entry_size", c.get("max_entry_size")),
                        in.size("cache.max_in_flight", c.get("max_in_flight"))));

        TlsConfig tls = tls(object("tls", root.get("tls")));

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
        Policy defaults = policies.read("defaults", defaultsNode);

        JsonNode upstreamsNode = root.get("upstreams");
        Map<String, UpstreamConfig> upstreams = new LinkedHashMap<>();
        if (upstreamsNode != null && !upstreamsNode.isNull()) {
            object("upstreams", upstreamsNode);
            for (Iterator<Map.Entry<String, JsonNode>> it = upstreamsNode.fields(); it.hasNext(); ) {
                var entry = it.next();
                upstreams.put(entry.getKey(), upstream(entry.getKey(), entry.getValue(), defaultsNode));
            }
        }

        Optional<RedisConfig> redis = Optional.empty();
        JsonNode redisNode = root.get("redis");
        if (redisNode != null && !redisNode.isNull()) {
            object("redis", redisNode);
            checkKeys("redis", redisNode, Set.of("uri", "local_share", "timeout", "key_prefix", "key_secret"));
            Interpolated uri = in.interpolated("redis.uri", required("redis.uri", redisNode.get("uri")));
            JsonNode share = redisNode.get("local_share");
            JsonNode timeout = redisNode.get("timeout");
            JsonNode prefix = redisNode.get("key_prefix");
            JsonNode secretNode = redisNode.get("key_secret");
            Optional<Interpolated> keySecret = secretNode == null || secretNode.isNull()
                    ? Optional.empty()
                    : Optional.of(in.interpolated("redis.key_secret", secretNode));
            keySecret.ifPresent(secret -> {
                int bytes = secret.value().getBytes(java.nio.charset.StandardCharsets.UTF_8).length;
                if (bytes < RedisConfig.MIN_KEY_SECRET_BYTES) {
                    // The template and the length, never the value.
                    throw new ConfigException(
                            "redis.key_secret",
                            "must be at least " + RedisConfig.MIN_KEY_SECRET_BYTES + " bytes, got " + bytes + " from \""
                                    + secret.template() + "\"");
                }
            });
            redis = Optional.of(construct(
                    "redis",
                    () -> new RedisConfig(
                            uri,
                            share == null ? RedisConfig.DEFAULT_LOCAL_SHARE : in.fraction("redis.local_share", share),
                            timeout == null ? RedisConfig.DEFAULT_TIMEOUT : in.duration("redis.timeout", timeout),
                            prefix == null ? RedisConfig.DEFAULT_KEY_PREFIX : in.string("redis.key_prefix", prefix),
                            keySecret)));
        }
        TracingConfig tracing = tracing(object("tracing", root.get("tracing")));
        LogConfig log = log(object("log", root.get("log")));
        return new SluiceConfig(listen, admin, server, cache, defaults, upstreams, redis, tls, tracing, log);
    }

    private LogConfig log(JsonNode node) {
        checkKeys("log", node, Set.of("format", "access"));
        String format = in.string("log.format", required("log.format", node.get("format")));
        LogConfig.Format parsed = switch (format) {
            case "text" -> LogConfig.Format.TEXT;
            case "json" -> LogConfig.Format.JSON;
            default -> throw new ConfigException("log.format", "must be text or json: \"" + format + "\"");
        };
        return new LogConfig(parsed, in.bool("log.access", required("log.access", node.get("access"))));
    }

    private TracingConfig tracing(JsonNode t) {
        checkKeys("tracing", t, Set.of("otlp_endpoint", "sample_ratio", "service_name", "schedule_delay"));
        Optional<URI> endpoint = Optional.empty();
        JsonNode e = t.get("otlp_endpoint");
        if (e != null && !e.isNull()) {
            String value = in.string("tracing.otlp_endpoint", e).trim();
            if (!value.isEmpty()) {
                try {
                    URI uri = new URI(value);
                    TracingConfig.checkEndpoint(uri);
                    endpoint = Optional.of(uri);
                } catch (URISyntaxException | IllegalArgumentException bad) {
                    throw new ConfigException(
                            "tracing.otlp_endpoint",
                            "expected http(s)://host[:port][/path] without query or user info, got \"" + value + "\"");
                }
            }
        }
        JsonNode r = t.get("sample_ratio");
        double ratio =
                r == null || r.isNull() ? TracingConfig.DEFAULT_SAMPLE_RATIO : in.fraction("tracing.sample_ratio", r);
        if (!(ratio >= 0 && ratio <= 1)) {
            throw new ConfigException("tracing.sample_ratio", "expected 0 to 1 (or 0% to 100%), got " + ratio);
        }
        JsonNode n = t.get("service_name");
        String service =
                n == null || n.isNull() ? TracingConfig.DEFAULT_SERVICE_NAME : in.string("tracing.service_name", n);
        if (service.isBlank()) throw new ConfigException("tracing.service_name", "cannot be empty");
        JsonNode d = t.get("schedule_delay");
        Duration delay = d == null || d.isNull()
                ? TracingConfig.DEFAULT_SCHEDULE_DELAY
                : in.duration("tracing.schedule_delay", d);
        if (delay.isZero() || delay.isNegative()) {
            throw new ConfigException("tracing.schedule_delay", "must be positive, got " + d.asText());
        }
        Optional<URI> configured = endpoint;
        return construct(
                "tracing",
                () -> new TracingConfig(
                        configured, ratio, service, delay, TracingConfig.enabled(configured, in.env())));
    }

    /** The top-level {@code tls}. Sluice's own CA is not loaded here, only its paths checked. */
    private TlsConfig tls(JsonNode node) {
        checkKeys("tls", node, Set.of("ca_dir", "ca_cert", "ca_key", "ca_file", "min_version", "provider"));
        Path caDir = in.optionalPath("tls.ca_dir", required("tls.ca_dir", node.get("ca_dir")))
                .orElseThrow(() -> new ConfigException("tls.ca_dir", "required"));
        if (Files.exists(caDir) && !Files.isDirectory(caDir)) {
            throw new ConfigException("tls.ca_dir", "not a directory: " + caDir);
        }
        Optional<Path> caCert = in.optionalPath("tls.ca_cert", node.get("ca_cert"));
        Optional<Path> caKey = in.optionalPath("tls.ca_key", node.get("ca_key"));
        if (caCert.isPresent() && caKey.isEmpty()) {
            throw new ConfigException("tls.ca_key", "required with ca_cert (" + caCert.get() + ")");
        }
        if (caKey.isPresent() && caCert.isEmpty()) {
            throw new ConfigException("tls.ca_cert", "required with ca_key (" + caKey.get() + ")");
        }
        caCert.ifPresent(file -> readableFile("tls.ca_cert", file));
        caKey.ifPresent(file -> readableFile("tls.ca_key", file));
        Optional<Path> caFile = in.optionalPath("tls.ca_file", node.get("ca_file"));
        caFile.ifPresent(file -> pem("tls.ca_file", () -> Pem.certificates(file)));
        String minVersion = in.minVersion("tls.min_version", node.get("min_version"));
        TlsProvider provider = tlsProvider(node.get("provider"));
        return construct("tls", () -> new TlsConfig(caDir, caCert, caKey, caFile, minVersion, provider));
    }

    private TlsProvider tlsProvider(JsonNode node) {
        String value = in.string("tls.provider", required("tls.provider", node)).trim();
        try {
            return TlsProvider.parse(value);
        } catch (IllegalArgumentException e) {
            throw new ConfigException("tls.provider", e.getMessage());
        }
    }

    // ---- typed readers: each names the path and the bad value ----

    private static JsonNode builtin() {
        try {
            return YAML.readTree(BUILTIN);
        } catch (JsonProcessingException e) {
            throw new IllegalStateException("built-in config does not parse", e);
        }
    }

    private static URI baseUrl(String path, String value) {
        URI uri;
        try {
            uri = new URI(value);
        } catch (java.net.URISyntaxException e) {
            throw new ConfigException(path, "invalid URL \"" + value + "\": " + e.getReason());
        }
        if (!"http".equalsIgnoreCase(uri.getScheme()) && !"https".equalsIgnoreCase(uri.getScheme())) {
            throw new ConfigException(path, "unsupported scheme in \"" + value + "\" (http or https)");
        }
        if (uri.getHost() == null) throw new ConfigException(path, "missing host in \"" + value + "\"");
        if (uri.getRawQuery() != null || uri.getRawFragment() != null) {
            throw new ConfigException(path, "a base URL cannot have a query or fragment: \"" + value + "\"");
        }
        String p = uri.getRawPath() == null ? "" : uri.getRawPath();
        if (p.endsWith("/")) p = p.substring(0, p.length() - 1);
        return URI.create(uri.getScheme().toLowerCase(java.util.Locale.ROOT) + "://" + uri.getRawAuthority() + p);
    }
}
