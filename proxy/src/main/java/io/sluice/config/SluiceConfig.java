package io.sluice.config;

import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Optional;

/** The whole configuration, as read and validated by {@link ConfigLoader}. */
public record SluiceConfig(
        HostPort listen,
        AdminConfig admin,
        ServerConfig server,
        CacheConfig cache,
        Policy defaults,
        Map<String, UpstreamConfig> upstreams,
        Optional<RedisConfig> redis,
        TlsConfig tls,
        TracingConfig tracing,
        LogConfig log) {
    public SluiceConfig {
        upstreams = java.util.Collections.unmodifiableMap(new LinkedHashMap<>(upstreams));
    }

    public SluiceConfig withListen(HostPort listen) {
        return new SluiceConfig(listen, admin, server, cache, defaults, upstreams, redis, tls, tracing, log);
    }

    public SluiceConfig withAdminListen(HostPort adminListen) {
        return new SluiceConfig(
                listen,
                new AdminConfig(adminListen, admin.token(), admin.insecureOpen(), admin.stateFile()),
                server,
                cache,
                defaults,
                upstreams,
                redis,
                tls,
                tracing,
                log);
    }

    public SluiceConfig withStateFile(java.nio.file.Path stateFile) {
        return new SluiceConfig(
                listen,
                new AdminConfig(admin.listen(), admin.token(), admin.insecureOpen(), Optional.of(stateFile)),
                server,
                cache,
                defaults,
                upstreams,
                redis,
                tls,
                tracing,
                log);
    }

    /** The same config with Sluice's interception CA kept in {@code caDir} (tests use a temporary one). */
    public SluiceConfig withTlsCaDir(java.nio.file.Path caDir) {
        return new SluiceConfig(
                listen, admin, server, cache, defaults, upstreams, redis, tls.withCaDir(caDir), tracing, log);
    }

    /** The same config with {@code tracing} instead. */
    public SluiceConfig withTracing(TracingConfig tracing) {
        return new SluiceConfig(listen, admin, server, cache, defaults, upstreams, redis, tls, tracing, log);
    }

    public SluiceConfig withTlsProvider(TlsProvider provider) {
        return new SluiceConfig(
                listen, admin, server, cache, defaults, upstreams, redis, tls.withProvider(provider), tracing, log);
    }
}
