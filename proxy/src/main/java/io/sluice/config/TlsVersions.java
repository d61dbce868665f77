package io.sluice.config;

import java.util.List;

/** The TLS versions a {@code min_version} may name, and what each admits. */
final class TlsVersions {
    static final String DEFAULT = "TLSv1.2";
    /** Newest first, in JSSE's names. */
    private static final List<String> SUPPORTED = List.of("TLSv1.3", "TLSv1.2");

    private TlsVersions() {}

    static String check(String minVersion) {
        if (!SUPPORTED.contains(minVersion)) {
            throw new IllegalArgumentException("min_version must be TLSv1.2 or TLSv1.3, got \"" + minVersion + "\"");
        }
        return minVersion;
    }

    /** The protocols to enable for {@code minVersion}: it and every newer one. */
    static List<String> atLeast(String minVersion) {
        return SUPPORTED.subList(0, SUPPORTED.indexOf(check(minVersion)) + 1);
    }
}
