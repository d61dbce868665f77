package io.sluice.cache;

import io.sluice.fetch.Fields;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.Base64;
import java.util.List;
import java.util.Locale;

/** How requests name stored responses: the normalised URL, and a digest of the caller's credentials. */
final class Keys {
    private Keys() {}

    /** One cached resource: a URL as governed by one upstream (whose policy headers may differ). */
    record ResourceKey(String upstream, String url) {}

    /**
     * The URL without fragment, scheme and host lower-cased, default port dropped, empty path as
     * {@code /} (RFC 9110 §4.2.3 normalisation); query kept byte for byte.
     */
    static String url(URI uri) {
        String scheme = uri.getScheme() == null ? "" : uri.getScheme().toLowerCase(Locale.ROOT);
        String host = uri.getHost() == null ? "" : uri.getHost().toLowerCase(Locale.ROOT);
        int port = uri.getPort();
        boolean defaultPort =
                port == -1 || (scheme.equals("http") && port == 80) || (scheme.equals("https") && port == 443);
        String path = uri.getRawPath() == null || uri.getRawPath().isEmpty() ? "/" : uri.getRawPath();
        StringBuilder out = new StringBuilder(scheme.length() + host.length() + path.length() + 16);
        out.append(scheme).append("://").append(host);
        if (!defaultPort) out.append(':').append(port);
        out.append(path);
        if (uri.getRawQuery() != null) out.append('?').append(uri.getRawQuery());
        return out.toString();
    }

    /**
     * A digest of {@code Authorization} and {@code Cookie}, or "" when the request carries neither:
     * a response obtained with one credential is never served to a request with another, and the
     * credential itself is never kept in memory longer than the request.
     */
    static String credential(Fields headers) {
        List<String> authorization = headers.allValues("authorization");
        List<String> cookie = headers.allValues("cookie");
        if (authorization.isEmpty() && cookie.isEmpty()) return "";
        MessageDigest sha256;
        try {
            sha256 = MessageDigest.getInstance("SHA-256");
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException("SHA-256 is required of every JVM", e);
        }
        for (String value : authorization) update(sha256, "a", value);
        for (String value : cookie) update(sha256, "c", value);
        return Base64.getUrlEncoder().withoutPadding().encodeToString(sha256.digest());
    }

    private static void update(MessageDigest digest, String tag, String value) {
        digest.update(tag.getBytes(StandardCharsets.US_ASCII));
        digest.update(value.getBytes(StandardCharsets.UTF_8));
        digest.update((byte) 0);
    }

    /** A request's values of the field {@code name}, as compared for {@code Vary} (RFC 9111 §4.1). */
    static String varyValue(Fields headers, String name) {
        List<String> values = headers.allValues(name);
        if (values.isEmpty()) return null;
        StringBuilder out = new StringBuilder();
        for (String value : values) {
            for (String part : value.split(",")) {
                if (!out.isEmpty()) out.append(',');
                out.append(part.trim());
            }
        }
        return out.toString();
    }
}
