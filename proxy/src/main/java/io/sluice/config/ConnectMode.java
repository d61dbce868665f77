package io.sluice.config;

import java.util.Arrays;
import java.util.Locale;

/**
 * What a {@code CONNECT host:port} to an upstream's origin does (design, "HTTPS through the proxy"):
 * {@code intercept} terminates TLS with a certificate from Sluice's CA and sends each request inside
 * through the pipeline; {@code tunnel} pipes bytes; {@code refuse} answers with an error.
 */
public enum ConnectMode {
    INTERCEPT,
    TUNNEL,
    REFUSE;

    /** The name written in config and shown by the admin API ({@code intercept}). */
    public String wireName() {
        return name().toLowerCase(Locale.ROOT);
    }

    /** The mode written {@code value}; the message names the bad value and the choices. */
    public static ConnectMode parse(String value) {
        for (ConnectMode mode : values()) {
            if (mode.wireName().equals(value)) return mode;
        }
        throw new IllegalArgumentException("expected one of "
                + Arrays.stream(values()).map(ConnectMode::wireName).toList() + ", got \"" + value + "\"");
    }
}
