package io.sluice.admin;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.sluice.config.ConfigException;
import io.sluice.config.Durations;
import io.sluice.config.SluiceConfig;
import io.sluice.upstream.LearnedLimit;
import io.sluice.upstream.LearnedLimitsControl;
import io.sluice.upstream.LiveState;
import io.sluice.upstream.Upstream;
import io.sluice.upstream.UpstreamStateSource;
import io.sluice.upstream.Upstreams;
import io.undertow.Handlers;
import io.undertow.server.HttpHandler;
import io.undertow.server.HttpServerExchange;
import io.undertow.server.RoutingHandler;
import io.undertow.server.handlers.BlockingHandler;
import io.undertow.util.Headers;
import io.undertow.util.HttpString;
import io.undertow.util.Methods;
import io.undertow.util.PathTemplateMatch;
import java.io.IOException;
import java.io.InputStream;
import java.net.URI;
import java.nio.ByteBuffer;
import java.time.Clock;
import java.util.Deque;
import java.util.List;
import java.util.Locale;
import java.util.Optional;

/**
 * The admin API ({@code /api/...} on the admin port): upstream policies with their live state,
 * changes to them, cache purge, recent requests and the effective config.
 *
 * <p>Reads are open (the port listens on loopback, and nothing it returns is a secret: header
 * values appear as their {@code ${ENV}} templates). Changes go through {@link AdminAuth}, must send
 * JSON, are refused when a browser says they come from another origin, and are validated,
 * persisted and applied by {@link PolicyStore}, then written to the audit log.
 */
public final class AdminApi {
    private static final int MAX_BODY_BYTES = 1 << 20;
    private static final int DEFAULT_RECENT = 100;

    private final SluiceConfig config;
    private final Upstreams upstreams;
    private final PolicyStore store;
    private final List<UpstreamStateSource> sources;
    private final UpstreamStats stats;
    private final RecentRequests recent;
    private final Optional<CachePurger> purger;
    private final AdminAuth auth;
    private final Audit audit;

    public AdminApi(
            SluiceConfig config,
            Upstreams upstreams,
            PolicyStore store,
            List<UpstreamStateSource> sources,
            UpstreamStats stats,
            RecentRequests recent,
            Optional<CachePurger> purger,
            Clock clock) {
        this.config = config;
        this.upstreams = upstreams;
        this.store = store;
        this.sources = List.copyOf(sources);
        this.stats = stats;
        this.recent = recent;
        this.purger = purger;
        this.auth = new AdminAuth(config.admin());
        this.audit = new Audit(clock);
        store.onRemove(stats::forget);
    }

    /** Every {@code /api} route; mount it under {@code /api} on the admin listener. */
    public HttpHandler handler() {
        RoutingHandler routes = Handlers.routing()
                .get("/upstreams", route(this::listUpstreams))
                .post("/upstreams", mutation(this::createUpstream))
                .get("/upstreams/{name}", route(ex -> new Reply(200, upstreamJson(named(ex)))))
                .put("/upstreams/{name}", mutation(this::replaceUpstream))
                .delete("/upstreams/{name}", mutation(this::removeUpstream))
                .post("/upstreams/{name}/learned/pin", mutation((ex, who, body) -> learned(ex, who, "pin")))
                .delete("/upstreams/{name}/learned/pin", mutation((ex, who, body) -> learned(ex, who, "unpin")))
                .delete("/upstreams/{name}/learned", mutation((ex, who, body) -> learned(ex, who, "reset")))
                .post("/cache/purge", mutation(this::purge))
                .get("/requests/recent", route(this::recentRequests))
                .get("/config", route(ex -> new Reply(200, effectiveConfig())))
                .get("/auth", route(this::authStatus))
                .setFallbackHandler(route(ex -> {
                    throw new AdminException(404, "not_found", "no admin endpoint " + ex.getRequestPath());
                }))
                .setInvalidMethodHandler(route(ex -> {
                    throw new AdminException(
                            405,
                            "method_not_allowed",
                            ex.getRequestMethod() + " is not allowed on " + ex.getRequestPath());
                }));
        // Handlers read bodies and write the state file: off the IO thread.
        return new BlockingHandler(routes);
    }

    // ---- reads ----

    private Reply listUpstreams(HttpServerExchange exchange) {
        ObjectNode root = JsonNodeFactory.instance.objectNode();
        var list = root.putArray("upstreams");
        upstreams.all().forEach(u -> list.add(upstreamJson(u)));
        return new Reply(200, root);
    }

    private Reply recentRequests(HttpServerExchange exchange) {
        int limit = DEFAULT_RECENT;
        String asked = query(exchange, "limit");
        if (asked != null) {
            try {
                limit = Math.max(1, Math.min(1000, Integer.parseInt(asked)));
            } catch (NumberFormatException e) {
                throw new AdminException(
                        400, "invalid_request", "limit: expected a whole number, got \"" + asked + "\"");
            }
        }
        ObjectNode root = JsonNodeFactory.instance.objectNode();
        root.set("requests", recent.toJson(limit, Optional.ofNullable(query(exchange, "upstream"))));
        return new Reply(200, root);
    }

    private Reply authStatus(HttpServerExchange exchange) {
        ObjectNode root = JsonNodeFactory.instance.objectNode();
        root.put("mode", auth.mode().wireName());
        root.put("authenticated", auth.mode() == AdminAuth.Mode.OPEN || auth.presented(exchange));
        return new Reply(200, root);
    }

    ObjectNode upstreamJson(Upstream upstream) {
        ObjectNode node = JsonNodeFactory.instance.objectNode();
        node.put("name", upstream.name());
        node.put(
                "source",
                store.isOverridden(upstream.name())
                        ? "admin"
                        : Upstream.DEFAULT.equals(upstream.name()) ? "defaults" : "config");
        node.set("config", PolicyJson.upstream(upstream, true));
        node.set("live", live(upstream.name()));
        return node;
    }

    private ObjectNode live(String name) {
        LiveState state = LiveState.of(name, sources);
        UpstreamStats.Snapshot s = stats.snapshot(name);
        ObjectNode live = JsonNodeFactory.instance.objectNode();
        putOptional(
                live,
                "in_flight",
                state.inFlight().isPresent() ? state.inFlight().getAsInt() : null);
        putOptional(live, "queued", state.queued().isPresent() ? state.queued().getAsInt() : null);
        if (!state.queuedByPriority().isEmpty()) {
            ObjectNode byClass = live.putObject("queued_by_priority");
            state.queuedByPriority().forEach((p, n) -> byClass.put(p.tag(), n));
        }
        putOptional(
                live,
                "tokens_available",
                state.tokensAvailable().isPresent() ? state.tokensAvailable().getAsDouble() : null);
        putOptional(
                live,
                "cooldown_remaining_ms",
                state.cooldownRemaining().map(d -> d.toMillis()).orElse(null));
        putOptional(
                live,
                "cache_entries",
                state.cacheEntries().isPresent() ? state.cacheEntries().getAsLong() : null);
        putOptional(
                live,
                "cache_bytes",
                state.cacheBytes().isPresent() ? state.cacheBytes().getAsLong() : null);
        live.put("requests_per_s", round(s.requestsPerSecond()));
        live.put("throttled_per_s", round(s.throttledPerSecond()));
        live.put("errors_per_s", round(s.errorsPerSecond()));
        live.put("requests_last_minute", s.requestsInWindow());
        ObjectNode latency = live.putObject("latency_ms");
        putOptional(latency, "p50", Double.isNaN(s.p50Ms()) ? null : round(s.p50Ms()));
        putOptional(latency, "p99", Double.isNaN(s.p99Ms()) ? null : round(s.p99Ms()));
        putOptional(live, "cache_hit_ratio", Double.isNaN(s.cacheHitRatio()) ? null : round(s.cacheHitRatio()));
        // Of the last minute's requests: how many came inside intercepted CONNECT tunnels, and how many
        // were CONNECTs in tunnel mode (bytes passed on), each counted when Sluice answered it.
        live.put("intercepted_last_minute", s.interceptedInWindow());
        live.put("tunnels_last_minute", s.tunnelsInWindow());
        upstreams.get(name).ifPresent(u -> live.set("learned", learnedJson(u)));
        state.keys().ifPresent(keys -> live.set("keys", keysJson(keys)));
        return live;
    }

    /** {@code per: key} budgets by label: the key values themselves never reach this far. */
    private static ObjectNode keysJson(io.sluice.upstream.KeyUsage keys) {
        ObjectNode node = JsonNodeFactory.instance.objectNode();
        node.put("live", keys.live()).put("max_keys", keys.maxKeys()).put("cooling_down", keys.coolingDown());
        var busiest = node.putArray("busiest");
        for (var key : keys.busiest().subList(0, Math.min(keys.busiest().size(), io.sluice.upstream.KeyUsage.LISTED))) {
            ObjectNode k = busiest.addObject()
                    .put("label", key.label())
                    .put("requests", key.requests())
                    .put("refusals", key.refusals());
            putOptional(
                    k,
                    "tokens_left",
                    key.tokensLeft().isPresent() ? key.tokensLeft().getAsLong() : null);
            k.put("cooldown_remaining_ms", key.cooldownRemaining().toMillis());
        }
        return node;
    }

    private ObjectNode effectiveConfig() {
        ObjectNode root = JsonNodeFactory.instance.objectNode();
        root.put("listen", config.listen().toString());
        ObjectNode admin = root.putObject("admin");
        admin.put("listen", config.admin().listen().toString());
        // The admin token is shown only as whether there is one: a literal token is the secret itself.
        admin.put("token", config.admin().hasToken() ? PolicyJson.REDACTED : "");
        admin.put("insecure_open", config.admin().insecureOpen());
        admin.put("state_file", store.stateFile().map(Object::toString).orElse(null));
        admin.put("changes", auth.mode().wireName());
        var s = config.server();
        root.putObject("server")
                .put("max_batch_items", s.maxBatchItems())
                .put("max_batch_bytes", s.maxBatchBytes().toString())
                .put("max_batch_concurrency", s.maxBatchConcurrency())
                .put("max_item_response_bytes", s.maxItemResponseBytes().toString())
                .put("max_request_body", s.maxRequestBody().toString())
                .put("max_header_size", s.maxHeaderSize().toString())
                .put("max_response_header_size", s.maxResponseHeaderSize().toString())
                .put("max_response_headers", s.maxResponseHeaders())
                .put("idle_timeout", Durations.format(s.idleTimeout()))
                .put("upstream_idle_timeout", Durations.format(s.upstreamIdleTimeout()))
                .put("shutdown_grace", Durations.format(s.shutdownGrace()))
                .put("io_threads", s.ioThreads())
                .put("worker_threads", s.workerThreads());
        root.putObject("cache")
                .put("max_size", config.cache().maxSize().toString())
                .put("max_entry_size", config.cache().maxEntrySize().toString());
        root.set(
                "defaults",
                PolicyJson.policy(upstreams.get(Upstream.DEFAULT).orElseThrow().policy(), true));
        ObjectNode named = root.putObject("upstreams");
        for (Upstream u : upstreams.all()) {
            if (!Upstream.DEFAULT.equals(u.name())) named.set(u.name(), PolicyJson.upstream(u, true));
        }
        config.redis().ifPresent(redis -> root.putObject("redis").put("uri", redactUserInfo(redis.uri())));
        // Paths only: the CA key's contents are never served.
        var tls = config.tls();
        ObjectNode tlsNode = root.putObject("tls").put("ca_dir", tls.caDir().toString());
        tls.caCert().ifPresent(file -> tlsNode.put("ca_cert", file.toString()));
        tls.caKey().ifPresent(file -> tlsNode.put("ca_key", file.toString()));
        tls.caFile().ifPresent(file -> tlsNode.put("ca_file", file.toString()));
        tlsNode.put("min_version", tls.minVersion());
        return root;
    }

    /** A Redis URI as its template, with a literally written password hidden. */
    private static String redactUserInfo(io.sluice.config.Interpolated uri) {
        String template = uri.template();
        if (uri.fromEnvironment()) return template;
        int at = template.indexOf('@');
        int scheme = template.indexOf("://");
        if (at < 0 || scheme < 0 || at < scheme) return template;
        return template.substring(0, scheme + 3) + PolicyJson.REDACTED + template.substring(at);
    }

    // ---- changes ----

    private Reply createUpstream(HttpServerExchange exchange, String who, JsonNode body) {
        if (!body.isObject()) throw new ConfigException("", "expected a JSON object with \"name\" and the policy");
        JsonNode nameNode = body.get("name");
        if (nameNode == null || !nameNode.isTextual()) throw new ConfigException("name", "required (a string)");
        String name = nameNode.asText();
        ObjectNode policy = ((ObjectNode) body).deepCopy();
        policy.remove("name");
        PolicyStore.Change change = applied(store.put(name, policy, true));
        audited(exchange, who, "create", "upstreams." + name, change);
        exchange.getResponseHeaders().put(Headers.LOCATION, "/api/upstreams/" + name);
        return new Reply(201, persisted(upstreamJson(change.after())));
    }

    private Reply replaceUpstream(HttpServerExchange exchange, String who, JsonNode body) {
        String name = pathName(exchange);
        PolicyStore.Change change = applied(store.put(name, body, false));
        audited(exchange, who, change.before().isPresent() ? "update" : "create", "upstreams." + name, change);
        return new Reply(change.before().isPresent() ? 200 : 201, persisted(upstreamJson(change.after())));
    }

    private Reply removeUpstream(HttpServerExchange exchange, String who, JsonNode body) {
        String name = pathName(exchange);
        PolicyStore.Change change = store.remove(name);
        audited(exchange, who, "delete", "upstreams." + name, change);
        return new Reply(204, null);
    }

    /**
     * Pins an upstream's learned limits (announcements no longer change them), unpins them, or
     * resets them (forgets what was learned). Runtime state, not policy: not written to the state
     * file, so a restart learns afresh.
     */
    private Reply learned(HttpServerExchange exchange, String who, String action) {
        Upstream upstream = named(exchange);
        LearnedLimitsControl control = sources.stream()
                .filter(LearnedLimitsControl.class::isInstance)
                .map(LearnedLimitsControl.class::cast)
                .findFirst()
                .orElseThrow(() -> new AdminException(501, "not_implemented", "no stage learns limits here"));
        switch (action) {
            case "pin" -> control.pin(upstream.name());
            case "unpin" -> control.unpin(upstream.name());
            default -> control.reset(upstream.name());
        }
        audit.record(
                who,
                remote(exchange),
                action + "_learned",
                "upstreams." + upstream.name() + ".learned",
                learnedJson(upstream).toString(),
                false);
        return new Reply(200, upstreamJson(upstream));
    }

    /** What the upstream announced and Sluice adopted ({@code learn}), or null when nothing. */
    private JsonNode learnedJson(Upstream upstream) {
        var learned = LiveState.of(upstream.name(), sources).learned();
        if (learned.isEmpty()) return JsonNodeFactory.instance.nullNode();
        LearnedLimit l = learned.get();
        ObjectNode node = JsonNodeFactory.instance.objectNode();
        var limits = node.putArray("limits");
        boolean perKey = upstream.policy().key().isPresent();
        for (LearnedLimit.Limit limit : l.limits()) {
            ObjectNode n = limits.addObject()
                    .put("tokens", limit.tokens())
                    .put("window", Durations.format(limit.window()))
                    .put("burst", limit.burst())
                    .put("per_s", Math.round(limit.perSecond() * 1e6) / 1e6);
            if (perKey) n.put("per", "key");
        }
        if (l.field() == null) node.putNull("source");
        else node.put("source", l.field());
        if (l.at() == null) node.putNull("at");
        else node.put("at", l.at().toString());
        node.put("pinned", l.pinned());
        node.put("rejected", l.rejected());
        node.put("applied", upstream.policy().learn());
        return node;
    }

    private Reply purge(HttpServerExchange exchange, String who, JsonNode body) {
        if (!body.isObject()) throw new ConfigException("", "expected a JSON object ({} purges everything)");
        Optional<String> upstream = optionalText(body, "upstream");
        Optional<String> prefix = optionalText(body, "url_prefix");
        body.fieldNames().forEachRemaining(key -> {
            if (!key.equals("upstream") && !key.equals("url_prefix")) {
                throw new ConfigException(key, "unknown key (expected upstream or url_prefix)");
            }
        });
        upstream.ifPresent(name -> upstreams.get(name).orElseThrow(() -> new PolicyStore.NotFound(name)));
        prefix.ifPresent(p -> {
            URI uri;
            try {
                uri = new URI(p);
            } catch (java.net.URISyntaxException e) {
                throw new ConfigException("url_prefix", "not a URL: \"" + p + "\"");
            }
            String scheme = Optional.ofNullable(uri.getScheme()).orElse("").toLowerCase(Locale.ROOT);
            if (!scheme.equals("http") && !scheme.equals("https") || uri.getHost() == null) {
                throw new ConfigException("url_prefix", "expected an http or https URL, got \"" + p + "\"");
            }
        });
        CachePurger cache = purger.orElseThrow(() -> new AdminException(
                501,
                "not_implemented",
                "this Sluice has no response cache to purge (the cache is not enabled in this build)"));
        long purged = cache.purge(new CachePurger.Selector(upstream, prefix));
        String target = upstream.map(u -> "cache of " + u).orElse("cache")
                + prefix.map(p -> " under " + p).orElse("");
        audit.record(who, remote(exchange), "purge", target.replace(' ', '_'), purged + " entries", false);
        ObjectNode root = JsonNodeFactory.instance.objectNode();
        root.put("purged", purged);
        return new Reply(200, root);
    }

    /** Tells the stages, so a raised cap admits its waiters now rather than at the next request. */
    private PolicyStore.Change applied(PolicyStore.Change change) {
        for (UpstreamStateSource source : sources) {
            try {
                source.policyChanged(change.after());
            } catch (RuntimeException e) {
                System.getLogger(AdminApi.class.getName())
                        .log(System.Logger.Level.WARNING, "state source " + source + " failed to apply a change", e);
            }
        }
        return change;
    }

    private void audited(HttpServerExchange exchange, String who, String action, String target, PolicyStore.Change c) {
        Optional<ObjectNode> after = Optional.ofNullable(c.after()).map(u -> PolicyJson.upstream(u, true));
        audit.record(
                who,
                remote(exchange),
                action,
                target,
                Audit.diff(c.before(), after),
                store.stateFile().isPresent());
    }

    private ObjectNode persisted(ObjectNode node) {
        node.put("persisted", store.stateFile().isPresent());
        return node;
    }

    // ---- plumbing ----

    private Upstream named(HttpServerExchange exchange) {
        String name = pathName(exchange);
        return upstreams.get(name).orElseThrow(() -> new PolicyStore.NotFound(name));
    }

    /** The {@code {name}} of the route, never a {@code ?name=} in the query string. */
    private static String pathName(HttpServerExchange exchange) {
        PathTemplateMatch match = exchange.getAttachment(PathTemplateMatch.ATTACHMENT_KEY);
        String name = match == null ? null : match.getParameters().get("name");
        if (name == null) throw new AdminException(404, "not_found", "no upstream named in the path");
        return name;
    }

    private static String query(HttpServerExchange exchange, String name) {
        Deque<String> values = exchange.getQueryParameters().get(name);
        return values == null || values.isEmpty() ? null : values.getFirst();
    }

    private static Optional<String> optionalText(JsonNode body, String key) {
        JsonNode node = body.get(key);
        if (node == null || node.isNull()) return Optional.empty();
        if (!node.isTextual() || node.asText().isEmpty()) throw new ConfigException(key, "expected a non-empty string");
        return Optional.of(node.asText());
    }

    private static String remote(HttpServerExchange exchange) {
        var source = exchange.getSourceAddress();
        return source == null || source.getAddress() == null
                ? "unknown"
                : source.getAddress().getHostAddress();
    }

    private static double round(double v) {
        return Math.round(v * 100) / 100.0;
    }

    private static void putOptional(ObjectNode node, String key, Number value) {
        if (value == null) node.putNull(key);
        else if (value instanceof Integer i) node.put(key, i);
        else if (value instanceof Long l) node.put(key, l);
        else node.put(key, value.doubleValue());
    }

    private HttpHandler mutation(Mutation mutation) {
        return route(exchange -> {
            String who;
            try {
                refuseCrossOrigin(exchange);
                who = auth.authorize(exchange);
            } catch (AdminException refused) {
                audit.refused(
                        remote(exchange),
                        exchange.getRequestMethod() + " " + exchange.getRequestPath(),
                        refused.type());
                throw refused;
            }
            JsonNode body = JsonNodeFactory.instance.objectNode();
            if (!Methods.DELETE.equals(exchange.getRequestMethod())) {
                requireJson(exchange);
                body = readJson(exchange);
            }
            return mutation.apply(exchange, who, body);
        });
    }

    /** Browsers name the page's origin on cross-origin writes; this port serves only its own UI. */
    private static void refuseCrossOrigin(HttpServerExchange exchange) {
        String origin = exchange.getRequestHeaders().getFirst(Headers.ORIGIN);
        if (origin == null) return;
        String host = exchange.getRequestHeaders().getFirst(Headers.HOST);
        URI uri;
        try {
            uri = URI.create(origin);
        } catch (IllegalArgumentException e) {
            throw new AdminException(403, "forbidden", "cross-origin changes are refused");
        }
        String originHost = uri.getRawAuthority();
        if (host == null || originHost == null || !originHost.equalsIgnoreCase(host)) {
            throw new AdminException(403, "forbidden", "cross-origin changes are refused (Origin " + origin + ")");
        }
    }

    private static void requireJson(HttpServerExchange exchange) {
        String type = exchange.getRequestHeaders().getFirst(Headers.CONTENT_TYPE);
        String base = type == null ? "" : type.split(";", 2)[0].trim().toLowerCase(Locale.ROOT);
        if (!base.equals("application/json")) {
            throw new AdminException(
                    415,
                    "unsupported_media_type",
                    "changes must be sent as Content-Type: application/json, got " + (type == null ? "none" : type));
        }
    }

    private static JsonNode readJson(HttpServerExchange exchange) throws IOException {
        byte[] bytes;
        try (InputStream in = exchange.getInputStream()) {
            bytes = in.readNBytes(MAX_BODY_BYTES + 1);
        }
        if (bytes.length > MAX_BODY_BYTES) {
            throw new AdminException(413, "too_large", "request body exceeds " + MAX_BODY_BYTES + " bytes");
        }
        try {
            JsonNode node = Mapper.JSON.readTree(bytes);
            if (node == null || node.isMissingNode()) throw new ConfigException("", "the body is empty; expected JSON");
            return node;
        } catch (JsonProcessingException e) {
            throw new ConfigException("", "the body is not valid JSON: " + e.getOriginalMessage());
        }
    }

    private static HttpHandler route(Route route) {
        return exchange -> {
            Reply reply;
            try {
                reply = route.handle(exchange);
            } catch (ConfigException e) {
                reply = error(400, "invalid_request", e.getMessage());
            } catch (AdminException e) {
                if (e.status() == 401) {
                    exchange.getResponseHeaders().put(Headers.WWW_AUTHENTICATE, "Bearer realm=\"sluice-admin\"");
                }
                reply = error(e.status(), e.type(), e.getMessage());
            } catch (PolicyStore.NotFound e) {
                reply = error(404, "not_found", e.getMessage());
            } catch (PolicyStore.Conflict e) {
                reply = error(409, "conflict", e.getMessage());
            } catch (PolicyStore.PersistFailed e) {
                reply = error(500, "internal", e.getMessage());
            } catch (IOException e) {
                reply = error(400, "invalid_request", "cannot read the request body: " + e.getMessage());
            } catch (Exception e) {
                System.getLogger(AdminApi.class.getName())
                        .log(System.Logger.Level.ERROR, "admin request failed: " + exchange.getRequestPath(), e);
                reply = error(500, "internal", "internal error: " + e.getClass().getSimpleName());
            }
            send(exchange, reply);
        };
    }

    private static Reply error(int status, String type, String message) {
        ObjectNode root = JsonNodeFactory.instance.objectNode();
        root.putObject("error").put("type", type).put("message", message);
        return new Reply(status, root);
    }

    private static void send(HttpServerExchange exchange, Reply reply) throws IOException {
        exchange.setStatusCode(reply.status());
        exchange.getResponseHeaders().put(Headers.CACHE_CONTROL, "no-store");
        exchange.getResponseHeaders().put(new HttpString("X-Content-Type-Options"), "nosniff");
        if (reply.body() == null) {
            exchange.endExchange();
            return;
        }
        byte[] bytes = Mapper.JSON.writeValueAsBytes(reply.body());
        exchange.getResponseHeaders().put(Headers.CONTENT_TYPE, "application/json");
        exchange.getResponseHeaders().put(Headers.CONTENT_LENGTH, bytes.length);
        exchange.getResponseSender().send(ByteBuffer.wrap(bytes));
    }

    private record Reply(int status, Object body) {}

    @FunctionalInterface
    private interface Route {
        Reply handle(HttpServerExchange exchange) throws Exception;
    }

    @FunctionalInterface
    private interface Mutation {
        Reply apply(HttpServerExchange exchange, String who, JsonNode body) throws Exception;
    }

    /** Made on the first admin API request, not at start (docs/performance.md, "Start time and footprint"). */
    private static final class Mapper {
        static final ObjectMapper JSON = new ObjectMapper();
    }
}
