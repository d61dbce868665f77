package io.sluice.upstream;

import io.sluice.config.OriginPattern;
import io.sluice.config.Policy;
import io.sluice.config.UpstreamConfig;
import java.net.URI;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;

/** A named policy and the origins it governs, as one immutable snapshot. */
public final class Upstream {
    /** The name of the upstream that governs every origin no other upstream matches. */
    public static final String DEFAULT = "default";

    private final String name;
    private final Optional<URI> baseUrl;
    private final List<OriginPattern> patterns;
    private final Policy policy;
    private final Optional<UpstreamConfig> config;

    private Upstream(
            String name,
            Optional<URI> baseUrl,
            List<OriginPattern> patterns,
            Policy policy,
            Optional<UpstreamConfig> config) {
        this.name = name;
        this.baseUrl = baseUrl;
        this.patterns = List.copyOf(patterns);
        this.policy = policy;
        this.config = config;
    }

    public static Upstream of(UpstreamConfig config) {
        List<OriginPattern> patterns = new ArrayList<>();
        config.baseUrl()
                .ifPresent(url -> patterns.add(OriginPattern.parse(url.getScheme() + "://" + url.getRawAuthority())));
        config.match().forEach(m -> patterns.add(OriginPattern.parse(m)));
        return new Upstream(config.name(), config.baseUrl(), patterns, config.policy(), Optional.of(config));
    }

    public static Upstream defaults(Policy policy) {
        return new Upstream(DEFAULT, Optional.empty(), List.of(), policy, Optional.empty());
    }

    public String name() {
        return name;
    }

    public Optional<URI> baseUrl() {
        return baseUrl;
    }

    public List<OriginPattern> patterns() {
        return patterns;
    }

    public Policy policy() {
        return policy;
    }

    /** The config this upstream was built from; empty for {@link #DEFAULT}. */
    public Optional<UpstreamConfig> config() {
        return config;
    }

    /** How specifically this upstream claims {@code uri}, or -1 if it does not. */
    int specificityFor(URI uri) {
        int best = -1;
        for (OriginPattern pattern : patterns) {
            if (pattern.matches(uri)) best = Math.max(best, pattern.specificity());
        }
        return best;
    }

    /**
     * Whether one of this upstream's origins matches {@code uri} with its port written out: what a
     * {@code CONNECT} to a port other than 443 needs (a host pattern, which matches any port, does not
     * open a host's every port).
     */
    public boolean namesPortOf(URI uri) {
        for (OriginPattern pattern : patterns) {
            if (pattern.port() == uri.getPort() && pattern.matches(uri)) return true;
        }
        return false;
    }

    @Override
    public String toString() {
        return "Upstream{" + name + "}";
    }
}
