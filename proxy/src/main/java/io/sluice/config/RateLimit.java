package io.sluice.config;

import java.time.Duration;
import java.util.regex.Pattern;

/**
 * One token bucket: {@code tokens} per {@code period}, holding at most {@code burst} tokens.
 * Written {@code {rate: 90/min, burst: 10}}; without {@code burst} the bucket holds one period's
 * worth, so {@code 5000/h} may be spent as fast as the upstream allows and then refills evenly.
 * {@code perKey} ({@code per: key}) makes it one bucket for each distinct value of the policy's
 * {@code key} instead of one for the whole upstream.
 */
public record RateLimit(long tokens, Duration period, long burst, boolean perKey) {
    private static final Pattern RATE = Pattern.compile("(\\d+)\\s*/\\s*(ms|s|sec|min|m|h|hour|d|day)");

    public RateLimit {
        if (tokens <= 0) throw new IllegalArgumentException("rate must be positive: " + tokens);
        if (period.isNegative() || period.isZero()) {
            throw new IllegalArgumentException("rate period must be positive: " + period);
        }
        if (burst <= 0) throw new IllegalArgumentException("burst must be positive: " + burst);
    }

    /** One bucket for the whole upstream. */
    public RateLimit(long tokens, Duration period, long burst) {
        this(tokens, period, burst, false);
    }

    /** This limit, one bucket per key ({@code per: key}) or per upstream. */
    public RateLimit perKey(boolean perKey) {
        return new RateLimit(tokens, period, burst, perKey);
    }

    /** Parses {@code N/s}, {@code N/min}, {@code N/h} (also {@code N/d}). */
    public static RateLimit parse(String rate, Long burst) {
        var matcher = RATE.matcher(rate.trim());
        if (!matcher.matches()) {
            throw new IllegalArgumentException("invalid rate \"" + rate + "\" (use e.g. 50/s, 90/min, 5000/h)");
        }
        long n = Long.parseLong(matcher.group(1));
        Duration period = switch (matcher.group(2)) {
            case "ms" -> Duration.ofMillis(1);
            case "s", "sec" -> Duration.ofSeconds(1);
            case "min", "m" -> Duration.ofMinutes(1);
            case "h", "hour" -> Duration.ofHours(1);
            default -> Duration.ofDays(1);
        };
        return new RateLimit(n, period, burst == null ? n : burst);
    }

    /** Tokens per second, for display and metrics. */
    public double perSecond() {
        return tokens * 1e9 / period.toNanos();
    }

    /** The form config is written in, e.g. {@code 90/min}. */
    public String rate() {
        String unit = switch ((int) Math.min(Integer.MAX_VALUE, period.toSeconds())) {
            case 1 -> "s";
            case 60 -> "min";
            case 3600 -> "h";
            case 86400 -> "d";
            // Only learned limits (see docs/limits.md) have other periods, e.g. 100 per 30 s.
            default -> period.equals(Duration.ofMillis(1)) ? "ms" : period.toSeconds() + "s";
        };
        return tokens + "/" + unit;
    }
}
