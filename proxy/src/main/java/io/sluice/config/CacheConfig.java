package io.sluice.config;

/** The response cache's byte budget overall and for one entry. */
public record CacheConfig(DataSize maxSize, DataSize maxEntrySize) {}
