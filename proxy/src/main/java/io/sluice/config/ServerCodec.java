package io.sluice.config;

import static io.sluice.config.ConfigKey.children;
import static io.sluice.config.ConfigKey.key;
import static io.sluice.config.TreeReader.checkKeys;
import static io.sluice.config.TreeReader.construct;

import com.fasterxml.jackson.databind.JsonNode;
import java.util.List;

/**
 * The top-level {@code listen} and the {@code server} section: their keys, and how they are read
 * and validated into a {@link HostPort} and a {@link ServerConfig}.
 */
final class ServerCodec {

    static final List<ConfigKey> KEYS = List.of(
            key(
                    "listen",
                    "host:port",
                    "`127.0.0.1:7600`",
                    "data port: batch API, passthrough, `CONNECT`; `--listen HOST:PORT` overrides it"),
            key("server.max_batch_items", "integer", "`100000`", "items in one batch"),
            key("server.max_batch_bytes", "size", "`64MB`", "size of one batch document"),
            key("server.max_batch_concurrency", "integer", "`1000`", "cap on a batch's `concurrency`"),
            key(
                    "server.max_item_response_bytes",
                    "size",
                    "`8MB`",
                    "a batch item's response body; beyond it the item is `too_large`"),
            key("server.max_request_body", "size", "`1GB`", "a passthrough request body; `413` beyond it"),
            key("server.max_header_size", "size", "`64KB`", "a client's request header block"),
            key(
                    "server.max_response_header_size",
                    "size",
                    "`64KB`",
                    "an upstream's response header block; past it: `too_large`"),
            key(
                    "server.max_response_headers",
                    "integer",
                    "`200`",
                    "an upstream's response header fields; past it: `too_large`"),
            key(
                    "server.idle_timeout",
                    "duration",
                    "`2m`",
                    "idle client connections, and the time to send a request's headers"),
            key(
                    "server.upstream_idle_timeout",
                    "duration",
                    "`30s`",
                    "an idle upstream connection is kept this long for reuse (nginx's upstream `keepalive_timeout`, squid's `pconn_timeout`); keep it below the origins' own"),
            key("server.shutdown_grace", "duration", "`30s`", "SIGTERM waits this long for in-flight requests"),
            key("server.io_threads", "integer", "`0`", "`0` = max(2, cores)"),
            key(
                    "server.worker_threads",
                    "integer",
                    "`0`",
                    "`0` = max(4, 2 × cores): pipeline stages and HTTP client callbacks"));

    private final TreeReader in;

    ServerCodec(TreeReader in) {
        this.in = in;
    }

    /** Reads the top-level {@code listen}. */
    HostPort listen(JsonNode node) {
        return in.hostPort("listen", node);
    }

    /** Reads {@code server} from {@code s}, already merged over the built-in defaults. */
    ServerConfig read(JsonNode s) {
        checkKeys("server", s, children(KEYS, "server."));
        int cores = Runtime.getRuntime().availableProcessors();
        int io = in.integer("server.io_threads", s.get("io_threads"));
        int workers = in.integer("server.worker_threads", s.get("worker_threads"));
        return construct(
                "server",
                () -> new ServerConfig(
                        in.integer("server.max_batch_items", s.get("max_batch_items")),
                        in.size("server.max_batch_bytes", s.get("max_batch_bytes")),
                        in.integer("server.max_batch_concurrency", s.get("max_batch_concurrency")),
                        in.size("server.max_item_response_bytes", s.get("max_item_response_bytes")),
                        in.size("server.max_request_body", s.get("max_request_body")),
                        in.size("server.max_header_size", s.get("max_header_size")),
                        in.size("server.max_response_header_size", s.get("max_response_header_size")),
                        in.integer("server.max_response_headers", s.get("max_response_headers")),
                        in.duration("server.idle_timeout", s.get("idle_timeout")),
                        in.duration("server.upstream_idle_timeout", s.get("upstream_idle_timeout")),
                        in.duration("server.shutdown_grace", s.get("shutdown_grace")),
                        io > 0 ? io : Math.max(2, cores),
                        workers > 0 ? workers : Math.max(4, cores * 2)));
    }
}
