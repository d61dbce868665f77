package io.sluice.config;

import java.util.Locale;
import java.util.regex.Pattern;

/** A byte count written {@code 512KB}, {@code 8MB}, {@code 1GB} (binary multiples) or plain bytes. */
public record DataSize(long bytes) {
    private static final Pattern FORM = Pattern.compile("(\\d+)\\s*(B|KB|KIB|MB|MIB|GB|GIB)?");

    public DataSize {
        if (bytes < 0) {
            throw new IllegalArgumentException("size cannot be negative: " + bytes);
        }
    }

    public static DataSize ofBytes(long bytes) {
        return new DataSize(bytes);
    }

    public static DataSize ofKilobytes(long kb) {
        return new DataSize(Math.multiplyExact(kb, 1024L));
    }

    public static DataSize ofMegabytes(long mb) {
        return new DataSize(Math.multiplyExact(mb, 1024L * 1024));
    }

    /** Parses {@code 256MB}; throws {@link IllegalArgumentException} naming the accepted forms. */
    public static DataSize parse(String text) {
        var matcher = FORM.matcher(text.trim().toUpperCase(Locale.ROOT));
        if (!matcher.matches()) {
            throw new IllegalArgumentException("invalid size \"" + text + "\" (use e.g. 512KB, 8MB, 1GB)");
        }
        String unit = matcher.group(2) == null ? "B" : matcher.group(2);
        long multiplier = switch (unit) {
            case "B" -> 1;
            case "KB", "KIB" -> 1024;
            case "MB", "MIB" -> 1024 * 1024;
            default -> 1024L * 1024 * 1024;
        };
        try {
            return new DataSize(Math.multiplyExact(Long.parseLong(matcher.group(1)), multiplier));
        } catch (ArithmeticException | NumberFormatException e) {
            throw new IllegalArgumentException("size \"" + text + "\" is too large (at most 8 EiB)");
        }
    }

    /** The int value, for APIs that take one; sizes here are far below 2 GiB. */
    public int toIntExact() {
        return Math.toIntExact(bytes);
    }

    @Override
    public String toString() {
        if (bytes % (1024L * 1024 * 1024) == 0 && bytes > 0) return bytes / (1024L * 1024 * 1024) + "GB";
        if (bytes % (1024L * 1024) == 0 && bytes > 0) return bytes / (1024L * 1024) + "MB";
        if (bytes % 1024 == 0 && bytes > 0) return bytes / 1024 + "KB";
        return bytes + "B";
    }
}
