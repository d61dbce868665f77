package io.sluice.config;

import static io.sluice.config.ConfigKey.children;
import static io.sluice.config.ConfigKey.key;
import static io.sluice.config.TreeReader.checkKeys;
import static io.sluice.config.TreeReader.required;

import com.fasterxml.jackson.databind.JsonNode;
import java.util.List;

/** The {@code log} section: its keys, and how it is read and validated into a {@link LogConfig}. */
final class LogCodec {

    static final List<ConfigKey> KEYS = List.of(
            key(
                    "log.format",
                    "`text` \\| `json`",
                    "`text`",
                    "Sluice's own log lines: `text`, one line per record, or `json`, one object per line (`time`, `level`, `logger`, `message`, `error`) for container log pipelines ([operating](operating.md#logs))"),
            key(
                    "log.access",
                    "boolean",
                    "`false`",
                    "`true`: one access-log line per request on the data port and inside intercepted tunnels, Combined Log Format without the query string, plus ms to answer; logger `sluice.access`"));

    private final TreeReader in;

    LogCodec(TreeReader in) {
        this.in = in;
    }

    /** Reads {@code log} from {@code node}, already merged over the built-in defaults. */
    LogConfig read(JsonNode node) {
        checkKeys("log", node, children(KEYS, "log."));
        String format = in.string("log.format", required("log.format", node.get("format")));
        LogConfig.Format parsed = switch (format) {
            case "text" -> LogConfig.Format.TEXT;
            case "json" -> LogConfig.Format.JSON;
            default -> throw new ConfigException("log.format", "must be text or json: \"" + format + "\"");
        };
        return new LogConfig(parsed, in.bool("log.access", required("log.access", node.get("access"))));
    }
}
