package io.sluice.config;

import static io.sluice.config.ConfigKey.children;
import static io.sluice.config.ConfigKey.key;
import static io.sluice.config.TreeReader.checkKeys;

import com.fasterxml.jackson.databind.JsonNode;
import java.nio.file.Path;
import java.util.List;
import java.util.Optional;

/** The {@code admin} section: its keys, and how it is read and validated into an {@link AdminConfig}. */
final class AdminCodec {

    static final List<ConfigKey> KEYS = List.of(
            key(
                    "admin.listen",
                    "host:port",
                    "`127.0.0.1:7601`",
                    "admin port: health, readiness, `/metrics`, `/openapi.yaml`, admin API and UI; `--admin-listen` overrides it"),
            key(
                    "admin.token",
                    "string",
                    "`${SLUICE_ADMIN_TOKEN:-}`",
                    "bearer token for admin changes ([securing the admin port](operating.md#securing-the-admin-port))"),
            key(
                    "admin.insecure_open",
                    "boolean",
                    "`false`",
                    "`true` allows admin changes without a token (local development only; no effect when a token is set)"),
            key(
                    "admin.state_file",
                    "path",
                    "`<config>.state.json` beside `--config`; none without it",
                    "where admin changes are persisted ([state file](operating.md#state-file-changes-survive-a-restart))"));

    private final TreeReader in;

    AdminCodec(TreeReader in) {
        this.in = in;
    }

    /** Reads {@code admin} from {@code node}, already merged over the built-in defaults. */
    AdminConfig read(JsonNode node) {
        checkKeys("admin", node, children(KEYS, "admin."));
        return new AdminConfig(
                in.hostPort("admin.listen", node.get("listen")),
                in.interpolated("admin.token", node.get("token")),
                in.bool("admin.insecure_open", node.get("insecure_open")),
                Optional.ofNullable(node.get("state_file")).map(n -> Path.of(in.string("admin.state_file", n))));
    }
}
