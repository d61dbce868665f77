package io.sluice.admin;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.time.Clock;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.TreeSet;

/**
 * One log line per admin change, on the {@code io.sluice.audit} logger: when, who (a token
 * fingerprint and the remote address), what (the action, the upstream, each changed key with its
 * old and new value). Header values are never written, only which headers changed.
 */
final class Audit {
    private static final System.Logger LOG = System.getLogger("io.sluice.audit");
    private final Clock clock;

    Audit(Clock clock) {
        this.clock = clock;
    }

    void record(String who, String from, String action, String target, String what, boolean persisted) {
        LOG.log(
                System.Logger.Level.INFO,
                "audit at={0} who={1} from={2} action={3} target={4} persisted={5} changes={6}",
                clock.instant(),
                who,
                from,
                action,
                target,
                persisted,
                what);
    }

    /** A change that was refused before it was looked at (no or wrong token, another origin). */
    void refused(String from, String request, String reason) {
        LOG.log(
                System.Logger.Level.WARNING,
                "audit at={0} who=unauthenticated from={1} action=refused request={2} reason={3}",
                clock.instant(),
                from,
                request,
                reason);
    }

    /** The keys that differ between two config-shaped upstreams, with values (headers by name only). */
    static String diff(Optional<ObjectNode> before, Optional<ObjectNode> after) {
        if (before.isEmpty() && after.isEmpty()) return "none";
        if (before.isEmpty()) return "created " + describe(after.get());
        if (after.isEmpty()) return "removed";
        List<String> changes = new ArrayList<>();
        TreeSet<String> keys = new TreeSet<>();
        before.get().fieldNames().forEachRemaining(keys::add);
        after.get().fieldNames().forEachRemaining(keys::add);
        for (String key : keys) {
            JsonNode a = before.get().get(key);
            JsonNode b = after.get().get(key);
            if (a != null && a.equals(b)) continue;
            if (key.equals("headers")) {
                changes.add("headers " + changedNames(a, b));
            } else {
                changes.add(key + " " + (a == null ? "unset" : a) + " -> " + (b == null ? "unset" : b));
            }
        }
        return changes.isEmpty() ? "none" : String.join("; ", changes);
    }

    private static String describe(ObjectNode node) {
        ObjectNode copy = node.deepCopy();
        JsonNode headers = copy.remove("headers");
        return copy + (headers == null || headers.isEmpty() ? "" : " headers " + names(headers));
    }

    private static TreeSet<String> changedNames(JsonNode a, JsonNode b) {
        TreeSet<String> names = new TreeSet<>();
        if (a != null) names.addAll(names(a));
        if (b != null) names.addAll(names(b));
        names.removeIf(
                n -> a != null && b != null && a.has(n) && b.has(n) && a.get(n).equals(b.get(n)));
        return names;
    }

    private static TreeSet<String> names(JsonNode headers) {
        TreeSet<String> names = new TreeSet<>();
        for (Iterator<Map.Entry<String, JsonNode>> it = headers.fields(); it.hasNext(); )
            names.add(it.next().getKey());
        return names;
    }
}
