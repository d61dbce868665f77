package io.sluice.config;

import static io.sluice.config.ConfigKey.children;
import static io.sluice.config.ConfigKey.key;
import static io.sluice.config.TreeReader.checkKeys;
import static io.sluice.config.TreeReader.construct;
import static io.sluice.config.TreeReader.pem;
import static io.sluice.config.TreeReader.readableFile;
import static io.sluice.config.TreeReader.required;

import com.fasterxml.jackson.databind.JsonNode;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Optional;

/**
 * The top-level {@code tls} section (each policy's own {@code tls} is {@link PolicyCodec}'s): its
 * keys, and how it is read and validated into a {@link TlsConfig}. Sluice's own CA is not loaded
 * here, only its paths checked.
 */
final class TlsCodec {

    static final List<ConfigKey> KEYS = List.of(
            key("tls.ca_dir", "path", "`~/.sluice`", "where the interception CA is generated and kept"),
            key("tls.ca_cert", "path", "—", "your own interception CA certificate (PEM), with `tls.ca_key`"),
            key("tls.ca_key", "path", "—", "its private key"),
            key("tls.ca_file", "path", "—", "PEM roots trusted for every upstream, on top of the JDK's"),
            key(
                    "tls.min_version",
                    "`TLSv1.2` \\| `TLSv1.3`",
                    "`TLSv1.2`",
                    "every policy's `tls.min_version` unless it states its own"),
            key(
                    "tls.provider",
                    "`auto` \\| `conscrypt` \\| `jdk`",
                    "`auto`",
                    "TLS engine of upstream HTTP/1.1 and interception: `auto` (Conscrypt where it loads, else the JDK's), `conscrypt` or `jdk`"));

    private final TreeReader in;

    TlsCodec(TreeReader in) {
        this.in = in;
    }

    /** Reads {@code tls} from {@code node}, already merged over the built-in defaults. */
    TlsConfig read(JsonNode node) {
        checkKeys("tls", node, children(KEYS, "tls."));
        Path caDir = in.optionalPath("tls.ca_dir", required("tls.ca_dir", node.get("ca_dir")))
                .orElseThrow(() -> new ConfigException("tls.ca_dir", "required"));
        if (Files.exists(caDir) && !Files.isDirectory(caDir)) {
            throw new ConfigException("tls.ca_dir", "not a directory: " + caDir);
        }
        Optional<Path> caCert = in.optionalPath("tls.ca_cert", node.get("ca_cert"));
        Optional<Path> caKey = in.optionalPath("tls.ca_key", node.get("ca_key"));
        if (caCert.isPresent() && caKey.isEmpty()) {
            throw new ConfigException("tls.ca_key", "required with ca_cert (" + caCert.get() + ")");
        }
        if (caKey.isPresent() && caCert.isEmpty()) {
            throw new ConfigException("tls.ca_cert", "required with ca_key (" + caKey.get() + ")");
        }
        caCert.ifPresent(file -> readableFile("tls.ca_cert", file));
        caKey.ifPresent(file -> readableFile("tls.ca_key", file));
        Optional<Path> caFile = in.optionalPath("tls.ca_file", node.get("ca_file"));
        caFile.ifPresent(file -> pem("tls.ca_file", () -> Pem.certificates(file)));
        String minVersion = in.minVersion("tls.min_version", node.get("min_version"));
        TlsProvider provider = provider(node.get("provider"));
        return construct("tls", () -> new TlsConfig(caDir, caCert, caKey, caFile, minVersion, provider));
    }

    private TlsProvider provider(JsonNode node) {
        String value = in.string("tls.provider", required("tls.provider", node)).trim();
        try {
            return TlsProvider.parse(value);
        } catch (IllegalArgumentException e) {
            throw new ConfigException("tls.provider", e.getMessage());
        }
    }
}
