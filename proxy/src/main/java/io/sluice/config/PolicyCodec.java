package io.sluice.config;

import static io.sluice.config.ConfigKey.children;
import static io.sluice.config.ConfigKey.key;
import static io.sluice.config.TreeReader.checkKeys;
import static io.sluice.config.TreeReader.construct;
import static io.sluice.config.TreeReader.kind;
import static io.sluice.config.TreeReader.object;
import static io.sluice.config.TreeReader.pem;
import static io.sluice.config.TreeReader.required;
import static io.sluice.config.TreeReader.text;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.TreeMap;
import java.util.function.BiFunction;

/**
 * The policy section ({@code defaults} and each of {@code upstreams}): its keys, how a tree in the
 * config's shape is read and validated into a {@link Policy}, and how a policy is written back to
 * that shape. The config file, the admin API and the state file all go through it, so a key is
 * named here once; docs/configuration.md lists {@link #KEYS}.
 */
public final class PolicyCodec {

    /** Every policy key; {@code <policy>.} stands for {@code defaults.} and {@code upstreams.<name>.}. */
    static final List<ConfigKey> KEYS = List.of(
            key(
                    "<policy>.limits[].rate",
                    "rate",
                    "`50/s`",
                    "a token bucket's rate: `N/s`, `N/min`, `N/h` or `N/d`; all of a policy's limits must admit ([limits](limits.md#rate-limits-token-buckets))"),
            key("<policy>.limits[].burst", "integer", "`50` (else one period's worth)", "the bucket's capacity"),
            key(
                    "<policy>.limits[].per",
                    "`key`",
                    "—",
                    "`key`: one bucket per distinct key (needs `key`); without it, one bucket for the whole upstream"),
            key("<policy>.max_concurrency", "integer", "`32`", "requests in flight to the upstream at once"),
            key(
                    "<policy>.max_wait",
                    "duration",
                    "`30s`",
                    "how long a request may queue for admission before it fails `rate_limited`"),
            key(
                    "<policy>.priority.weights.interactive",
                    "integer",
                    "`8` (once `priority` is set; off unless set)",
                    "share of the tokens and slots interactive requests get while other classes wait too ([priority](limits.md#priority-between-callers))"),
            key("<policy>.priority.weights.batch", "integer", "`2`", "the same for `batch`"),
            key("<policy>.priority.weights.background", "integer", "`1`", "the same for `background`"),
            key(
                    "<policy>.priority.reserve.interactive",
                    "share",
                    "—",
                    "share of the smallest burst (`10%` or `0.1`) that `batch` and `background` requests may not take"),
            key(
                    "<policy>.priority.reserve.batch",
                    "share",
                    "—",
                    "share of the smallest burst that `background` requests may not take (on top of interactive's)"),
            key(
                    "<policy>.priority.default_batch",
                    "class",
                    "`batch`",
                    "class of a batch item that names none (a passthrough request without `Sluice-Priority` is `interactive`)"),
            key(
                    "<policy>.max_cooldown",
                    "duration",
                    "`10m`",
                    "the longest pause one `Retry-After` or RateLimit reset may impose ([cooldowns](limits.md#cooldowns))"),
            key(
                    "<policy>.key",
                    "`header:NAME` \\| `query:NAME`",
                    "—",
                    "what a `per: key` limit's budget is per ([multi-tenant budgets](multi-tenant-budgets.md))"),
            key(
                    "<policy>.max_keys",
                    "integer",
                    "`10000`",
                    "distinct keys with buckets of their own; later keys share the `overflow` bucket; also how many keys may cool down on their own at once"),
            key(
                    "<policy>.key_metrics",
                    "integer",
                    "`0`",
                    "`N` (0 to 100, needs `key`): the N busiest keys get `sluice_key_requests` / `sluice_key_refusals` series by label, all other keys one `key=\"other\"` series, so cardinality stays N + 1 per upstream ([per-key metrics](multi-tenant-budgets.md#per-key-metrics-key_metrics))"),
            key(
                    "<policy>.key_limits",
                    "list",
                    "`[]`",
                    "up to 1,000 entries, each `{label: …, limits: […]}` (the 12 hex digits the admin API shows, or `none` for requests without the key) or `{key: \"${ENV}\", limits: […]}` (the key's value, only through the environment; digested at load and never kept, shown as its template); the entry's limits (`rate`, `burst`) replace the `per: key` ones for that key, whose bucket is its own even past `max_keys`; needs `key` and a `per: key` limit ([limits for one key](multi-tenant-budgets.md#limits-for-one-key-key_limits))"),
            key(
                    "<policy>.cooldown",
                    "`upstream` \\| `key`",
                    "`upstream`",
                    "`upstream`: a `Retry-After` or RateLimit reset pauses the whole upstream; `key`: only the key whose response carried it (needs `key`; past `max_keys` keys cooling at once, the whole upstream) ([per-key cooldowns](multi-tenant-budgets.md#per-key-cooldowns-cooldown-key))"),
            key(
                    "<policy>.learn",
                    "boolean",
                    "`false`",
                    "`true`: adopt the limits the upstream announces in its rate-limit headers beside `limits` (all must admit, so a learned limit only tightens); `limits: learn` is `learn` with no limits of its own ([learned limits](limits.md#learned-limits))"),
            key(
                    "<policy>.free_304",
                    "boolean",
                    "`false`",
                    "`true`: a conditional GET goes out without a token while the revalidation allowance (a tenth of each limit) lasts; a token is charged after the fact unless the answer is `304` ([free 304s](limits.md#free-304s-quota-aware-revalidation))"),
            key("<policy>.timeouts.connect", "duration", "`5s`", "TCP + TLS set-up"),
            key("<policy>.timeouts.response", "duration", "`30s`", "from sending to the response headers"),
            key("<policy>.timeouts.total", "duration", "`60s`", "the whole call: queueing, retries and the body"),
            key(
                    "<policy>.retry.max_attempts",
                    "integer",
                    "`3`",
                    "counts the first try; `1` disables retries ([retries](limits.md#retries))"),
            key("<policy>.retry.base_delay", "duration", "`100ms`", "first backoff (full jitter)"),
            key("<policy>.retry.max_delay", "duration", "`10s`", "largest backoff"),
            key(
                    "<policy>.retry.budget",
                    "share",
                    "`20%`",
                    "retries ≤ this share of the upstream's requests (`0.2` or `20%`)"),
            key(
                    "<policy>.retry.budget_reserve",
                    "integer",
                    "`10`",
                    "retries allowed beyond the share; also the most saved up"),
            key("<policy>.cache.enabled", "boolean", "`true`", "`false`: requests pass the cache untouched"),
            key(
                    "<policy>.cache.max_ttl",
                    "duration",
                    "`1d`",
                    "cap on granted freshness; also how long a revalidatable response is kept"),
            key(
                    "<policy>.cache.default_ttl",
                    "duration",
                    "unset",
                    "freshness for responses that state none (off unless set)"),
            key(
                    "<policy>.cache.heuristic",
                    "share",
                    "unset",
                    "heuristic freshness (RFC 9111 §4.2.2): this share (`10%` or `0.1`) of `Date − Last-Modified` for responses that state no freshness, capped by `max_ttl` (off unless set)"),
            key(
                    "<policy>.cache.min_uses",
                    "integer",
                    "`1`",
                    "requests for a URL before a response that is not fresh on arrival (kept to be revalidated, or for `max-stale`) is stored; `2` is nginx's `proxy_cache_min_uses 2` (1 to 3)"),
            key(
                    "<policy>.headers",
                    "mapping",
                    "`{}`",
                    "added to every request, replacing the app's value of the same name; values may use `${ENV}`"),
            key(
                    "<policy>.allow_private",
                    "boolean",
                    "`false`",
                    "allow loopback, private, link-local and other non-public destinations"),
            key(
                    "<policy>.connect",
                    "`intercept` \\| `tunnel` \\| `refuse`",
                    "`intercept`",
                    "what `CONNECT host:port` does ([HTTPS](passthrough-and-https.md#use-it-through-https_proxy))"),
            key("<policy>.tunnel_idle_timeout", "duration", "`5m`", "a `tunnel`-mode pipe idle this long is closed"),
            key(
                    "<policy>.tls.ca_file",
                    "path",
                    "—",
                    "PEM roots trusted for this upstream, on top of the JDK's and the global `tls.ca_file`"),
            key(
                    "<policy>.tls.client_cert",
                    "path",
                    "—",
                    "PEM certificate chain presented when the upstream asks (mTLS); with `client_key`"),
            key("<policy>.tls.client_key", "path", "—", "PKCS#8 PEM key of `client_cert`"),
            key(
                    "<policy>.tls.min_version",
                    "`TLSv1.2` \\| `TLSv1.3`",
                    "`tls.min_version`",
                    "the oldest TLS version spoken to this upstream"),
            key(
                    "<policy>.tls.http2",
                    "boolean",
                    "`false`",
                    "`true` sends this upstream's `https://` requests as HTTP/2 streams (ALPN `h2`) over Undertow's HTTP/2 client, one multiplexed connection per IO thread and address, instead of HTTP/1.1 over pooled connections; an origin that answers ALPN with `http/1.1` is served over HTTP/1.1 ([decisions](decisions.md))"),
            key(
                    "<policy>.tls.http2_window",
                    "size",
                    "`1MB`",
                    "`64KB` to `8MB`: each HTTP/2 stream's receive window (its connection's is 32 of them): what a stream is sent per round trip, and what it may hold while its client does not read; larger for big downloads from a distant origin ([decisions](decisions.md))"));

    /** The keys a policy mapping may hold. */
    static final Set<String> NAMES = children(KEYS, "<policy>.");

    private final TreeReader in;

    PolicyCodec(TreeReader in) {
        this.in = in;
    }

    /**
     * Reads and validates the policy at {@code path} ({@code defaults}, {@code upstreams.NAME}) from
     * {@code node}, already merged over its defaults so that every key is present.
     */
    Policy read(String path, JsonNode node) {
        checkKeys(path, node, NAMES);
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
                    String text = in.string(path + ".key", n);
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
                : in.integer(path + ".max_keys", maxKeysNode);
        if (maxKeys < 1) throw new ConfigException(path + ".max_keys", "must be at least 1, got " + maxKeys);
        CooldownScope cooldown = cooldownScope(path + ".cooldown", node.get("cooldown"));
        int keyMetrics = in.integer(path + ".key_metrics", required(path + ".key_metrics", node.get("key_metrics")));
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
        checkKeys(path + ".timeouts", t, children(KEYS, "<policy>.timeouts."));
        Timeouts timeouts = construct(
                path + ".timeouts",
                () -> new Timeouts(
                        in.duration(path + ".timeouts.connect", t.get("connect")),
                        in.duration(path + ".timeouts.response", t.get("response")),
                        in.duration(path + ".timeouts.total", t.get("total"))));
        JsonNode r = object(path + ".retry", node.get("retry"));
        checkKeys(path + ".retry", r, children(KEYS, "<policy>.retry."));
        RetryPolicy retry = construct(
                path + ".retry",
                () -> new RetryPolicy(
                        in.integer(path + ".retry.max_attempts", r.get("max_attempts")),
                        in.duration(path + ".retry.base_delay", r.get("base_delay")),
                        in.duration(path + ".retry.max_delay", r.get("max_delay")),
                        in.fraction(path + ".retry.budget", r.get("budget")),
                        in.integer(path + ".retry.budget_reserve", r.get("budget_reserve"))));
        JsonNode cacheNode = object(path + ".cache", node.get("cache"));
        checkKeys(path + ".cache", cacheNode, children(KEYS, "<policy>.cache."));
        CachePolicy cache = construct(
                path + ".cache",
                () -> new CachePolicy(
                        in.bool(path + ".cache.enabled", cacheNode.get("enabled")),
                        in.duration(path + ".cache.max_ttl", cacheNode.get("max_ttl")),
                        Optional.ofNullable(cacheNode.get("default_ttl"))
                                .filter(n -> !n.isNull())
                                .map(n -> in.duration(path + ".cache.default_ttl", n)),
                        in.integer(path + ".cache.min_uses", cacheNode.get("min_uses")),
                        Optional.ofNullable(cacheNode.get("heuristic"))
                                .filter(n -> !n.isNull())
                                .map(n -> in.fraction(path + ".cache.heuristic", n))));
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
                headers.put(entry.getKey(), in.interpolated(where, entry.getValue()));
            }
        }
        ConnectMode connect = connectMode(path + ".connect", node.get("connect"));
        UpstreamTls tls = upstreamTls(path + ".tls", node.get("tls"));
        return construct(
                path,
                () -> new Policy(
                        limits,
                        in.integer(path + ".max_concurrency", node.get("max_concurrency")),
                        in.duration(path + ".max_wait", node.get("max_wait")),
                        timeouts,
                        retry,
                        cache,
                        headers,
                        in.bool(path + ".allow_private", node.get("allow_private")),
                        in.duration(path + ".max_cooldown", node.get("max_cooldown")),
                        connect,
                        in.duration(path + ".tunnel_idle_timeout", node.get("tunnel_idle_timeout")),
                        tls,
                        key,
                        maxKeys,
                        cooldown,
                        keyMetrics,
                        keyLimits,
                        learnOnly || in.bool(path + ".learn", node.get("learn")),
                        in.bool(path + ".free_304", node.get("free_304")),
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
                    value = Interpolated.of(raw, in.env());
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
        checkKeys(path, node, children(KEYS, "<policy>.priority."));
        Map<Priority, Integer> weights = new java.util.EnumMap<>(Priority.class);
        JsonNode w = object(path + ".weights", node.get("weights"));
        for (Iterator<Map.Entry<String, JsonNode>> it = w.fields(); it.hasNext(); ) {
            var entry = it.next();
            String where = path + ".weights." + entry.getKey();
            Priority p = priorityClass(where, entry.getKey());
            int weight = in.integer(where, entry.getValue());
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
            double share = in.fraction(where, entry.getValue());
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
                : priorityName(path + ".default_batch", in.string(path + ".default_batch", d));
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

    /** One {rate, burst, per} entry of a {@code limits} list, at {@code where}. */
    private RateLimit rateLimit(String where, JsonNode node) {
        JsonNode limit = object(where, node);
        checkKeys(where, limit, children(KEYS, "<policy>.limits[]."));
        String rate = in.string(where + ".rate", required(where + ".rate", limit.get("rate")));
        Long burst = limit.has("burst") ? (long) in.integer(where + ".burst", limit.get("burst")) : null;
        boolean perKey = perKey(where + ".per", limit.get("per"));
        return construct(where, () -> RateLimit.parse(rate, burst).perKey(perKey));
    }

    /** A limit's {@code per}: absent (the whole upstream) or {@code key}. */
    private boolean perKey(String path, JsonNode node) {
        if (node == null || node.isNull()) return false;
        String value = in.string(path, node).trim();
        if (value.equals("key")) return true;
        throw new ConfigException(path, "expected key, got \"" + value + "\"");
    }

    private CooldownScope cooldownScope(String path, JsonNode node) {
        String value = in.string(path, required(path, node)).trim();
        try {
            return CooldownScope.parse(value);
        } catch (IllegalArgumentException e) {
            throw new ConfigException(path, e.getMessage());
        }
    }

    private ConnectMode connectMode(String path, JsonNode node) {
        String value = in.string(path, required(path, node)).trim();
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
        checkKeys(path, node, children(KEYS, "<policy>.tls."));
        Optional<Path> caFile = in.optionalPath(path + ".ca_file", node.get("ca_file"));
        caFile.ifPresent(file -> pem(path + ".ca_file", () -> Pem.certificates(file)));
        Optional<Path> cert = in.optionalPath(path + ".client_cert", node.get("client_cert"));
        Optional<Path> key = in.optionalPath(path + ".client_key", node.get("client_key"));
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
        String minVersion = in.minVersion(path + ".min_version", node.get("min_version"));
        boolean http2 = node.has("http2") && in.bool(path + ".http2", node.get("http2"));
        DataSize window = node.has("http2_window")
                ? construct(
                        path + ".http2_window",
                        () -> UpstreamTls.checkHttp2Window(in.size(path + ".http2_window", node.get("http2_window"))))
                : UpstreamTls.DEFAULT_HTTP2_WINDOW;
        return construct(path, () -> new UpstreamTls(caFile, cert, key, minVersion, http2, window));
    }

    /** {@code policy} in the config's shape, headers written as their templates. */
    public static ObjectNode write(Policy policy) {
        return write(policy, (name, value) -> value.template());
    }

    /**
     * {@code policy} in the config's shape, so what the admin API shows and the state file keeps is
     * what an operator would write in YAML and can send back unchanged; {@code headerValue} says
     * what each header's value is written as (its template, or a placeholder hiding a credential).
     * The files of {@code tls} are written as paths: their contents (a client key above all) are
     * never shown or stored.
     */
    public static ObjectNode write(Policy policy, BiFunction<String, Interpolated, String> headerValue) {
        ObjectNode node = JsonNodeFactory.instance.objectNode();
        if (policy.learn() && policy.limits().isEmpty()) {
            node.put("limits", "learn");
        } else {
            var limits = node.putArray("limits");
            for (RateLimit limit : policy.limits()) {
                ObjectNode l = limits.addObject().put("rate", limit.rate()).put("burst", limit.burst());
                if (limit.perKey()) l.put("per", "key");
            }
        }
        node.put("learn", policy.learn());
        node.put("free_304", policy.free304());
        policy.key().ifPresent(key -> node.put("key", key.toString()));
        node.put("max_keys", policy.maxKeys());
        node.put("cooldown", policy.cooldown().wireName());
        node.put("key_metrics", policy.keyMetrics());
        var keyLimits = node.putArray("key_limits");
        for (KeyLimit entry : policy.keyLimits()) {
            // A key given by value is written as its ${ENV} template, never as the value (which is not kept).
            ObjectNode e = keyLimits.addObject();
            entry.label().ifPresent(label -> e.put("label", label));
            entry.template().ifPresent(template -> e.put("key", template));
            var limits = e.putArray("limits");
            for (RateLimit limit : entry.limits()) {
                limits.addObject().put("rate", limit.rate()).put("burst", limit.burst());
            }
        }
        policy.priority().ifPresent(p -> {
            ObjectNode priority = node.putObject("priority");
            ObjectNode weights = priority.putObject("weights");
            for (Priority c : Priority.values()) weights.put(c.tag(), p.weight(c));
            ObjectNode reserve = priority.putObject("reserve");
            for (Priority c : Priority.values()) {
                double share = p.reserve().getOrDefault(c, 0.0);
                if (share > 0) reserve.put(c.tag(), share);
            }
            priority.put("default_batch", p.defaultBatch().tag());
        });
        node.put("max_concurrency", policy.maxConcurrency());
        node.put("max_wait", Durations.format(policy.maxWait()));
        node.put("max_cooldown", Durations.format(policy.maxCooldown()));
        node.putObject("timeouts")
                .put("connect", Durations.format(policy.timeouts().connect()))
                .put("response", Durations.format(policy.timeouts().response()))
                .put("total", Durations.format(policy.timeouts().total()));
        node.putObject("retry")
                .put("max_attempts", policy.retry().maxAttempts())
                .put("base_delay", Durations.format(policy.retry().baseDelay()))
                .put("max_delay", Durations.format(policy.retry().maxDelay()))
                .put("budget", policy.retry().budget())
                .put("budget_reserve", policy.retry().budgetReserve());
        ObjectNode cache = node.putObject("cache")
                .put("enabled", policy.cache().enabled())
                .put("max_ttl", Durations.format(policy.cache().maxTtl()))
                .put("min_uses", policy.cache().minUses());
        policy.cache().defaultTtl().ifPresent(ttl -> cache.put("default_ttl", Durations.format(ttl)));
        policy.cache().heuristic().ifPresent(share -> cache.put("heuristic", share));
        ObjectNode headers = node.putObject("headers");
        new TreeMap<>(policy.headers()).forEach((name, value) -> headers.put(name, headerValue.apply(name, value)));
        node.put("allow_private", policy.allowPrivate());
        node.put("connect", policy.connect().wireName());
        node.put("tunnel_idle_timeout", Durations.format(policy.tunnelIdleTimeout()));
        UpstreamTls tls = policy.tls();
        ObjectNode tlsNode = node.putObject("tls");
        tls.caFile().ifPresent(file -> tlsNode.put("ca_file", file.toString()));
        tls.clientCert().ifPresent(file -> tlsNode.put("client_cert", file.toString()));
        tls.clientKey().ifPresent(file -> tlsNode.put("client_key", file.toString()));
        tlsNode.put("min_version", tls.minVersion());
        tlsNode.put("http2", tls.http2());
        tlsNode.put("http2_window", tls.http2Window().toString());
        return node;
    }
}
