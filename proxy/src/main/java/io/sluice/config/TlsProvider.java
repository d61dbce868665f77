package io.sluice.config;

import java.util.Arrays;
import java.util.Locale;

/**
 * Whose TLS engine serves upstream HTTP/1.1 connections and the interception server side
 * ({@code tls.provider}): the JDK's own (JSSE), Conscrypt (BoringSSL through JNI), or {@code auto}
 * (the default): Conscrypt where its native library loads, else the JDK's, without a warning. With
 * Conscrypt, interception still answers the clients BoringSSL cannot serve with JSSE. HTTP/2
 * upstreams on {@code java.net.http} always use the JDK's.
 */
public enum TlsProvider {
    JDK,
    CONSCRYPT,
    AUTO;

    /** The name written in config ({@code conscrypt}). */
    public String wireName() {
        return name().toLowerCase(Locale.ROOT);
    }

    /** The provider written {@code value}; the message names the bad value and the choices. */
    public static TlsProvider parse(String value) {
        for (TlsProvider provider : values()) {
            if (provider.wireName().equals(value)) return provider;
        }
        throw new IllegalArgumentException("expected one of "
                + Arrays.stream(values()).map(TlsProvider::wireName).toList() + ", got \"" + value + "\"");
    }
}
