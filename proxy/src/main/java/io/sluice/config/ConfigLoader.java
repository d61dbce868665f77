package io.sluice.config;

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
    private static final Set<String> POLICY_KEYS = Set.of(
            "limits",
            "max_concurrency",
            "max_wait",
            "max_cooldown",
            "timeouts",
            "retry",
            "cache",
            "headers",
            "allow_private",
            "connect",
            "tunnel_idle_timeout",
            "tls",
            "key",
            "max_keys",
            "cooldown",
            "key_metrics",
            "key_limits",
            "learn",
            "free_304",
            "priority");
    private static final Set<String> POLICY_TLS_KEYS =
            Set.of("ca_file", "client_cert", "client_key", "min_version", "http2");

    private final Map<String, String> env;

    public ConfigLoader(Map<String, String> env) {
        this.env = Map.copyOf(env);
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
        Set<String> keys = new java.util.HashSet<>(POLICY_KEYS);
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
        Policy policy = policy(path, merge(defaultsNode, policyNode));
        return new UpstreamConfig(name, baseUrl, match, policy);
    }

    /**
     * Reads a {@code defaults} policy from a tree in the config's shape, merged over {@code base};
     * the admin API uses this to replace the policy of origins no upstream claims.
     */
    public Policy defaultsPolicy(JsonNode node, JsonNode base) {
        if (!node.isObject()) throw new ConfigException("defaults", "expected a mapping, got " + kind(node));
        checkKeys("defaults", node, POLICY_KEYS);
        return policy("defaults", merge(base, node));
    }

    /** The built-in {@code defaults} policy tree, for callers of {@link #upstream}. */
    public static JsonNode builtinDefaultsNode() {
        return builtin().get("defaults");
    }

    private SluiceConfig read(JsonNode root) {
        HostPort listen = hostPort("listen", root.get("listen"));
        JsonNode adminNode = object("admin", root.get("admin"));
        checkKeys("admin", adminNode, Set.of("listen", "token", "insecure_open", "state_file"));
        AdminConfig admin = new AdminConfig(
                hostPort("admin.listen", adminNode.get("listen")),
                interpolated("admin.token", adminNode.get("token")),
                bool("admin.insecure_open", adminNode.get("insecure_open")),
                Optional.ofNullable(adminNode.get("state_file")).map(n -> Path.of(string("admin.state_file", n))));

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
        int io = integer("server.io_threads", s.get("io_threads"));
        int workers = integer("server.worker_threads", s.get("worker_threads"));
        ServerConfig server = construct(
                "server",
                () -> new ServerConfig(
                        integer("server.max_batch_items", s.get("max_batch_items")),
                        size("server.max_batch_bytes", s.get("max_batch_bytes")),
                        integer("server.max_batch_concurrency", s.get("max_batch_concurrency")),
                        size("server.max_item_response_bytes", s.get("max_item_response_bytes")),
                        size("server.max_request_body", s.get("max_request_body")),
                        size("server.max_header_size", s.get("max_header_size")),
                        size("server.max_response_header_size", s.get("max_response_header_size")),
                        integer("server.max_response_headers", s.get("max_response_headers")),
                        duration("server.idle_timeout", s.get("idle_timeout")),
                        duration("server.shutdown_grace", s.get("shutdown_grace")),
                        io > 0 ? io : Math.max(2, cores),
                        workers > 0 ? workers : Math.max(4, cores * 2)));

        JsonNode c = object("cache", root.get("cache"));
        checkKeys("cache", c, Set.of("max_size", "max_entry_size", "max_in_flight"));
        CacheConfig cache = construct(
                "cache",
                () -> new CacheConfig(
                        size("cache.max_size", c.get("max_size")),
                        size("cache.max_entry_size", c.get("max_entry_size")),
                        size("cache.max_in_flight", c.get("max_in_flight"))));

        TlsConfig tls = tls(object("tls", root.get("tls")));

        JsonNode defaultsNode = object("defaults", root.get("defaults"));
        checkKeys("defaults", defaultsNode, POLICY_KEYS);
        // tls.min_version is the default of every policy's own; defaults.tls.min_version, when
        // written, wins over it, and an upstream's over both (by the usual merge).
        JsonNode defaultsTls = object("defaults.tls", defaultsNode.get("tls"));
        if (!defaultsTls.has("min_version") || defaultsTls.get("min_version").isNull()) {
            ObjectNode withVersion = defaultsTls.deepCopy();
            withVersion.put("min_version", tls.minVersion());
            ((ObjectNode) defaultsNode).set("tls", withVersion);
        }
        Policy defaults = policy("defaults", defaultsNode);

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
            Interpolated uri = interpolated("redis.uri", required("redis.uri", redisNode.get("uri")));
            JsonNode share = redisNode.get("local_share");
            JsonNode timeout = redisNode.get("timeout");
            JsonNode prefix = redisNode.get("key_prefix");
            JsonNode secretNode = redisNode.get("key_secret");
            Optional<Interpolated> keySecret = secretNode == null || secretNode.isNull()
                    ? Optional.empty()
                    : Optional.of(interpolated("redis.key_secret", secretNode));
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
                            share == null ? RedisConfig.DEFAULT_LOCAL_SHARE : fraction("redis.local_share", share),
                            timeout == null ? RedisConfig.DEFAULT_TIMEOUT : duration("redis.timeout", timeout),
                            prefix == null ? RedisConfig.DEFAULT_KEY_PREFIX : string("redis.key_prefix", prefix),
                            keySecret)));
        }
        TracingConfig tracing = tracing(object("tracing", root.get("tracing")));
        LogConfig log = log(object("log", root.get("log")));
        return new SluiceConfig(listen, admin, server, cache, defaults, upstreams, redis, tls, tracing, log);
    }

    private LogConfig log(JsonNode node) {
        checkKeys("log", node, Set.of("format", "access"));
        String format = string("log.format", required("log.format", node.get("format")));
        LogConfig.Format parsed = switch (format) {
            case "text" -> LogConfig.Format.TEXT;
            case "json" -> LogConfig.Format.JSON;
            default -> throw new ConfigException("log.format", "must be text or json: \"" + format + "\"");
        };
        return new LogConfig(parsed, bool("log.access", required("log.access", node.get("access"))));
    }

    private TracingConfig tracing(JsonNode t) {
        checkKeys("tracing", t, Set.of("otlp_endpoint", "sample_ratio", "service_name", "schedule_delay"));
        Optional<URI> endpoint = Optional.empty();
        JsonNode e = t.get("otlp_endpoint");
        if (e != null && !e.isNull()) {
            String value = string("tracing.otlp_endpoint", e).trim();
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
                r == null || r.isNull() ? TracingConfig.DEFAULT_SAMPLE_RATIO : fraction("tracing.sample_ratio", r);
        if (!(ratio >= 0 && ratio <= 1)) {
            throw new ConfigException("tracing.sample_ratio", "expected 0 to 1 (or 0% to 100%), got " + ratio);
        }
        JsonNode n = t.get("service_name");
        String service =
                n == null || n.isNull() ? TracingConfig.DEFAULT_SERVICE_NAME : string("tracing.service_name", n);
        if (service.isBlank()) throw new ConfigException("tracing.service_name", "cannot be empty");
        JsonNode d = t.get("schedule_delay");
        Duration delay =
                d == null || d.isNull() ? TracingConfig.DEFAULT_SCHEDULE_DELAY : duration("tracing.schedule_delay", d);
        if (delay.isZero() || delay.isNegative()) {
            throw new ConfigException("tracing.schedule_delay", "must be positive, got " + d.asText());
        }
        Optional<URI> configured = endpoint;
        return construct(
                "tracing",
                () -> new TracingConfig(configured, ratio, service, delay, TracingConfig.enabled(configured, env)));
    }

    private Policy policy(String path, JsonNode node) {
        checkKeys(path, node, POLICY_KEYS);
        JsonNode limitsNode = node.get("limits");
        List<RateLimit> limits = new ArrayList<>();
        // `limits: learn`: no limits of its own, only what the upstream announces.
        boolean learnOnly = limitsNode != null && limitsNode.isTextual();
        if (learnOnly && !limitsNode.asText().trim().equals("learn")) {
            throw new ConfigException(
                    path + ".limits", "expected a list or learn, got \"" + limitsNode.asText() + "\"");
        }
        if (limitsNode != null && !limitsNode.isNull() && !learnOnly) {
            if (!limitsNode.isArray())
                throw new ConfigException(path + ".limits", "expected a list, got " + kind(limitsNode));
            for (int i = 0; i < limitsNode.size(); i++) {
                limits.add(rateLimit(path + ".limits[" + i + "]", limitsNode.get(i)));
            }
        }
        Optional<KeySource> key = Optional.ofNullable(node.get("key"))
                .filter(n -> !n.isNull())
                .map(n -> {
                    String text = string(path + ".key", n);
                    return construct(path + ".key", () -> KeySource.parse(text));
                });
        for (int i = 0; i < limits.size(); i++) {
            if (limits.get(i).perKey() && key.isEmpty()) {
                throw new ConfigException(
                        path + ".limits[" + i + "].per",
                        "per: key needs " + path + ".key (header:NAME or query:NAME), which is not set");
            }
        }
        JsonNode maxKeysNode = node.get("max_keys");
        int maxKeys = maxKeysNode == null || maxKeysNode.isNull()
                ? Policy.DEFAULT_MAX_KEYS
                : integer(path + ".max_keys", maxKeysNode);
        if (maxKeys < 1) throw new ConfigException(path + ".max_keys", "must be at least 1, got " + maxKeys);
        CooldownScope cooldown = cooldownScope(path + ".cooldown", node.get("cooldown"));
        int keyMetrics = integer(path + ".key_metrics", required(path + ".key_metrics", node.get("key_metrics")));
        if (keyMetrics < 0 || keyMetrics > Policy.MAX_KEY_METRICS) {
            throw new ConfigException(
                    path + ".key_metrics", "must be 0 to " + Policy.MAX_KEY_METRICS + ", got " + keyMetrics);
        }
        if (keyMetrics > 0 && key.isEmpty()) {
            throw new ConfigException(
                    path + ".key_metrics",
                    "key_metrics needs " + path + ".key (header:NAME or query:NAME), which is not set");
        }
        if (cooldown == CooldownScope.KEY && key.isEmpty()) {
            throw new ConfigException(
                    path + ".cooldown",
                    "cooldown: key needs " + path + ".key (header:NAME or query:NAME), which is not set");
        }
        List<KeyLimit> keyLimits = keyLimits(path + ".key_limits", node.get("key_limits"), key, limits);
        JsonNode t = object(path + ".timeouts", node.get("timeouts"));
        checkKeys(path + ".timeouts", t, Set.of("connect", "response", "total"));
        Timeouts timeouts = construct(
                path + ".timeouts",
                () -> new Timeouts(
                        duration(path + ".timeouts.connect", t.get("connect")),
                        duration(path + ".timeouts.response", t.get("response")),
                        duration(path + ".timeouts.total", t.get("total"))));
        JsonNode r = object(path + ".retry", node.get("retry"));
        checkKeys(path + ".retry", r, Set.of("max_attempts", "base_delay", "max_delay", "budget", "budget_reserve"));
        RetryPolicy retry = construct(
                path + ".retry",
                () -> new RetryPolicy(
                        integer(path + ".retry.max_attempts", r.get("max_attempts")),
                        duration(path + ".retry.base_delay", r.get("base_delay")),
                        duration(path + ".retry.max_delay", r.get("max_delay")),
                        fraction(path + ".retry.budget", r.get("budget")),
                        integer(path + ".retry.budget_reserve", r.get("budget_reserve"))));
        JsonNode cacheNode = object(path + ".cache", node.get("cache"));
        checkKeys(path + ".cache", cacheNode, Set.of("enabled", "max_ttl", "default_ttl", "min_uses", "heuristic"));
        CachePolicy cache = construct(
                path + ".cache",
                () -> new CachePolicy(
                        bool(path + ".cache.enabled", cacheNode.get("enabled")),
                        duration(path + ".cache.max_ttl", cacheNode.get("max_ttl")),
                        Optional.ofNullable(cacheNode.get("default_ttl"))
                                .filter(n -> !n.isNull())
                                .map(n -> duration(path + ".cache.default_ttl", n)),
                        integer(path + ".cache.min_uses", cacheNode.get("min_uses")),
                        Optional.ofNullable(cacheNode.get("heuristic"))
                                .filter(n -> !n.isNull())
                                .map(n -> fraction(path + ".cache.heuristic", n))));
        Map<String, Interpolated> headers = new LinkedHashMap<>();
        JsonNode headersNode = node.get("headers");
        if (headersNode != null && !headersNode.isNull()) {
            object(path + ".headers", headersNode);
            for (Iterator<Map.Entry<String, JsonNode>> it = headersNode.fields(); it.hasNext(); ) {
                var entry = it.next();
                String where = path + ".headers." + entry.getKey();
                if (!entry.getKey().matches("[!#$%&'*+.^_`|~0-9A-Za-z-]+")) {
                    throw new ConfigException(where, "invalid header name \"" + entry.getKey() + "\"");
                }
                headers.put(entry.getKey(), interpolated(where, entry.getValue()));
            }
        }
        ConnectMode connect = connectMode(path + ".connect", node.get("connect"));
        UpstreamTls tls = upstreamTls(path + ".tls", node.get("tls"));
        return construct(
                path,
                () -> new Policy(
                        limits,
                        integer(path + ".max_concurrency", node.get("max_concurrency")),
                        duration(path + ".max_wait", node.get("max_wait")),
                        timeouts,
                        retry,
                        cache,
                        headers,
                        bool(path + ".allow_private", node.get("allow_private")),
                        duration(path + ".max_cooldown", node.get("max_cooldown")),
                        connect,
                        duration(path + ".tunnel_idle_timeout", node.get("tunnel_idle_timeout")),
                        tls,
                        key,
                        maxKeys,
                        cooldown,
                        keyMetrics,
                        keyLimits,
                        learnOnly || bool(path + ".learn", node.get("learn")),
                        bool(path + ".free_304", node.get("free_304")),
                        priority(path + ".priority", node.get("priority"))));
    }

    /**
     * A policy's {@code key_limits}: a list of {@code {label: 3f9c0a71be42, limits: [...]}} or
     * {@code {key: "${TENANT_TOKEN}", limits: [...]}}. A value given by {@code key} must come from the
     * environment (so that it is never written in the config, nor shown: only its template is); it
     * is digested here and not kept. Errors name the entry, never a key's value.
     */
    private List<KeyLimit> keyLimits(String path, JsonNode node, Optional<KeySource> key, List<RateLimit> limits) {
        if (node == null || node.isNull()) return List.of();
        if (!node.isArray()) throw new ConfigException(path, "expected a list, got " + kind(node));
        if (node.isEmpty()) return List.of();
        if (key.isEmpty()) {
            throw new ConfigException(
                    path,
                    "key_limits needs " + path.replaceAll("\\.key_limits$", "")
                            + ".key (header:NAME or query:NAME), which is not set");
        }
        if (limits.stream().noneMatch(RateLimit::perKey)) {
            throw new ConfigException(
                    path,
                    "key_limits needs a per: key limit in limits (the budget of every other key), and there is none");
        }
        if (node.size() > KeyLimit.MAX_ENTRIES) {
            throw new ConfigException(path, "at most " + KeyLimit.MAX_ENTRIES + " entries, got " + node.size());
        }
        List<KeyLimit> out = new ArrayList<>();
        Map<String, Integer> seen = new java.util.HashMap<>();
        for (int i = 0; i < node.size(); i++) {
            String where = path + "[" + i + "]";
            JsonNode entry = node.get(i);
            if (entry == null || !entry.isObject()) {
                // Not the entry itself: it may be a key's value written where a mapping belongs.
                throw new ConfigException(
                        where,
                        "expected a mapping {label: ..., limits: [...]} or {key: \"${ENV}\", limits: [...]}, got "
                                + kind(entry));
            }
            checkKeys(where, entry, Set.of("label", "key", "limits"));
            JsonNode labelNode = entry.get("label");
            JsonNode keyNode = entry.get("key");
            boolean byLabel = labelNode != null && !labelNode.isNull();
            boolean byKey = keyNode != null && !keyNode.isNull();
            if (byLabel == byKey) {
                throw new ConfigException(
                        where, "name the key by label (12 hex digits, or none) or by key (\"${ENV}\"), exactly one");
            }
            List<RateLimit> own = new ArrayList<>();
            JsonNode limitsNode = entry.get("limits");
            if (limitsNode == null || !limitsNode.isArray() || limitsNode.isEmpty()) {
                throw new ConfigException(
                        where + ".limits", "expected a non-empty list of {rate, burst}, got " + kind(limitsNode));
            }
            for (int j = 0; j < limitsNode.size(); j++) {
                // An entry's limits are per key by nature; per: key may be written, nothing else.
                own.add(rateLimit(where + ".limits[" + j + "]", limitsNode.get(j))
                        .perKey(true));
            }
            KeyLimit parsed;
            String identity;
            if (byLabel) {
                String label = text(where + ".label", labelNode).trim();
                parsed = construct(where + ".label", () -> KeyLimit.byLabel(label, own));
                identity = "label " + label;
            } else {
                String raw = text(where + ".key", keyNode);
                Interpolated value;
                try {
                    value = Interpolated.of(raw, env);
                } catch (IllegalArgumentException e) {
                    throw new ConfigException(where + ".key", e.getMessage());
                }
                if (!value.namesVariables()) {
                    throw new ConfigException(
                            where + ".key",
                            "give the key's value through the environment (e.g. \"${TENANT_A_TOKEN}\" or \"Bearer ${TENANT_A_TOKEN}\"), so that it is never written in the config nor shown; or name the key by label");
                }
                if (value.value().isEmpty()) {
                    throw new ConfigException(
                            where + ".key",
                            "\"" + raw + "\" is empty: requests without the key are named by label: none");
                }
                parsed = KeyLimit.byKey(value, own);
                identity = "key " + parsed.digest().orElseThrow();
            }
            Integer earlier = seen.putIfAbsent(identity, i);
            if (earlier != null) {
                throw new ConfigException(
                        where,
                        "names the same key as " + path + "[" + earlier + "]"
                                + (byLabel
                                        ? ""
                                        : " (the same value, from "
                                                + parsed.template().orElseThrow() + ")"));
            }
            out.add(parsed);
        }
        return out;
    }

    /**
     * A policy's {@code priority}: absent (first come, first served) or a mapping of
     * {@code weights}, {@code reserve} and {@code default_batch}, each optional.
     */
    private Optional<PriorityPolicy> priority(String path, JsonNode node) {
        if (node == null || node.isNull()) return Optional.empty();
        object(path, node);
        checkKeys(path, node, Set.of("weights", "reserve", "default_batch"));
        Map<Priority, Integer> weights = new java.util.EnumMap<>(Priority.class);
        JsonNode w = object(path + ".weights", node.get("weights"));
        for (Iterator<Map.Entry<String, JsonNode>> it = w.fields(); it.hasNext(); ) {
            var entry = it.next();
            String where = path + ".weights." + entry.getKey();
            Priority p = priorityClass(where, entry.getKey());
            int weight = integer(where, entry.getValue());
            if (weight < 1 || weight > PriorityPolicy.MAX_WEIGHT) {
                throw new ConfigException(where, "must be 1 to " + PriorityPolicy.MAX_WEIGHT + ", got " + weight);
            }
            weights.put(p, weight);
        }
        Map<Priority, Double> reserve = new java.util.EnumMap<>(Priority.class);
        JsonNode r = object(path + ".reserve", node.get("reserve"));
        for (Iterator<Map.Entry<String, JsonNode>> it = r.fields(); it.hasNext(); ) {
            var entry = it.next();
            String where = path + ".reserve." + entry.getKey();
            Priority p = priorityClass(where, entry.getKey());
            double share = fraction(where, entry.getValue());
            if (!(share >= 0 && share < 1)) {
                throw new ConfigException(
                        where,
                        "must be at least 0% and below 100%, got "
                                + entry.getValue().asText());
            }
            if (p == Priority.BACKGROUND && share != 0) {
                throw new ConfigException(where, "no class ranks below background, so it has nothing to reserve from");
            }
            reserve.put(p, share);
        }
        JsonNode d = node.get("default_batch");
        Priority defaultBatch = d == null || d.isNull()
                ? Priority.BATCH
                : priorityName(path + ".default_batch", string(path + ".default_batch", d));
        return Optional.of(construct(path, () -> new PriorityPolicy(weights, reserve, defaultBatch)));
    }

    /** A class named as a key of {@code weights} or {@code reserve}. */
    private static Priority priorityClass(String path, String key) {
        try {
            return Priority.parse(key);
        } catch (IllegalArgumentException e) {
            throw new ConfigException(path, "unknown key (expected interactive, batch or background)");
        }
    }

    private static Priority priorityName(String path, String value) {
        try {
            return Priority.parse(value);
        } catch (IllegalArgumentException e) {
            throw new ConfigException(path, e.getMessage());
        }
    }

    /** A limit's {@code per}: absent (the whole upstream) or {@code key}. */
    /** One {rate, burst, per} entry of a {@code limits} list, at {@code where}. */
    private RateLimit rateLimit(String where, JsonNode node) {
        JsonNode limit = object(where, node);
        checkKeys(where, limit, Set.of("rate", "burst", "per"));
        String rate = string(where + ".rate", required(where + ".rate", limit.get("rate")));
        Long burst = limit.has("burst") ? (long) integer(where + ".burst", limit.get("burst")) : null;
        boolean perKey = perKey(where + ".per", limit.get("per"));
        return construct(where, () -> RateLimit.parse(rate, burst).perKey(perKey));
    }

    private boolean perKey(String path, JsonNode node) {
        if (node == null || node.isNull()) return false;
        String value = string(path, node).trim();
        if (value.equals("key")) return true;
        throw new ConfigException(path, "expected key, got \"" + value + "\"");
    }

    private CooldownScope cooldownScope(String path, JsonNode node) {
        String value = string(path, required(path, node)).trim();
        try {
            return CooldownScope.parse(value);
        } catch (IllegalArgumentException e) {
            throw new ConfigException(path, e.getMessage());
        }
    }

    private ConnectMode connectMode(String path, JsonNode node) {
        String value = string(path, required(path, node)).trim();
        try {
            return ConnectMode.parse(value);
        } catch (IllegalArgumentException e) {
            throw new ConfigException(path, e.getMessage());
        }
    }

    /**
     * A policy's {@code tls}. The files are read now, so that a missing file, a bad PEM or a key
     * that is not the certificate's fails at load with its key named; only the paths are kept.
     */
    private UpstreamTls upstreamTls(String path, JsonNode value) {
        JsonNode node = object(path, value);
        checkKeys(path, node, POLICY_TLS_KEYS);
        Optional<Path> caFile = optionalPath(path + ".ca_file", node.get("ca_file"));
        caFile.ifPresent(file -> pem(path + ".ca_file", () -> Pem.certificates(file)));
        Optional<Path> cert = optionalPath(path + ".client_cert", node.get("client_cert"));
        Optional<Path> key = optionalPath(path + ".client_key", node.get("client_key"));
        if (cert.isPresent() && key.isEmpty()) {
            throw new ConfigException(path + ".client_key", "required with client_cert (" + cert.get() + ")");
        }
        if (key.isPresent() && cert.isEmpty()) {
            throw new ConfigException(path + ".client_cert", "required with client_key (" + key.get() + ")");
        }
        if (cert.isPresent()) {
            var chain = pem(path + ".client_cert", () -> Pem.certificates(cert.get()));
            var privateKey = pem(path + ".client_key", () -> Pem.privateKey(key.get()));
            pem(path + ".client_key", () -> {
                Pem.checkPair(chain.get(0), privateKey, key.get());
                return null;
            });
        }
        String minVersion = minVersion(path + ".min_version", node.get("min_version"));
        boolean http2 = node.has("http2") && bool(path + ".http2", node.get("http2"));
        return construct(path, () -> new UpstreamTls(caFile, cert, key, minVersion, http2));
    }

    /** The top-level {@code tls}. Sluice's own CA is not loaded here, only its paths checked. */
    private TlsConfig tls(JsonNode node) {
        checkKeys("tls", node, Set.of("ca_dir", "ca_cert", "ca_key", "ca_file", "min_version", "provider"));
        Path caDir = optionalPath("tls.ca_dir", required("tls.ca_dir", node.get("ca_dir")))
                .orElseThrow(() -> new ConfigException("tls.ca_dir", "required"));
        if (Files.exists(caDir) && !Files.isDirectory(caDir)) {
            throw new ConfigException("tls.ca_dir", "not a directory: " + caDir);
        }
        Optional<Path> caCert = optionalPath("tls.ca_cert", node.get("ca_cert"));
        Optional<Path> caKey = optionalPath("tls.ca_key", node.get("ca_key"));
        if (caCert.isPresent() && caKey.isEmpty()) {
            throw new ConfigException("tls.ca_key", "required with ca_cert (" + caCert.get() + ")");
        }
        if (caKey.isPresent() && caCert.isEmpty()) {
            throw new ConfigException("tls.ca_cert", "required with ca_key (" + caKey.get() + ")");
        }
        caCert.ifPresent(file -> readableFile("tls.ca_cert", file));
        caKey.ifPresent(file -> readableFile("tls.ca_key", file));
        Optional<Path> caFile = optionalPath("tls.ca_file", node.get("ca_file"));
        caFile.ifPresent(file -> pem("tls.ca_file", () -> Pem.certificates(file)));
        String minVersion = minVersion("tls.min_version", node.get("min_version"));
        TlsProvider provider = tlsProvider(node.get("provider"));
        return construct("tls", () -> new TlsConfig(caDir, caCert, caKey, caFile, minVersion, provider));
    }

    private TlsProvider tlsProvider(JsonNode node) {
        String value = string("tls.provider", required("tls.provider", node)).trim();
        try {
            return TlsProvider.parse(value);
        } catch (IllegalArgumentException e) {
            throw new ConfigException("tls.provider", e.getMessage());
        }
    }

    private String minVersion(String path, JsonNode node) {
        if (node == null || node.isNull()) return TlsVersions.DEFAULT;
        String value = string(path, node).trim();
        try {
            return TlsVersions.check(value);
        } catch (IllegalArgumentException e) {
            throw new ConfigException(path, "expected TLSv1.2 or TLSv1.3, got \"" + value + "\"");
        }
    }

    /** A path; {@code ~} at its start is the user's home directory. Absent or null is empty. */
    private Optional<Path> optionalPath(String path, JsonNode node) {
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

    private static void readableFile(String path, Path file) {
        if (!Files.isRegularFile(file)) throw new ConfigException(path, "file not found: " + file);
        if (!Files.isReadable(file)) throw new ConfigException(path, "cannot read " + file);
    }

    /** Runs a {@link Pem} read, naming {@code path} in its error; the message never holds file contents. */
    private static <T> T pem(String path, java.util.function.Supplier<T> read) {
        try {
            return read.get();
        } catch (IllegalArgumentException e) {
            throw new ConfigException(path, e.getMessage());
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

    /** Deep merge: mappings merge key by key, anything else in {@code over} replaces. */
    static JsonNode merge(JsonNode base, JsonNode over) {
        if (over == null || over.isMissingNode()) return base;
        if (base == null || !base.isObject() || !over.isObject()) return over.deepCopy();
        ObjectNode result = base.deepCopy();
        over.fields().forEachRemaining(e -> result.set(e.getKey(), merge(result.get(e.getKey()), e.getValue())));
        return result;
    }

    private static void checkKeys(String path, JsonNode node, Set<String> allowed) {
        node.fieldNames().forEachRemaining(key -> {
            if (!allowed.contains(key)) {
                throw new ConfigException(
                        path.isEmpty() ? key : path + "." + key,
                        "unknown key (expected one of " + new java.util.TreeSet<>(allowed) + ")");
            }
        });
    }

    private static <T> T construct(String path, java.util.function.Supplier<T> constructor) {
        try {
            return constructor.get();
        } catch (IllegalArgumentException | ArithmeticException e) {
            if (e instanceof ConfigException) throw e;
            throw new ConfigException(path, e.getMessage());
        }
    }

    private static JsonNode required(String path, JsonNode node) {
        if (node == null || node.isNull()) throw new ConfigException(path, "required");
        return node;
    }

    private static JsonNode object(String path, JsonNode node) {
        if (node == null || node.isNull()) return JsonNodeFactory.instance.objectNode();
        if (!node.isObject()) throw new ConfigException(path, "expected a mapping, got " + kind(node) + " " + node);
        return node;
    }

    private static String text(String path, JsonNode node) {
        if (node == null || !node.isValueNode() || node.isNull()) {
            throw new ConfigException(path, "expected a string, got " + kind(node));
        }
        return node.asText();
    }

    private String string(String path, JsonNode node) {
        return interpolated(path, node).value();
    }

    private Interpolated interpolated(String path, JsonNode node) {
        String raw = text(path, node);
        try {
            return Interpolated.of(raw, env);
        } catch (IllegalArgumentException e) {
            throw new ConfigException(path, e.getMessage());
        }
    }

    private int integer(String path, JsonNode node) {
        if (node != null && node.isIntegralNumber() && node.canConvertToInt()) return node.intValue();
        String value = string(path, required(path, node));
        try {
            return Integer.parseInt(value.trim());
        } catch (NumberFormatException e) {
            throw new ConfigException(path, "expected a whole number, got \"" + value + "\"");
        }
    }

    /** A share written {@code 0.2} or {@code 20%}; the range is checked by the record. */
    private double fraction(String path, JsonNode node) {
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

    private boolean bool(String path, JsonNode node) {
        if (node != null && node.isBoolean()) return node.booleanValue();
        String value = string(path, required(path, node)).trim();
        return switch (value) {
            case "true", "yes", "on" -> true;
            case "false", "no", "off" -> false;
            default -> throw new ConfigException(path, "expected true or false, got \"" + value + "\"");
        };
    }

    private Duration duration(String path, JsonNode node) {
        String value = string(path, required(path, node));
        try {
            return Durations.parse(value);
        } catch (IllegalArgumentException e) {
            throw new ConfigException(path, e.getMessage());
        }
    }

    private DataSize size(String path, JsonNode node) {
        String value = string(path, required(path, node));
        try {
            return DataSize.parse(value);
        } catch (IllegalArgumentException | ArithmeticException e) {
            throw new ConfigException(path, e.getMessage());
        }
    }

    private HostPort hostPort(String path, JsonNode node) {
        String value = string(path, required(path, node));
        try {
            return HostPort.parse(value);
        } catch (IllegalArgumentException e) {
            throw new ConfigException(path, e.getMessage());
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

    private static String kind(JsonNode node) {
        if (node == null || node.isNull() || node.isMissingNode()) return "nothing";
        if (node.isObject()) return "a mapping";
        if (node.isArray()) return "a list";
        if (node.isNumber()) return "a number";
        if (node.isBoolean()) return "a boolean";
        return "a string";
    }
}
