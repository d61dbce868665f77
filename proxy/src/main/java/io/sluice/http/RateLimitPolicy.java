package io.sluice.http;

import io.sluice.fetch.Fields;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.regex.Pattern;

/**
 * Reads the limits an upstream says it applies (what Sluice's {@code learn} adopts, after its own
 * caps, in {@code io.sluice.limit}). Understood forms, first match wins:
 *
 * <ul>
 *   <li>{@code RateLimit-Policy: "default";q=100;w=60, "daily";q=1000;w=86400} (IETF httpapi
 *       RateLimit draft, -08 on: a List of String or Token items with a quota {@code q}, a window
 *       {@code w} in seconds, a quota unit {@code qu}, a partition key {@code pk}), and the older
 *       {@code RateLimit-Policy: 100;w=60} whose Integer item is the quota (drafts -03 to -07);
 *   <li>{@code RateLimit-Limit: 100} with {@code RateLimit-Reset} (early drafts), and
 *       {@code X-RateLimit-Limit: 5000} with {@code X-RateLimit-Reset} (GitHub and many others):
 *       the quota of a window that is not stated, so the window is the reset's distance rounded up
 *       to a second, a minute, an hour or a day ({@code 3599} seconds to the reset is an hour).
 * </ul>
 *
 * <p>Values are read strictly because an upstream is not trusted: a quota is 1 to 10^9 written in
 * digits, a window 1 second to 1 day; anything else makes the whole field {@link Nonsense}, which
 * the caller ignores and counts. An item in another quota unit ({@code qu="content-bytes"}) or
 * without a window is skipped: it is not a request rate Sluice could apply.
 */
public final class RateLimitPolicy {
    /** The longest window believed from an upstream, in seconds: a day. */
    public static final long MAX_WINDOW_SECONDS = 86_400;
    /** Longer fields are refused unread: a policy is a few short items. */
    private static final int MAX_FIELD_LENGTH = 512;

    private static final int MAX_ITEMS = 8;
    private static final Pattern DIGITS = Pattern.compile("\\d{1,10}");
    private static final Pattern TOKEN = Pattern.compile("[A-Za-z*][A-Za-z0-9!#$%&'*+.^_`|~:/-]*");
    private static final Pattern STRING = Pattern.compile("\"[\\x20-\\x21\\x23-\\x5b\\x5d-\\x7e]*\"");
    private static final Pattern KEY = Pattern.compile("[a-z*][a-z0-9_.*-]*");
    private static final long[] WINDOWS = {1, 60, 3_600, 86_400};

    private RateLimitPolicy() {}

    /** What a response said about the upstream's limits. */
    public sealed interface Reading permits Announced, Nonsense {
        /** The field the reading came from, e.g. {@code X-RateLimit-Limit}. */
        String field();
    }

    /** {@code quota} requests per {@code windowSeconds}, as announced: 1 to {@link RateLimitHeaders#MAX_QUOTA} per 1 s to a day. */
    public record Quota(long quota, long windowSeconds) {}

    /**
     * The request quotas the upstream announced, for the whole upstream, in the order given.
     * {@code inferred}: the window was not stated but taken from the distance to the reset.
     */
    public record Announced(List<Quota> quotas, String field, boolean inferred) implements Reading {}

    /** A field that is there but cannot be believed; why, for the log. */
    public record Nonsense(String field, String why) implements Reading {}

    /** The upstream's announced policy, or empty when the response states none. */
    public static Optional<Reading> read(Fields headers, Instant now) {
        Optional<String> policy = headers.firstValue("RateLimit-Policy");
        if (policy.isPresent()) return Optional.of(policy("RateLimit-Policy", policy.get()));
        for (String prefix : new String[] {"RateLimit", "X-RateLimit"}) {
            Optional<String> limit = headers.firstValue(prefix + "-Limit");
            if (limit.isEmpty()) continue;
            Optional<String> reset = headers.firstValue(prefix + "-Reset");
            return Optional.ofNullable(limitWithReset(prefix + "-Limit", limit.get(), reset, now));
        }
        return Optional.empty();
    }

    /** A {@code *-Limit} quota whose window is the reset's distance, rounded up; null when it says nothing usable. */
    private static Reading limitWithReset(String field, String value, Optional<String> reset, Instant now) {
        String v = value.trim();
        // Early drafts allowed `100, 100;w=60`: the first member is the quota that applies now.
        int comma = v.indexOf(',');
        if (comma >= 0) v = v.substring(0, comma).trim();
        long window = 0;
        int semicolon = v.indexOf(';');
        if (semicolon >= 0) {
            Reading item = policy(field, v);
            if (item instanceof Announced a && !a.quotas().isEmpty()) return a;
            if (item instanceof Nonsense) return item;
            v = v.substring(0, semicolon).trim();
        }
        long quota = quota(v);
        if (quota < 0)
            return new Nonsense(
                    field,
                    "quota \"" + clip(value) + "\" is not a whole number from 1 to " + RateLimitHeaders.MAX_QUOTA);
        if (reset.isEmpty()) return null; // a quota of an unknown window: nothing to build a rate from
        Optional<Duration> in = RateLimitHeaders.resetIn(reset.get(), now);
        if (in.isEmpty()) return new Nonsense(field, "reset \"" + clip(reset.get()) + "\" is not a time");
        long seconds = Math.max(0, (in.get().toNanos() + 999_999_999L) / 1_000_000_000L);
        if (seconds == 0) return null; // at the very reset: no window to measure
        for (long w : WINDOWS) {
            if (seconds <= w) {
                window = w;
                break;
            }
        }
        if (window == 0) return new Nonsense(field, "reset in " + seconds + " s is beyond a day");
        return new Announced(List.of(new Quota(quota, window)), field, true);
    }

    /** A {@code RateLimit-Policy} List (RFC 9651 syntax, the parts of it a policy uses). */
    static Reading policy(String field, String value) {
        if (value.length() > MAX_FIELD_LENGTH)
            return new Nonsense(field, "longer than " + MAX_FIELD_LENGTH + " characters");
        List<String> items = split(value, ',');
        if (items == null || items.isEmpty() || items.size() > MAX_ITEMS) {
            return new Nonsense(field, "not a list of at most " + MAX_ITEMS + " policies: \"" + clip(value) + "\"");
        }
        List<Quota> quotas = new ArrayList<>();
        for (String item : items) {
            List<String> parts = split(item, ';');
            if (parts == null || parts.isEmpty()) return new Nonsense(field, "unreadable item \"" + clip(item) + "\"");
            String bare = parts.get(0).trim();
            long quota = -1;
            if (DIGITS.matcher(bare).matches()) {
                quota = quota(bare); // drafts -03 to -07: the item is the quota
                if (quota < 0) return new Nonsense(field, "quota " + clip(bare) + " out of range");
            } else if (!TOKEN.matcher(bare).matches() && !STRING.matcher(bare).matches()) {
                return new Nonsense(field, "item \"" + clip(bare) + "\" is not a name or a number");
            }
            long window = -1;
            boolean requests = true;
            for (int i = 1; i < parts.size(); i++) {
                String param = parts.get(i).trim();
                int eq = param.indexOf('=');
                String key = eq < 0 ? param : param.substring(0, eq).trim();
                String val = eq < 0 ? "?1" : param.substring(eq + 1).trim();
                if (!KEY.matcher(key).matches()) return new Nonsense(field, "parameter \"" + clip(key) + "\"");
                switch (key) {
                    case "q" -> {
                        quota = quota(val);
                        if (quota < 0)
                            return new Nonsense(
                                    field,
                                    "q=" + clip(val) + " is not a whole number from 1 to "
                                            + RateLimitHeaders.MAX_QUOTA);
                    }
                    case "w" -> {
                        window = DIGITS.matcher(val).matches() ? Long.parseLong(val) : -1;
                        if (window < 1 || window > MAX_WINDOW_SECONDS) {
                            return new Nonsense(
                                    field, "w=" + clip(val) + " is not 1 to " + MAX_WINDOW_SECONDS + " seconds");
                        }
                    }
                    case "qu" -> {
                        String unit = val.replace("\"", "");
                        requests = unit.equals("request") || unit.equals("requests");
                    }
                    default -> {} // pk and extensions: Sluice counts by its own key: (see docs/limits.md)
                }
            }
            if (quota < 0) return new Nonsense(field, "item \"" + clip(bare) + "\" has no quota (q)");
            if (!requests || window < 0) continue; // not a request rate with a window: nothing to apply
            quotas.add(new Quota(quota, window));
        }
        return new Announced(List.copyOf(quotas), field, false);
    }

    /** 1 to {@link RateLimitHeaders#MAX_QUOTA} in digits, else -1. */
    private static long quota(String value) {
        String v = value.trim();
        if (!DIGITS.matcher(v).matches()) return -1;
        long n = Long.parseLong(v);
        return n >= 1 && n <= RateLimitHeaders.MAX_QUOTA ? n : -1;
    }

    /** Splits on {@code separator} outside quoted strings; null when a quote is left open. */
    private static List<String> split(String value, char separator) {
        List<String> out = new ArrayList<>();
        StringBuilder current = new StringBuilder();
        boolean quoted = false;
        for (int i = 0; i < value.length(); i++) {
            char c = value.charAt(i);
            if (c == '"') quoted = !quoted;
            if (c == separator && !quoted) {
                if (current.toString().isBlank()) return null;
                out.add(current.toString());
                current.setLength(0);
            } else {
                current.append(c);
            }
        }
        if (quoted || current.toString().isBlank()) return null;
        out.add(current.toString());
        return out;
    }

    /** A header value, shortened for a log line. */
    private static String clip(String value) {
        String v = value.replaceAll("[^\\x20-\\x7e]", "?");
        return v.length() <= 40 ? v : v.substring(0, 40) + "…";
    }
}
