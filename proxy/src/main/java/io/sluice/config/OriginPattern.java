package io.sluice.config;

import java.net.URI;
import java.util.Locale;
import java.util.Optional;

/**
 * One entry of an upstream's {@code match}: an origin ({@code https://api.example.com},
 * {@code http://127.0.0.1:9000}), a host ({@code api.example.com}, any scheme and port) or a
 * wildcard ({@code *.example.com}, optionally with a scheme). {@link #specificity()} orders them
 * so that the most specific upstream wins, as nginx prefers an exact {@code server_name} to a
 * wildcard and the longest wildcard to a shorter one.
 */
public record OriginPattern(Optional<String> scheme, String host, boolean wildcard, int port) {

    /** Parses {@code text}; throws {@link IllegalArgumentException} with the reason. */
    public static OriginPattern parse(String text) {
        String s = text.trim().toLowerCase(Locale.ROOT);
        Optional<String> scheme = Optional.empty();
        int sep = s.indexOf("://");
        if (sep >= 0) {
            scheme = Optional.of(s.substring(0, sep));
            if (!scheme.get().equals("http") && !scheme.get().equals("https")) {
                throw new IllegalArgumentException("unsupported scheme in \"" + text + "\" (http or https)");
            }
            s = s.substring(sep + 3);
            if (s.endsWith("/")) s = s.substring(0, s.length() - 1);
        }
        if (s.isEmpty() || s.contains("/") || s.contains("?") || s.contains("@")) {
            throw new IllegalArgumentException(
                    "invalid origin \"" + text + "\" (use https://host[:port], host, or *.domain)");
        }
        boolean wildcard = s.startsWith("*.");
        if (wildcard) s = s.substring(1); // keep the leading dot: ".example.com"
        if (s.contains("*"))
            throw new IllegalArgumentException("only a leading \"*.\" wildcard is supported: \"" + text + "\"");
        int port = -1;
        String host = s;
        int colon = s.lastIndexOf(':');
        if (colon > 0 && s.indexOf(']') < colon && (s.startsWith("[") || s.indexOf(':') == colon)) {
            try {
                port = Integer.parseInt(s.substring(colon + 1));
            } catch (NumberFormatException e) {
                throw new IllegalArgumentException("invalid port in \"" + text + "\"");
            }
            host = s.substring(0, colon);
        }
        if (host.startsWith("[") && host.endsWith("]")) host = host.substring(1, host.length() - 1);
        if (port < 0 && scheme.isPresent() && !wildcard) port = defaultPort(scheme.get());
        return new OriginPattern(scheme, host, wildcard, port);
    }

    static String validate(String path, String text) {
        try {
            parse(text);
            return text;
        } catch (IllegalArgumentException e) {
            throw new ConfigException(path, e.getMessage());
        }
    }

    public static int defaultPort(String scheme) {
        return "https".equals(scheme) ? 443 : 80;
    }

    /** Whether a request to {@code uri} falls under this pattern. */
    public boolean matches(URI uri) {
        String uriScheme = uri.getScheme() == null ? "" : uri.getScheme().toLowerCase(Locale.ROOT);
        String uriHost = uri.getHost() == null ? "" : uri.getHost().toLowerCase(Locale.ROOT);
        if (uriHost.startsWith("[") && uriHost.endsWith("]")) uriHost = uriHost.substring(1, uriHost.length() - 1);
        int uriPort = uri.getPort() >= 0 ? uri.getPort() : defaultPort(uriScheme);
        if (scheme.isPresent() && !scheme.get().equals(uriScheme)) return false;
        if (port >= 0 && port != uriPort) return false;
        return wildcard ? uriHost.endsWith(host) && uriHost.length() > host.length() : uriHost.equals(host);
    }

    /** Higher is more specific: exact host before wildcard, then scheme and port, then length. */
    public int specificity() {
        return (wildcard ? 0 : 10_000) + (scheme.isPresent() ? 2_000 : 0) + (port >= 0 ? 1_000 : 0) + host.length();
    }
}
