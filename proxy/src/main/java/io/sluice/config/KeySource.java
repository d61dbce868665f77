package io.sluice.config;

import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.util.Locale;
import java.util.Optional;
import java.util.function.Function;

/**
 * What a keyed budget is per: a request header ({@code header:Authorization}) or a query parameter
 * ({@code query:api_key}). Only the source is configuration; values are read per request and never
 * kept (the limit package hashes them into labels at once).
 */
public record KeySource(Kind kind, String name) {

    public enum Kind {
        HEADER,
        QUERY
    }

    public KeySource {
        if (kind == null) throw new IllegalArgumentException("key kind: required");
        if (name == null || name.isBlank()) throw new IllegalArgumentException("key needs a name: " + kind);
        if (kind == Kind.HEADER && !name.matches("[!#$%&'*+.^_`|~0-9A-Za-z-]+")) {
            throw new IllegalArgumentException("invalid header name \"" + name + "\"");
        }
    }

    /** Parses {@code header:NAME} or {@code query:NAME}. */
    public static KeySource parse(String text) {
        int colon = text.indexOf(':');
        if (colon < 0) throw new IllegalArgumentException("expected header:NAME or query:NAME, got \"" + text + "\"");
        String kind = text.substring(0, colon).trim().toLowerCase(Locale.ROOT);
        String name = text.substring(colon + 1).trim();
        return switch (kind) {
            case "header" -> new KeySource(Kind.HEADER, name);
            case "query" -> new KeySource(Kind.QUERY, name);
            default -> throw new IllegalArgumentException("expected header:NAME or query:NAME, got \"" + text + "\"");
        };
    }

    /**
     * The key's value in a request with these headers and this URI; empty when absent or empty. The
     * raw (still percent-encoded) query value is used: it only has to tell keys apart.
     */
    public Optional<String> valueIn(Function<String, Optional<String>> headers, URI uri) {
        if (kind == Kind.HEADER) return headers.apply(name).filter(v -> !v.isEmpty());
        String query = uri.getRawQuery();
        if (query == null) return Optional.empty();
        String encodedName = java.net.URLEncoder.encode(name, StandardCharsets.UTF_8);
        for (String pair : query.split("&")) {
            int eq = pair.indexOf('=');
            String n = eq < 0 ? pair : pair.substring(0, eq);
            if (n.equals(name) || n.equals(encodedName)) {
                String v = eq < 0 ? "" : pair.substring(eq + 1);
                return v.isEmpty() ? Optional.empty() : Optional.of(v);
            }
        }
        return Optional.empty();
    }

    /** The form config is written in. */
    @Override
    public String toString() {
        return kind.name().toLowerCase(Locale.ROOT) + ":" + name;
    }
}
