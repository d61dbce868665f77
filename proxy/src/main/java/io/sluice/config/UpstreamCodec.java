package io.sluice.config;

import static io.sluice.config.ConfigKey.children;
import static io.sluice.config.ConfigKey.key;
import static io.sluice.config.TreeReader.checkKeys;
import static io.sluice.config.TreeReader.kind;
import static io.sluice.config.TreeReader.merge;
import static io.sluice.config.TreeReader.text;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.net.URI;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Locale;
import java.util.Optional;
import java.util.Set;
import java.util.function.BiFunction;
import java.util.regex.Pattern;

/**
 * One entry of {@code upstreams}: its name, the origins it governs ({@code base_url},
 * {@code match}) and its policy ({@link PolicyCodec}), read and validated into an
 * {@link UpstreamConfig} and written back in the same shape. The config file, the admin API and
 * the state file all go through it.
 */
public final class UpstreamCodec {

    static final List<ConfigKey> KEYS = List.of(
            key(
                    "upstreams.<name>.base_url",
                    "URL",
                    "—",
                    "`http(s)://host[:port][/path]`; enables the route form `/{name}/...`; its origin is matched too"),
            key(
                    "upstreams.<name>.match",
                    "list",
                    "—",
                    "origins, hosts and `*.domain` wildcards this upstream governs (an upstream needs `base_url` or `match`)"));

    private static final Pattern UPSTREAM_NAME = Pattern.compile("[A-Za-z0-9][A-Za-z0-9_.-]{0,62}");
    /** The keys of an upstream that are not its policy's. */
    private static final List<String> ORIGIN_NAMES = List.copyOf(children(KEYS, "upstreams.<name>."));
    /** The keys an upstream mapping may hold: its origins' and its policy's. */
    private static final Set<String> NAMES = union(ORIGIN_NAMES, PolicyCodec.NAMES);

    private final PolicyCodec policies;

    UpstreamCodec(PolicyCodec policies) {
        this.policies = policies;
    }

    /**
     * Reads the upstream {@code name} from {@code node}, its policy merged over
     * {@code defaultsNode}.
     */
    UpstreamConfig read(String name, JsonNode node, JsonNode defaultsNode) {
        String path = "upstreams." + name;
        if (!UPSTREAM_NAME.matcher(name).matches() || name.equals("v1") || name.equals("api")) {
            throw new ConfigException(
                    path,
                    "invalid upstream name \"" + name + "\" (letters, digits, '.', '_', '-'; not \"v1\" or \"api\")");
        }
        if (!node.isObject()) throw new ConfigException(path, "expected a mapping, got " + kind(node));
        checkKeys(path, node, NAMES);
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
        policyNode.remove(ORIGIN_NAMES);
        Policy policy = policies.read(path, merge(defaultsNode, policyNode));
        return new UpstreamConfig(name, baseUrl, match, policy);
    }

    /**
     * {@code config} in the config's shape: its origins, then its policy as
     * {@link PolicyCodec#write(Policy, BiFunction)} writes it.
     */
    public static ObjectNode write(UpstreamConfig config, BiFunction<String, Interpolated, String> headerValue) {
        ObjectNode node = JsonNodeFactory.instance.objectNode();
        config.baseUrl().ifPresent(url -> node.put("base_url", url.toString()));
        if (!config.match().isEmpty()) {
            var match = node.putArray("match");
            config.match().forEach(match::add);
        }
        node.setAll(PolicyCodec.write(config.policy(), headerValue));
        return node;
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
        return URI.create(uri.getScheme().toLowerCase(Locale.ROOT) + "://" + uri.getRawAuthority() + p);
    }

    private static Set<String> union(List<String> a, Set<String> b) {
        Set<String> all = new HashSet<>(a);
        all.addAll(b);
        return Set.copyOf(all);
    }
}
