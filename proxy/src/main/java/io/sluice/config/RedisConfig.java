package io.sluice.config;

/** Shared mode: buckets and cooldowns live in Redis at {@code uri} (a secret-bearing template). */
public record RedisConfig(Interpolated uri) {}
