/**
 * Configuration: immutable records validated at construction, read from YAML with {@code ${ENV}}
 * and {@code ${ENV:-default}} substitution. Every key is optional; {@link io.sluice.config.ConfigLoader}
 * layers an upstream's keys over {@code defaults}, and every error names the key path and the bad
 * value so a bad config fails in one readable line. Each section has one codec that names its keys,
 * reads and validates them ({@link io.sluice.config.PolicyCodec} and
 * {@link io.sluice.config.UpstreamCodec} also write them back, for the admin API and the state
 * file); docs/configuration.md's key table is generated from the codecs' key lists.
 */
package io.sluice.config;
