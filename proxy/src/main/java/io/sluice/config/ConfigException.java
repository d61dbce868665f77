package io.sluice.config;

/** A config value that cannot be used. The message names the key path and the bad value. */
public final class ConfigException extends RuntimeException {
    public ConfigException(String path, String problem) {
        super(path.isEmpty() ? problem : path + ": " + problem);
    }
}
