package io.sluice.config;

import java.util.Arrays;
import java.util.Locale;

/**
 * Whom a {@code Retry-After} or an exhausted {@code RateLimit} pauses: the whole upstream
 * ({@code upstream}, the default), or only the key whose response carried it ({@code key}, for an
 * upstream that counts per credential; needs the policy's {@code key:}).
 */
public enum CooldownScope {
    UPSTREAM,
    KEY;

    /** The name written in config and shown by the admin API ({@code upstream}). */
    public String wireName() {
        return name().toLowerCase(Locale.ROOT);
    }

    /** The scope written {@code value}; the message names the bad value and the choices. */
    public static CooldownScope parse(String value) {
        for (CooldownScope scope : values()) {
            if (scope.wireName().equals(value)) return scope;
        }
        throw new IllegalArgumentException("expected one of "
                + Arrays.stream(values()).map(CooldownScope::wireName).toList() + ", got \"" + value + "\"");
    }
}
