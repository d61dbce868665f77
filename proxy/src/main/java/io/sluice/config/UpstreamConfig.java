package io.sluice.config;

import java.net.URI;
import java.util.List;
import java.util.Optional;

/**
 * A named policy and the origins it governs. {@code baseUrl} enables the route form
 * {@code /{name}/path}; its origin is matched too. {@code match} holds origins
 * ({@code https://api.example.com}, {@code http://127.0.0.1:9000}) and host patterns
 * ({@code api.example.com}, {@code *.example.com}).
 */
public record UpstreamConfig(String name, Optional<URI> baseUrl, List<String> match, Policy policy) {
    public UpstreamConfig {
        match = List.copyOf(match);
    }
}
