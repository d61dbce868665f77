package io.sluice.config;

import static io.sluice.config.ConfigKey.children;
import static io.sluice.config.ConfigKey.key;
import static io.sluice.config.TreeReader.checkKeys;
import static io.sluice.config.TreeReader.construct;
import static io.sluice.config.TreeReader.object;
import static io.sluice.config.TreeReader.required;

import com.fasterxml.jackson.databind.JsonNode;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.Optional;

/**
 * The {@code redis} section (absent: limits are per sidecar): its keys, and how it is read and
 * validated into a {@link RedisConfig}. The key secret is named in errors by its template and
 * length, never its value.
 */
final class RedisCodec {

    static final List<ConfigKey> KEYS = List.of(
            key(
                    "redis.uri",
                    "URI",
                    "— (no `redis`: limits are per sidecar)",
                    "`redis://`, `rediss://`, `redis-socket://`, `redis-sentinel://host:port[,host:port…]#master` (Sentinel finds the master, also after a failover), or `redis-cluster://host:port[,host:port…]` (`rediss-cluster://` with TLS; seed nodes of a Redis Cluster, each given the URI's credentials and options); enables [shared mode](limits.md#shared-mode-redis)"),
            key(
                    "redis.local_share",
                    "share",
                    "`50%`",
                    "share of each limit a sidecar uses alone while Redis is unreachable"),
            key("redis.timeout", "duration", "`50ms`", "per-command timeout"),
            key("redis.key_prefix", "string", "`sluice:`", "prefix of every key Sluice writes"),
            key(
                    "redis.key_secret",
                    "string",
                    "— (per-key buckets stay per sidecar)",
                    "secret (≥ 16 bytes, `${ENV}` recommended) under which every replica labels keys alike, so `per: key` buckets and `cooldown: key` pauses are shared through Redis; never shown ([multi-tenant budgets](multi-tenant-budgets.md#shared-mode-redis-rediskey_secret))"));

    private final TreeReader in;

    RedisCodec(TreeReader in) {
        this.in = in;
    }

    /** Reads {@code redis} from {@code redisNode}; empty when it is absent or null. */
    Optional<RedisConfig> read(JsonNode redisNode) {
        if (redisNode == null || redisNode.isNull()) return Optional.empty();
        object("redis", redisNode);
        checkKeys("redis", redisNode, children(KEYS, "redis."));
        Interpolated uri = in.interpolated("redis.uri", required("redis.uri", redisNode.get("uri")));
        JsonNode share = redisNode.get("local_share");
        JsonNode timeout = redisNode.get("timeout");
        JsonNode prefix = redisNode.get("key_prefix");
        JsonNode secretNode = redisNode.get("key_secret");
        Optional<Interpolated> keySecret = secretNode == null || secretNode.isNull()
                ? Optional.empty()
                : Optional.of(in.interpolated("redis.key_secret", secretNode));
        keySecret.ifPresent(secret -> {
            int bytes = secret.value().getBytes(StandardCharsets.UTF_8).length;
            if (bytes < RedisConfig.MIN_KEY_SECRET_BYTES) {
                // The template and the length, never the value.
                throw new ConfigException(
                        "redis.key_secret",
                        "must be at least " + RedisConfig.MIN_KEY_SECRET_BYTES + " bytes, got " + bytes + " from \""
                                + secret.template() + "\"");
            }
        });
        return Optional.of(construct(
                "redis",
                () -> new RedisConfig(
                        uri,
                        share == null ? RedisConfig.DEFAULT_LOCAL_SHARE : in.fraction("redis.local_share", share),
                        timeout == null ? RedisConfig.DEFAULT_TIMEOUT : in.duration("redis.timeout", timeout),
                        prefix == null ? RedisConfig.DEFAULT_KEY_PREFIX : in.string("redis.key_prefix", prefix),
                        keySecret)));
    }
}
