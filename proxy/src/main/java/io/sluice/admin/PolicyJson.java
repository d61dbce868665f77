package io.sluice.admin;

import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.sluice.config.Durations;
import io.sluice.config.Interpolated;
import io.sluice.config.KeyLimit;
import io.sluice.config.Policy;
import io.sluice.config.Priority;
import io.sluice.config.RateLimit;
import io.sluice.config.UpstreamTls;
import io.sluice.upstream.Upstream;
import java.util.Locale;
import java.util.Map;

/**
 * Writes policies back in the config's own shape, so what the admin API shows is what an operator
 * would write in YAML and can send back to it unchanged.
 *
 * <p>Header values are always written as their templates ({@code Bearer ${GITHUB_TOKEN}}), never
 * as the value substituted from the environment. Shown to people ({@code redact}), a header whose
 * name says it carries a credential and whose value was written literally in the config is
 * replaced by {@link #REDACTED}; sending that placeholder back keeps the current value.
 */
final class PolicyJson {
    static final String REDACTED = "(redacted)";

    private PolicyJson() {}

    /** {@code upstream}'s origins and policy, as one config-shaped mapping. */
    static ObjectNode upstream(Upstream upstream, boolean redact) {
        ObjectNode node = JsonNodeFactory.instance.objectNode();
        upstream.config().ifPresent(c -> {
            c.baseUrl().ifPresent(url -> node.put("base_url", url.toString()));
            if (!c.match().isEmpty()) {
                var match = node.putArray("match");
                c.match().forEach(match::add);
            }
        });
        node.setAll(policy(upstream.policy(), redact));
        return node;
    }

    static ObjectNode policy(Policy policy, boolean redact) {
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
        new java.util.TreeMap<>(policy.headers())
                .forEach((name, value) -> headers.put(name, header(name, value, redact)));
        node.put("allow_private", policy.allowPrivate());
        node.put("connect", policy.connect().wireName());
        node.put("tunnel_idle_timeout", Durations.format(policy.tunnelIdleTimeout()));
        // Paths only: the files' contents (a client key above all) are never shown or stored.
        UpstreamTls tls = policy.tls();
        ObjectNode tlsNode = node.putObject("tls");
        tls.caFile().ifPresent(file -> tlsNode.put("ca_file", file.toString()));
        tls.clientCert().ifPresent(file -> tlsNode.put("client_cert", file.toString()));
        tls.clientKey().ifPresent(file -> tlsNode.put("client_key", file.toString()));
        tlsNode.put("min_version", tls.minVersion());
        tlsNode.put("http2", tls.http2());
        return node;
    }

    private static String header(String name, Interpolated value, boolean redact) {
        if (redact
                && !value.fromEnvironment()
                && isCredential(name)
                && !value.template().isEmpty()) return REDACTED;
        return value.template();
    }

    /** Header names that conventionally carry credentials. */
    static boolean isCredential(String name) {
        String n = name.toLowerCase(Locale.ROOT);
        return n.equals("authorization")
                || n.equals("proxy-authorization")
                || n.equals("cookie")
                || n.contains("token")
                || n.contains("secret")
                || n.contains("key")
                || n.contains("password")
                || n.contains("auth");
    }

    /** The header templates of {@code policy}, by name, for restoring redacted placeholders. */
    static Map<String, String> headerTemplates(Policy policy) {
        Map<String, String> templates = new java.util.HashMap<>();
        policy.headers().forEach((name, value) -> templates.put(name.toLowerCase(Locale.ROOT), value.template()));
        return templates;
    }
}
