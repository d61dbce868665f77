package io.sluice.admin;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.sluice.config.ConfigException;
import io.sluice.config.ConfigLoader;
import io.sluice.config.Policy;
import io.sluice.config.UpstreamConfig;
import io.sluice.upstream.Upstream;
import io.sluice.upstream.Upstreams;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.channels.FileChannel;
import java.nio.file.AtomicMoveNotSupportedException;
import java.nio.file.FileSystems;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Clock;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.function.Consumer;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Changes to the live upstream set, made through the admin API: each is validated exactly as the
 * config file would be ({@link ConfigLoader}), written to the state file, and only then applied, so
 * what runs is always what a restart would bring back.
 *
 * <p>The state file holds only what the admin changed (upstreams added or replaced, upstreams
 * removed, the {@code default} policy), in the config's shape, and is layered over the config at
 * the next start. Header values are stored as templates: a secret from the environment is
 * re-read from the environment, never written down. The file is replaced atomically (write a
 * temporary file beside it, then rename), so a crash leaves the old state or the new, never half.
 */
public final class PolicyStore {
    private static final int VERSION = 1;
    /** As {@link io.sluice.config.Interpolated}: {@code $$} escapes, {@code ${NAME}} and {@code ${NAME:-default}} refer. */
    private static final Pattern REFERENCE = Pattern.compile("\\$\\$|\\$\\{([A-Za-z_][A-Za-z0-9_]*)(?::-([^}]*))?}");

    private final ConfigLoader loader;
    private final Upstreams upstreams;
    private final Optional<Path> stateFile;
    private final Clock clock;
    /** Upstream name to its stored config-shaped node; a JSON null marks a removal. */
    private final Map<String, JsonNode> overrides = new LinkedHashMap<>();

    /**
     * By upstream, the environment variables its headers use as Sluice started: the only ones a
     * change may reference (those of {@code default} are allowed everywhere, as they are sent everywhere).
     */
    private final Map<String, Set<String>> allowedReferences = new java.util.HashMap<>();
    /** By upstream: the variables its {@code key_limits} keys used when Sluice started. */
    private final Map<String, Set<String>> keyReferences = new java.util.HashMap<>();

    private Optional<JsonNode> defaultsOverride = Optional.empty();
    private Consumer<String> onRemove = name -> {};

    private PolicyStore(ConfigLoader loader, Upstreams upstreams, Optional<Path> stateFile, Clock clock) {
        this.loader = loader;
        this.upstreams = upstreams;
        this.stateFile = stateFile;
        this.clock = clock;
    }

    /**
     * A store over {@code upstreams} that persists to {@code stateFile}; an existing state file is
     * read and applied now, and an invalid one fails with the file and key path named.
     */
    public static PolicyStore open(ConfigLoader loader, Upstreams upstreams, Optional<Path> stateFile, Clock clock) {
        PolicyStore store = new PolicyStore(loader, upstreams, stateFile, clock);
        stateFile.filter(Files::exists).ifPresent(store::load);
        for (Upstream u : upstreams.all()) {
            Set<String> names = new HashSet<>();
            u.policy().headers().values().forEach(v -> names.addAll(references(v.template())));
            store.allowedReferences.put(u.name(), names);
            Set<String> keyNames = new HashSet<>();
            u.policy().keyLimits().forEach(k -> k.template().ifPresent(t -> keyNames.addAll(references(t))));
            store.keyReferences.put(u.name(), keyNames);
        }
        var log = System.getLogger(PolicyStore.class.getName());
        if (stateFile.isPresent()) {
            log.log(System.Logger.Level.INFO, "admin changes persist to {0}", stateFile.get());
        } else {
            log.log(System.Logger.Level.INFO, "admin changes are not persisted (no admin.state_file and no --config)");
        }
        return store;
    }

    public Optional<Path> stateFile() {
        return stateFile;
    }

    /** Called with the name of each upstream removed (to drop its statistics). */
    void onRemove(Consumer<String> hook) {
        this.onRemove = hook;
    }

    /** Whether the admin has changed {@code name} since the config was written. */
    public synchronized boolean isOverridden(String name) {
        return Upstream.DEFAULT.equals(name) ? defaultsOverride.isPresent() : overrides.containsKey(name);
    }

    /**
     * Adds ({@code mustNotExist}) or replaces upstream {@code name} with {@code node}, in the
     * config's shape; keys it leaves out come from {@code defaults}.
     */
    public synchronized Change put(String name, JsonNode node, boolean mustNotExist) {
        Optional<Upstream> before = upstreams.get(name);
        if (mustNotExist && before.isPresent()) {
            throw new Conflict("upstream \"" + name + "\" already exists; PUT /api/upstreams/" + name + " replaces it");
        }
        if (!node.isObject()) throw new ConfigException(path(name), "expected a JSON object");
        ObjectNode body = (ObjectNode) node.deepCopy();
        boolean keptRedacted = restoreRedacted(name, body, before);
        Set<String> mayUse = new HashSet<>(allowedReferences.getOrDefault(name, Set.of()));
        mayUse.addAll(allowedReferences.getOrDefault(Upstream.DEFAULT, Set.of()));
        Set<String> keyMayUse = new HashSet<>(keyReferences.getOrDefault(name, Set.of()));
        keyMayUse.addAll(keyReferences.getOrDefault(Upstream.DEFAULT, Set.of()));
        Set<String> used = checkReferences(path(name), body, mayUse, keyMayUse);
        used.removeAll(allowedReferences.getOrDefault(Upstream.DEFAULT, Set.of()));
        if (Upstream.DEFAULT.equals(name)) {
            if (body.has("base_url") || body.has("match")) {
                throw new ConfigException(
                        "defaults", "the default policy governs every unclaimed origin; it takes no base_url or match");
            }
            Policy policy = loader.defaultsPolicy(body, ConfigLoader.builtinDefaultsNode());
            ObjectNode stored = PolicyJson.policy(policy, false);
            Optional<JsonNode> previous = defaultsOverride;
            defaultsOverride = Optional.of(stored);
            persistOrRollback(() -> defaultsOverride = previous);
            upstreams.putDefaults(policy);
        } else {
            UpstreamConfig config = loader.upstream(name, body, defaultsNode());
            if ((!used.isEmpty() || keptRedacted) && !sameOrigins(before, config)) {
                throw new ConfigException(
                        path(name),
                        "this upstream sends "
                                + (used.isEmpty()
                                        ? "a redacted credential"
                                        : "${" + used.iterator().next() + "}")
                                + " from its config; its base_url and match can be changed only in the config file");
            }
            ObjectNode stored = PolicyJson.upstream(Upstream.of(config), false);
            JsonNode previous = overrides.get(name);
            boolean had = overrides.containsKey(name);
            overrides.put(name, stored);
            persistOrRollback(() -> {
                if (had) overrides.put(name, previous);
                else overrides.remove(name);
            });
            upstreams.put(config);
        }
        return new Change(
                before.map(u -> PolicyJson.upstream(u, true)),
                upstreams.get(name).orElseThrow());
    }

    /** Removes upstream {@code name}; its origins fall back to another match or {@code default}. */
    public synchronized Change remove(String name) {
        if (Upstream.DEFAULT.equals(name)) {
            throw new ConfigException(path(name), "the default policy cannot be removed (PUT it to change it)");
        }
        Upstream before = upstreams.get(name).orElseThrow(() -> new NotFound(name));
        JsonNode previous = overrides.get(name);
        boolean had = overrides.containsKey(name);
        overrides.put(name, JsonNodeFactory.instance.nullNode());
        persistOrRollback(() -> {
            if (had) overrides.put(name, previous);
            else overrides.remove(name);
        });
        upstreams.remove(name);
        onRemove.accept(name);
        return new Change(Optional.of(PolicyJson.upstream(before, true)), null);
    }

    /** The current {@code default} policy in config shape: what a new upstream's missing keys take. */
    private JsonNode defaultsNode() {
        return PolicyJson.policy(upstreams.get(Upstream.DEFAULT).orElseThrow().policy(), false);
    }

    /** A header sent back as {@link PolicyJson#REDACTED} keeps its current value; returns whether any did. */
    private static boolean restoreRedacted(String name, ObjectNode body, Optional<Upstream> before) {
        JsonNode headers = body.get("headers");
        if (headers == null || !headers.isObject()) return false;
        boolean kept = false;
        Map<String, String> current =
                before.map(u -> PolicyJson.headerTemplates(u.policy())).orElse(Map.of());
        for (Iterator<Map.Entry<String, JsonNode>> it = headers.fields(); it.hasNext(); ) {
            var header = it.next();
            if (!PolicyJson.REDACTED.equals(header.getValue().asText())) continue;
            String value = current.get(header.getKey().toLowerCase(java.util.Locale.ROOT));
            if (value == null) {
                throw new ConfigException(
                        path(name) + ".headers." + header.getKey(),
                        "\"" + PolicyJson.REDACTED + "\" keeps the current value, but there is none");
            }
            header.setValue(JsonNodeFactory.instance.textNode(value));
            kept = true;
        }
        return kept;
    }

    /**
     * A change may use {@code ${ENV}} only in header values, and only variables the config's own
     * headers already use. Otherwise anyone holding the admin token could read the environment:
     * by sending a variable upstream in a header, or by having a bad value (a duration, a rate)
     * quoted back in the error message.
     */
    /**
     * A change may use {@code ${ENV}} only in header values, and only variables this upstream's
     * headers already used when Sluice started; those stay bound to the upstream's origins.
     * Otherwise anyone holding the admin token could read the environment: by sending a variable
     * to an origin of their choosing, or by having a bad value (a duration, a rate) quoted back in
     * an error message. Returns the variables the change uses.
     */
    private static Set<String> checkReferences(
            String path, ObjectNode body, Set<String> mayUse, Set<String> keyMayUse) {
        Set<String> used = new HashSet<>();
        for (Iterator<Map.Entry<String, JsonNode>> it = body.fields(); it.hasNext(); ) {
            var field = it.next();
            if (field.getKey().equals("key_limits") && field.getValue().isArray()) {
                checkKeyLimits(path + ".key_limits", field.getValue(), keyMayUse);
                continue;
            }
            checkValue(
                    path + "." + field.getKey(),
                    field.getValue(),
                    field.getKey().equals("headers"),
                    mayUse,
                    used);
        }
        return used;
    }

    /**
     * {@code key_limits} may name a key by a {@code ${ENV}} value only with the variables this
     * upstream's own {@code key_limits} used when Sluice started, so that what the config gave can
     * be sent back unchanged. The value is only ever digested, never shown or sent; still, a new
     * variable would let the admin token test guesses of the environment against requests.
     */
    private static void checkKeyLimits(String path, JsonNode entries, Set<String> mayUse) {
        for (int i = 0; i < entries.size(); i++) {
            JsonNode entry = entries.get(i);
            String where = path + "[" + i + "]";
            if (!entry.isObject()) {
                checkValue(where, entry, false, Set.of(), new HashSet<>());
                continue;
            }
            for (Iterator<Map.Entry<String, JsonNode>> it = entry.fields(); it.hasNext(); ) {
                var field = it.next();
                String at = where + "." + field.getKey();
                if (!field.getKey().equals("key") || !field.getValue().isTextual()) {
                    checkValue(at, field.getValue(), false, Set.of(), new HashSet<>());
                    continue;
                }
                for (String name : references(field.getValue().asText())) {
                    if (!mayUse.contains(name)) {
                        throw new ConfigException(
                                at,
                                "${" + name + "} is not used by this upstream's key_limits in the config file; the"
                                        + " admin API can only keep the environment variables they already use"
                                        + " (name a key by its label instead)");
                    }
                }
            }
        }
    }

    private static void checkValue(String path, JsonNode node, boolean header, Set<String> mayUse, Set<String> used) {
        if (node.isTextual()) {
            for (String name : references(node.asText())) {
                if (!header) {
                    throw new ConfigException(
                            path, "${" + name + "}: environment references are allowed only in header values");
                }
                if (!mayUse.contains(name)) {
                    throw new ConfigException(
                            path,
                            "${" + name + "} is not used by this upstream's headers in the config file; the admin API"
                                    + " can only keep the environment variables an upstream already sends");
                }
                used.add(name);
            }
        } else if (node.isObject()) {
            for (Iterator<Map.Entry<String, JsonNode>> it = node.fields(); it.hasNext(); ) {
                var field = it.next();
                checkValue(path + "." + field.getKey(), field.getValue(), header, mayUse, used);
            }
        } else if (node.isArray()) {
            for (int i = 0; i < node.size(); i++) checkValue(path + "[" + i + "]", node.get(i), header, mayUse, used);
        }
    }

    private static boolean sameOrigins(Optional<Upstream> before, UpstreamConfig after) {
        return before.flatMap(Upstream::config)
                .map(b -> b.baseUrl().equals(after.baseUrl()) && b.match().equals(after.match()))
                .orElse(false);
    }

    private static List<String> references(String template) {
        List<String> names = new ArrayList<>();
        Matcher m = REFERENCE.matcher(template);
        while (m.find()) {
            if (m.group(1) != null) names.add(m.group(1));
        }
        return names;
    }

    private static String path(String name) {
        return Upstream.DEFAULT.equals(name) ? "defaults" : "upstreams." + name;
    }

    private void load(Path file) {
        JsonNode root;
        try {
            root = Mapper.JSON.readTree(file.toFile());
        } catch (IOException e) {
            throw new ConfigException("admin.state_file", "cannot read " + file + ": " + e.getMessage());
        }
        try {
            if (root == null || !root.isObject()) throw new ConfigException("", "expected a JSON object");
            JsonNode defaults = root.get("defaults");
            if (defaults != null && !defaults.isNull()) {
                Policy policy = loader.defaultsPolicy(defaults, ConfigLoader.builtinDefaultsNode());
                upstreams.putDefaults(policy);
                defaultsOverride = Optional.of(PolicyJson.policy(policy, false));
            }
            JsonNode stored = root.path("upstreams");
            for (Iterator<Map.Entry<String, JsonNode>> it = stored.fields(); it.hasNext(); ) {
                var entry = it.next();
                if (entry.getValue().isNull()) {
                    upstreams.remove(entry.getKey());
                } else {
                    upstreams.put(loader.upstream(entry.getKey(), entry.getValue(), defaultsNode()));
                }
                overrides.put(entry.getKey(), entry.getValue());
            }
        } catch (ConfigException e) {
            throw new ConfigException("admin.state_file", file + ": " + e.getMessage());
        }
    }

    private void persistOrRollback(Runnable rollback) {
        if (stateFile.isEmpty()) return;
        try {
            write(stateFile.get());
        } catch (IOException | UncheckedIOException e) {
            rollback.run();
            throw new PersistFailed("cannot write the state file " + stateFile.get() + " (" + e.getMessage()
                    + "); nothing was changed. Set admin.state_file to a writable path.");
        }
    }

    private void write(Path file) throws IOException {
        ObjectNode root = JsonNodeFactory.instance.objectNode();
        root.put("version", VERSION);
        root.put("updated_at", clock.instant().toString());
        root.put("note", "Changes made through the Sluice admin API, layered over the config file at start.");
        defaultsOverride.ifPresent(d -> root.set("defaults", d));
        ObjectNode stored = root.putObject("upstreams");
        overrides.forEach(stored::set);
        byte[] bytes = Mapper.JSON.writeValueAsBytes(root);

        Path dir = file.toAbsolutePath().getParent();
        Files.createDirectories(dir);
        Path temp = FileSystems.getDefault().supportedFileAttributeViews().contains("posix")
                ? Files.createTempFile(
                        dir,
                        ".sluice-state",
                        ".tmp",
                        PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString("rw-------")))
                : Files.createTempFile(dir, ".sluice-state", ".tmp");
        try {
            try (FileChannel channel = FileChannel.open(temp, StandardOpenOption.WRITE)) {
                channel.write(java.nio.ByteBuffer.wrap(bytes));
                channel.force(true); // the rename must not become visible before the bytes are on disk
            }
            try {
                Files.move(temp, file, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
            } catch (AtomicMoveNotSupportedException e) {
                Files.move(temp, file, StandardCopyOption.REPLACE_EXISTING);
            }
        } finally {
            Files.deleteIfExists(temp);
        }
    }

    /** One applied change: the upstream before (redacted, for the audit) and after (null when removed). */
    public record Change(Optional<ObjectNode> before, Upstream after) {}

    static final class Conflict extends RuntimeException {
        Conflict(String message) {
            super(message);
        }
    }

    static final class NotFound extends RuntimeException {
        NotFound(String name) {
            super("no upstream named \"" + name + "\"");
        }
    }

    static final class PersistFailed extends RuntimeException {
        PersistFailed(String message) {
            super(message);
        }
    }

    /** Made when the state file is first read or written: a start without one makes no mapper. */
    private static final class Mapper {
        static final ObjectMapper JSON = new ObjectMapper().enable(SerializationFeature.INDENT_OUTPUT);
    }
}
