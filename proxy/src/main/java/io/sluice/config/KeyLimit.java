package io.sluice.config;

import java.nio.charset.StandardCharsets;
import java.security.GeneralSecurityException;
import java.security.SecureRandom;
import java.util.HexFormat;
import java.util.List;
import java.util.Optional;
import java.util.regex.Pattern;
import javax.crypto.Mac;
import javax.crypto.spec.SecretKeySpec;

/**
 * One entry of a policy's {@code key_limits}: the {@code per: key} limits of one particular key,
 * replacing the policy's own {@code per: key} limits for that key (as an Envoy descriptor with a
 * value has its own {@code rate_limit}). The whole-upstream limits still apply to it.
 *
 * <p>The key is named one of two ways, never by its value in clear. {@code label}: the 12 hex
 * digits the admin API shows for a key (stable across restarts and replicas with
 * {@code redis.key_secret}), or {@code none} for requests without the key. {@code key}: the value,
 * given through {@code ${ENV}} ({@code template} is what was written, the only form ever shown);
 * it is hashed the moment the config is read into {@code digest} (see {@link #digest(String)}) and
 * the value itself is not kept.
 */
public record KeyLimit(
        Optional<String> label, Optional<String> template, Optional<String> digest, List<RateLimit> limits) {
    /** The most entries one policy may have: each may pin a bucket of its own past {@code max_keys}. */
    public static final int MAX_ENTRIES = 1000;

    private static final Pattern LABEL = Pattern.compile("[0-9a-f]{12}|none");

    /**
     * The secret under which values are digested: made at random once per process and never
     * written anywhere, so a digest cannot be checked against guessed keys, nor outlive the
     * process. Only digests made in this process are ever compared with it.
     */
    private static final SecretKeySpec PEPPER;

    static {
        byte[] secret = new byte[32];
        new SecureRandom().nextBytes(secret);
        PEPPER = new SecretKeySpec(secret, "HmacSHA256");
    }

    private static final ThreadLocal<Mac> MACS = ThreadLocal.withInitial(() -> {
        try {
            Mac mac = Mac.getInstance("HmacSHA256");
            mac.init(PEPPER);
            return mac;
        } catch (GeneralSecurityException e) {
            throw new IllegalStateException("HmacSHA256 is required of every JDK", e);
        }
    });

    public KeyLimit {
        if (label.isPresent() == digest.isPresent()) {
            throw new IllegalArgumentException("a key limit names its key by label or by key, exactly one");
        }
        if (digest.isPresent() && template.isEmpty()) {
            throw new IllegalArgumentException("a key limit given by key keeps its template");
        }
        label.ifPresent(l -> {
            if (!LABEL.matcher(l).matches()) {
                // Not echoed: a key's value written here by mistake must not reach a log.
                throw new IllegalArgumentException("label must be 12 lowercase hex digits (as the admin API shows) or"
                        + " none; got " + l.length() + " characters");
            }
        });
        limits = List.copyOf(limits);
        if (limits.isEmpty()) throw new IllegalArgumentException("limits cannot be empty");
        for (RateLimit limit : limits) {
            if (!limit.perKey()) throw new IllegalArgumentException("a key limit's limits are per key");
        }
    }

    /** An entry for the key labelled {@code label}. */
    public static KeyLimit byLabel(String label, List<RateLimit> limits) {
        return new KeyLimit(Optional.of(label), Optional.empty(), Optional.empty(), limits);
    }

    /** An entry for the key whose value is {@code key}'s; only its template and digest are kept. */
    public static KeyLimit byKey(Interpolated key, List<RateLimit> limits) {
        return new KeyLimit(Optional.empty(), Optional.of(key.template()), Optional.of(digest(key.value())), limits);
    }

    /** The digest a request's key value is compared by with the entries given by {@code key}. */
    public static String digest(String value) {
        return HexFormat.of().formatHex(MACS.get().doFinal(value.getBytes(StandardCharsets.UTF_8)));
    }

    @Override
    public String toString() {
        // Never the digest: it is compared, not shown.
        return "KeyLimit{" + label.orElseGet(template::orElseThrow) + ", " + limits.size() + " limits}";
    }
}
