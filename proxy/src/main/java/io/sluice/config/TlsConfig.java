package io.sluice.config;

import java.nio.file.Path;
import java.util.Optional;

/**
 * The top-level {@code tls:} section. {@code caDir} is where Sluice's interception CA is generated
 * and kept; {@code caCert} + {@code caKey} (together or neither) give an operator's own CA instead.
 * {@code caFile} holds PEM roots trusted for every upstream, in addition to the JDK's defaults and
 * an upstream's own {@code tls.ca_file}. {@code minVersion} is the default of every policy's
 * {@code tls.min_version}. {@code provider} is whose TLS engine serves upstream HTTP/1.1 and
 * interception.
 */
public record TlsConfig(
        Path caDir,
        Optional<Path> caCert,
        Optional<Path> caKey,
        Optional<Path> caFile,
        String minVersion,
        TlsProvider provider) {
    public TlsConfig {
        if (caDir == null) throw new IllegalArgumentException("ca_dir: required");
        if (caCert.isPresent() != caKey.isPresent()) {
            throw new IllegalArgumentException(
                    caCert.isPresent()
                            ? "ca_key: required with ca_cert (" + caCert.get() + ")"
                            : "ca_cert: required with ca_key (" + caKey.get() + ")");
        }
        TlsVersions.check(minVersion);
        if (provider == null) throw new IllegalArgumentException("provider: required");
    }

    public TlsConfig withCaDir(Path caDir) {
        return new TlsConfig(caDir, caCert, caKey, caFile, minVersion, provider);
    }

    public TlsConfig withProvider(TlsProvider provider) {
        return new TlsConfig(caDir, caCert, caKey, caFile, minVersion, provider);
    }
}
