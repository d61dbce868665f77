package io.sluice.tls;

import java.net.InetAddress;
import java.net.UnknownHostException;
import java.util.Locale;
import java.util.Optional;
import org.bouncycastle.util.IPAddress;

/**
 * A name Sluice will mint a leaf for: a DNS host name (lower case, no trailing dot) or an IP
 * literal in its canonical text. Anything else (wildcards, spaces, empty labels) is refused, so a
 * client cannot make Sluice sign garbage.
 */
record ServerName(String name, boolean ip) {
    private static final int MAX_DNS_NAME = 253;
    private static final int MAX_LABEL = 63;

    static Optional<ServerName> parse(String raw) {
        if (raw == null || raw.isEmpty()) {
            return Optional.empty();
        }
        String name = raw.toLowerCase(Locale.ROOT);
        if (name.startsWith("[") && name.endsWith("]")) {
            name = name.substring(1, name.length() - 1);
        }
        if (IPAddress.isValid(name)) {
            return canonicalIp(name).map(ip -> new ServerName(ip, true));
        }
        if (name.endsWith(".")) {
            name = name.substring(0, name.length() - 1);
        }
        return isDnsName(name) ? Optional.of(new ServerName(name, false)) : Optional.empty();
    }

    /** The IP literal's canonical text; no lookup happens for a literal. */
    static Optional<String> canonicalIp(String literal) {
        try {
            return Optional.of(InetAddress.getByName(literal).getHostAddress());
        } catch (UnknownHostException e) {
            return Optional.empty();
        }
    }

    private static boolean isDnsName(String name) {
        if (name.isEmpty() || name.length() > MAX_DNS_NAME) {
            return false;
        }
        String lastLabel = null;
        for (String label : name.split("\\.", -1)) {
            if (!isLabel(label)) {
                return false;
            }
            lastLabel = label;
        }
        // RFC 3696 section 2: a top-level label is never all-numeric, so "999.1.1.1" is a bad IP, not a host.
        return !lastLabel.chars().allMatch(c -> c >= '0' && c <= '9');
    }

    /** Letters, digits and hyphens (RFC 1123), plus underscores, which some internal hosts carry. */
    private static boolean isLabel(String label) {
        if (label.isEmpty() || label.length() > MAX_LABEL || label.startsWith("-") || label.endsWith("-")) {
            return false;
        }
        for (int i = 0; i < label.length(); i++) {
            char c = label.charAt(i);
            boolean allowed = (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' || c == '_';
            if (!allowed) {
                return false;
            }
        }
        return true;
    }
}
