package io.sluice.admin;

import com.fasterxml.jackson.databind.node.ObjectNode;
import io.sluice.config.Interpolated;
import io.sluice.config.Policy;
import io.sluice.config.PolicyCodec;
import io.sluice.config.UpstreamCodec;
import io.sluice.upstream.Upstream;
import java.util.Locale;
import java.util.Map;

/**
 * Writes upstreams and policies back in the config's own shape ({@link UpstreamCodec} and
 * {@link PolicyCodec} own their keys), so what the admin API shows is what an operator would write in YAML and can send
 * back to it unchanged.
 *
 * <p>Header values are always written as their templates ({@code Bearer ${GITHUB_TOKEN}}), never
 * as the value substituted from the environment. Shown to people ({@code redact}), a header whose
 * name says it carries a credential and whose value was written literally in the config is
 * replaced by {@link #REDACTED}; sending that placeholder back keeps the current value.
 */
final class PolicyJson {
    static final String REDACTED = "(redacted)";

    private PolicyJson() {}

    /** {@code upstream}'s origins and policy, as one config-shaped mapping ({@link UpstreamCodec}). */
    static ObjectNode upstream(Upstream upstream, boolean redact) {
        return upstream.config()
                .map(config -> UpstreamCodec.write(config, (name, value) -> header(name, value, redact)))
                .orElseGet(() -> policy(upstream.policy(), redact));
    }

    /** {@code policy} in the config's shape ({@link PolicyCodec}), credentials hidden when {@code redact}. */
    static ObjectNode policy(Policy policy, boolean redact) {
        return PolicyCodec.write(policy, (name, value) -> header(name, value, redact));
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
