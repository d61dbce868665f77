package io.sluice.config;

import java.nio.file.Path;
import java.util.Optional;

/**
 * The admin port. Mutations need {@code Authorization: Bearer <token>}; with no token configured
 * they are refused unless {@code insecureOpen} is set (local development only).
 */
public record AdminConfig(HostPort listen, Interpolated token, boolean insecureOpen, Optional<Path> stateFile) {
    public boolean hasToken() {
        return !token.value().isEmpty();
    }
}
