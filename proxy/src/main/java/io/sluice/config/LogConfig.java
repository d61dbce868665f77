package io.sluice.config;

import java.util.Objects;

/**
 * The top-level {@code log}: how Sluice writes its own log lines ({@code text}, one line each, or
 * {@code json}, one object per line for container log pipelines), and whether every request on the
 * data port gets an access-log line.
 */
public record LogConfig(Format format, boolean access) {
    public enum Format {
        TEXT,
        JSON
    }

    public static final LogConfig DEFAULT = new LogConfig(Format.TEXT, false);

    public LogConfig {
        Objects.requireNonNull(format, "format");
    }
}
