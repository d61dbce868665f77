package io.sluice.config;

import java.time.Duration;

/** Argument checks whose messages name the key and the bad value. */
final class Checks {
    private Checks() {}

    static void positive(String key, Duration value) {
        if (value == null || value.isNegative() || value.isZero()) {
            throw new IllegalArgumentException(key + " must be positive: " + value);
        }
    }

    static void notNegative(String key, Duration value) {
        if (value == null || value.isNegative()) {
            throw new IllegalArgumentException(key + " cannot be negative: " + value);
        }
    }
}
