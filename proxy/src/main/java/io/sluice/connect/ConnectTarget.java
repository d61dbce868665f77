package io.sluice.connect;

import io.sluice.fetch.ErrorType;
import io.sluice.fetch.FetchException;
import java.net.URI;
import java.net.URISyntaxException;
import java.util.Locale;

/**
 * The authority of a {@code CONNECT} request (RFC 9110 §9.3.6: {@code host:port}, the port required),
 * with IPv6 literals in brackets. The host is lower-cased and a trailing dot dropped, so that
 * {@code API.example.com.} and {@code api.example.com} are one origin.
 */
public record ConnectTarget(String host, int port) {

    public ConnectTarget {
        if (port < 1 || port > 65535) throw new IllegalArgumentException("port out of range: " + port);
    }

    /** Parses {@code authority}, failing as {@code invalid_request} with a message naming it. */
    public static ConnectTarget parse(String authority) {
        if (authority == null || authority.isEmpty() || authority.length() > 300) {
            throw invalid(authority, "expected host:port");
        }
        URI uri;
        try {
            uri = new URI("https://" + authority);
        } catch (URISyntaxException e) {
            throw invalid(authority, "expected host:port");
        }
        if (uri.getHost() == null
                || uri.getRawUserInfo() != null
                || !uri.getRawPath().isEmpty()
                || uri.getRawQuery() != null
                || uri.getRawFragment() != null) {
            throw invalid(authority, "expected host:port");
        }
        if (uri.getPort() < 0) throw invalid(authority, "the port is required");
        if (uri.getPort() == 0 || uri.getPort() > 65535) throw invalid(authority, "port out of range");
        String host = uri.getHost().toLowerCase(Locale.ROOT);
        if (host.endsWith(".")) host = host.substring(0, host.length() - 1);
        if (host.isEmpty()) throw invalid(authority, "empty host");
        return new ConnectTarget(host, uri.getPort());
    }

    /** The host as it appears in a URL: IPv6 literals in brackets. */
    public String urlHost() {
        return host.indexOf(':') >= 0 && !host.startsWith("[") ? "[" + host + "]" : host;
    }

    /** The host without brackets, as a TLS SNI name or an address literal. */
    public String bareHost() {
        return host.startsWith("[") ? host.substring(1, host.length() - 1) : host;
    }

    /** {@code https://host:port}: the origin every request inside the tunnel is sent to. */
    public URI origin() {
        return URI.create("https://" + authority());
    }

    public String authority() {
        return urlHost() + ":" + port;
    }

    /**
     * Whether a request inside the tunnel that names {@code authority} (its {@code Host}, or the
     * authority of an absolute-form target) is for this target; a missing port means 443.
     */
    public boolean matches(String authority) {
        if (authority == null || authority.isEmpty()) return false;
        try {
            URI uri = new URI("https://" + authority);
            if (uri.getHost() == null
                    || uri.getRawUserInfo() != null
                    || !uri.getRawPath().isEmpty()) return false;
            String host = uri.getHost().toLowerCase(Locale.ROOT);
            if (host.endsWith(".")) host = host.substring(0, host.length() - 1);
            int port = uri.getPort() < 0 ? 443 : uri.getPort();
            return host.equals(this.host) && port == this.port;
        } catch (URISyntaxException e) {
            return false;
        }
    }

    private static FetchException invalid(String authority, String why) {
        String shown =
                authority == null ? "" : authority.length() > 100 ? authority.substring(0, 100) + "…" : authority;
        return new FetchException(ErrorType.INVALID_REQUEST, "invalid CONNECT target \"" + shown + "\": " + why);
    }

    @Override
    public String toString() {
        return authority();
    }
}
