package io.sluice.config;

import java.time.Duration;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.SequencedMap;
import java.util.regex.Pattern;

/**
 * One token bucket: {@code tokens} per {@code period}, holding at most {@code burst} tokens.
 * Written {@code {rate: 90/min, burst: 10}}; without {@code burst} the bucket holds one period's
 * worth, so {@code 5000/h} may be spent as fast as the upstream allows and then refills evenly.
 * {@code perKey} ({@code per: key}) makes it one bucket for each distinct value of the policy's
 * {@code key} instead of one for the whole upstream.
 */
public record RateLimit(long tokens, Duration period, long burst, boolean perKey) {
    /**
     * The documented units, by the period each stands for: what docs/configuration.md and the admin
     * API's schema name, and the only ones {@link #rate()} writes a configured limit in.
     */
    static final Map<Duration, String> WRITTEN = Map.of(
            Duration.ofSeconds(1),
            "s",
            Duration.ofMinutes(1),
            "min",
            Duration.ofHours(1),
            "h",
            Duration.ofDays(1),
            "d");

    /**
     * Every unit read, the documented ones first. The others were read before only the documented ones
     * were named, so configs may use them; each is written back in the documented unit of its period
     * ({@code 5/sec} as {@code 5/s}), so the admin API and the state file show only what the schema
     * takes. {@code ms} has no documented unit: see {@link #parse}.
     */
    static final SequencedMap<String, Duration> READ;

    static {
        var read = new LinkedHashMap<String, Duration>();
        read.put("s", Duration.ofSeconds(1));
        read.put("min", Duration.ofMinutes(1));
        read.put("h", Duration.ofHours(1));
        read.put("d", Duration.ofDays(1));
        read.put("sec", Duration.ofSeconds(1));
        read.put("m", Duration.ofMinutes(1));
        read.put("hour", Duration.ofHours(1));
        read.put("day", Duration.ofDays(1));
        read.put("ms", Duration.ofMillis(1));
        READ = Collections.unmodifiableSequencedMap(read);
    }

    private static final Pattern RATE = Pattern.compile("(\\d+)\\s*/\\s*(" + String.join("|", READ.keySet()) + ")");

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

    /**
     * Parses {@code N/s}, {@code N/min}, {@code N/h} or {@code N/d}, and the other units of {@link
     * #READ}. {@code N/ms} becomes {@code 1000N/s}: the same rate, since a bucket refills greedily (a
     * token every 1/(1000N) s either way), with the burst it had, one millisecond's worth ({@code N})
     * unless given, so that it is written back as a documented rate without changing what it admits.
     */
    public static RateLimit parse(String rate, Long burst) {
        var matcher = RATE.matcher(rate.trim());
        if (!matcher.matches()) {
            throw new IllegalArgumentException("invalid rate \"" + rate + "\" (use e.g. 50/s, 90/min, 5000/h)");
        }
        long n = Long.parseLong(matcher.group(1));
        Duration period = READ.get(matcher.group(2));
        long capacity = burst == null ? n : burst;
        if (!period.equals(Duration.ofMillis(1))) return new RateLimit(n, period, capacity);
        try {
            return new RateLimit(Math.multiplyExact(n, 1000), Duration.ofSeconds(1), capacity);
        } catch (ArithmeticException e) {
            throw new IllegalArgumentException(
                    "rate \"" + rate + "\" is too large (at most " + Long.MAX_VALUE / 1000 + "/ms)");
        }
    }

    /** Tokens per second, for display and metrics. */
    public double perSecond() {
        return tokens * 1e9 / period.toNanos();
    }

    /** The form config is written in, e.g. {@code 90/min}. */
    public String rate() {
        String unit = WRITTEN.get(period);
        if (unit != null) return tokens + "/" + unit;
        // Only learned limits (see docs/limits.md) have other periods, e.g. 100 per 30 s.
        return tokens + "/" + (period.equals(Duration.ofMillis(1)) ? "ms" : period.toSeconds() + "s");
    }
}
