package io.sluice.limit;

import java.nio.charset.StandardCharsets;
import java.security.GeneralSecurityException;
import java.security.SecureRandom;
import java.util.HexFormat;
import javax.crypto.Mac;
import javax.crypto.spec.SecretKeySpec;

/**
 * Turns a key's value (a token, a tenant id) into the short label that stands for it everywhere:
 * the first 12 hex digits of its HMAC-SHA-256 under a secret of this process. A plain hash would
 * let anyone holding a label test guesses of a low-entropy key offline; the secret stops that, and
 * being per process it is never stored either. 48 bits: among 100,000 live keys the chance that
 * two share a label (and so a bucket) is about 2 in 100,000.
 */
final class KeyLabels {
    /** The label of requests that carry no key: they share one budget. */
    static final String NONE = "none";
    /** The label of keys past {@code max_keys}: they share one budget. */
    static final String OVERFLOW = "overflow";

    private static final int HEX_DIGITS = 12;

    private final SecretKeySpec secret;
    private final ThreadLocal<Mac> macs = ThreadLocal.withInitial(this::newMac);

    KeyLabels(byte[] secret) {
        if (secret.length < 16) throw new IllegalArgumentException("secret too short: " + secret.length + " bytes");
        this.secret = new SecretKeySpec(secret.clone(), "HmacSHA256");
    }

    /** A fresh random secret: labels mean nothing outside this process. */
    static KeyLabels random() {
        byte[] secret = new byte[32];
        new SecureRandom().nextBytes(secret);
        return new KeyLabels(secret);
    }

    String label(String value) {
        byte[] mac = macs.get().doFinal(value.getBytes(StandardCharsets.UTF_8));
        return HexFormat.of().formatHex(mac, 0, HEX_DIGITS / 2);
    }

    private Mac newMac() {
        try {
            Mac mac = Mac.getInstance("HmacSHA256");
            mac.init(secret);
            return mac;
        } catch (GeneralSecurityException e) {
            throw new IllegalStateException("HmacSHA256 is required of every JDK", e);
        }
    }

    @Override
    public String toString() {
        return "KeyLabels(HMAC-SHA-256, " + HEX_DIGITS + " hex)";
    }
}
