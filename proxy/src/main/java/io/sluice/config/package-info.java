/**
 * Configuration: immutable records validated at construction, read from YAML with {@code ${ENV}}
 * and {@code ${ENV:-default}} substitution. Every key is optional; {@link io.sluice.config.ConfigLoader}
 * layers an upstream's keys over {@code defaults}, and every error names the key path and the bad
 * value so a bad config fails in one readable line.
 */
package io.sluice.config;
