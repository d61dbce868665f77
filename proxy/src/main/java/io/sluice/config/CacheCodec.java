package io.sluice.config;

import static io.sluice.config.ConfigKey.children;
import static io.sluice.config.ConfigKey.key;
import static io.sluice.config.TreeReader.checkKeys;
import static io.sluice.config.TreeReader.construct;

import com.fasterxml.jackson.databind.JsonNode;
import java.util.List;

/**
 * The top-level {@code cache} section (the store shared by every upstream; each policy's own
 * {@code cache} is {@link PolicyCodec}'s): its keys, and how it is read into a {@link CacheConfig}.
 */
final class CacheCodec {

    static final List<ConfigKey> KEYS = List.of(
            key(
                    "cache.max_size",
                    "size",
                    "`256MB`",
                    "bytes of stored responses, all upstreams together ([cache](cache.md#configuration))"),
            key(
                    "cache.max_entry_size",
                    "size",
                    "`8MB`",
                    "largest response stored; larger ones stream through unstored"),
            key("cache.max_in_flight", "size", "`64MB`", "bytes being copied into the cache at once"));

    private final TreeReader in;

    CacheCodec(TreeReader in) {
        this.in = in;
    }

    /** Reads {@code cache} from {@code c}, already merged over the built-in defaults. */
    CacheConfig read(JsonNode c) {
        checkKeys("cache", c, children(KEYS, "cache."));
        return construct(
                "cache",
                () -> new CacheConfig(
                        in.size("cache.max_size", c.get("max_size")),
                        in.size("cache.max_entry_size", c.get("max_entry_size")),
                        in.size("cache.max_in_flight", c.get("max_in_flight"))));
    }
}
