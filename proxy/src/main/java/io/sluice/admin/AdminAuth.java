package io.sluice.admin;

import io.sluice.config.AdminConfig;
import io.undertow.server.HttpServerExchange;
import io.undertow.util.Headers;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.HexFormat;
import java.util.Locale;

/**
 * Who may change things. Mutations carry {@code Authorization: Bearer <admin token>}; with no token
 * configured they are refused, unless {@code admin.insecure_open} opens them for local development.
 *
 * <p>The token travels only in a header the UI's script sets, never in a cookie, so a page on
 * another origin cannot make a browser send it (no CSRF); mutations also insist on a JSON body,
 * which a cross-origin form cannot send without a CORS preflight that this port never approves.
 */
final class AdminAuth {
    enum Mode {
        /** A token is configured: mutations need it. */
        TOKEN,
        /** No token, {@code insecure_open: true}: anyone who can reach the port may change things. */
        OPEN,
        /** No token: mutations are refused. */
        DISABLED;

        String wireName() {
            return name().toLowerCase(Locale.ROOT);
        }
    }

    private final Mode mode;
    private final byte[] tokenDigest;
    private final String fingerprint;

    AdminAuth(AdminConfig config) {
        if (config.hasToken()) {
            mode = Mode.TOKEN;
            tokenDigest = sha256(config.token().value());
            fingerprint = "token:" + HexFormat.of().formatHex(tokenDigest, 0, 4);
        } else {
            mode = config.insecureOpen() ? Mode.OPEN : Mode.DISABLED;
            tokenDigest = null;
            fingerprint = "open";
        }
    }

    Mode mode() {
        return mode;
    }

    /**
     * The caller's identity for the audit log (a short fingerprint of the token, never the token),
     * or a refusal.
     */
    String authorize(HttpServerExchange exchange) {
        return switch (mode) {
            case OPEN -> "open";
            case DISABLED ->
                throw new AdminException(
                        403,
                        "forbidden",
                        "admin changes are disabled: no admin token is configured (set admin.token or"
                                + " SLUICE_ADMIN_TOKEN; admin.insecure_open: true allows changes without a token, for local"
                                + " development only)");
            case TOKEN -> {
                if (!presented(exchange)) {
                    throw new AdminException(
                            401, "unauthorized", "this change needs Authorization: Bearer <admin token>");
                }
                yield fingerprint;
            }
        };
    }

    /** Whether the request carries the configured token (always false without one). */
    boolean presented(HttpServerExchange exchange) {
        if (mode != Mode.TOKEN) return false;
        String header = exchange.getRequestHeaders().getFirst(Headers.AUTHORIZATION);
        if (header == null || header.length() < 7 || !header.regionMatches(true, 0, "Bearer ", 0, 7)) return false;
        // Comparing digests of equal length keeps the comparison constant-time whatever was sent.
        return MessageDigest.isEqual(tokenDigest, sha256(header.substring(7).trim()));
    }

    private static byte[] sha256(String s) {
        try {
            return MessageDigest.getInstance("SHA-256").digest(s.getBytes(StandardCharsets.UTF_8));
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException("every JDK has SHA-256", e);
        }
    }
}
