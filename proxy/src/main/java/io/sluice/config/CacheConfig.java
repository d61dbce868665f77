package io.sluice.config;

/**
 * The response cache's byte budgets: everything stored ({@code max_size}), one stored response
 * ({@code max_entry_size}; larger ones stream through without being stored), and the bodies being
 * copied for storing while they stream, all together ({@code max_in_flight}).
 */
public record CacheConfig(DataSize maxSize, DataSize maxEntrySize, DataSize maxInFlight) {
    /** The built-in {@code max_in_flight}. */
    public static final DataSize DEFAULT_MAX_IN_FLIGHT = DataSize.ofMegabytes(64);

    public CacheConfig {
        if (maxEntrySize.bytes() > maxSize.bytes()) {
            throw new IllegalArgumentException(
                    "max_entry_size cannot exceed max_size: " + maxEntrySize + " > " + maxSize);
        }
    }

    public CacheConfig(DataSize maxSize, DataSize maxEntrySize) {
        this(maxSize, maxEntrySize, DEFAULT_MAX_IN_FLIGHT);
    }
}
