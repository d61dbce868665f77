package io.sluice.upstream;

import io.sluice.config.Policy;
import io.sluice.config.UpstreamConfig;
import java.net.URI;
import java.util.Collection;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.atomic.AtomicReference;

/**
 * The live set of upstreams. Reads are lock-free against an immutable snapshot; a change (from the
 * admin API) builds a new snapshot and swaps it in, so a request resolves against one consistent
 * set even while an operator edits it.
 */
public final class Upstreams {
    private final AtomicReference<Snapshot> snapshot;

    public Upstreams(Policy defaults, Collection<UpstreamConfig> configs) {
        Map<String, Upstream> byName = new LinkedHashMap<>();
        configs.forEach(c -> byName.put(c.name(), Upstream.of(c)));
        snapshot = new AtomicReference<>(new Snapshot(Upstream.defaults(defaults), byName));
    }

    /** The most specific upstream claiming {@code uri}'s origin, else {@link Upstream#DEFAULT}. */
    public Upstream resolve(URI uri) {
        Snapshot s = snapshot.get();
        Upstream best = s.defaults;
        int bestScore = -1;
        for (Upstream upstream : s.byName.values()) {
            int score = upstream.specificityFor(uri);
            if (score > bestScore) {
                best = upstream;
                bestScore = score;
            }
        }
        return best;
    }

    /** The upstream called {@code name} ({@code default} included). */
    public Optional<Upstream> get(String name) {
        Snapshot s = snapshot.get();
        if (Upstream.DEFAULT.equals(name)) return Optional.of(s.defaults);
        return Optional.ofNullable(s.byName.get(name));
    }

    /** Every named upstream, in config order, then {@code default}. */
    public Collection<Upstream> all() {
        Snapshot s = snapshot.get();
        var all = new java.util.ArrayList<>(s.byName.values());
        all.add(s.defaults);
        return all;
    }

    /** Adds or replaces a named upstream. */
    public void put(UpstreamConfig config) {
        snapshot.updateAndGet(s -> {
            Map<String, Upstream> next = new LinkedHashMap<>(s.byName);
            next.put(config.name(), Upstream.of(config));
            return new Snapshot(s.defaults, next);
        });
    }

    /** Replaces the {@code default} policy. */
    public void putDefaults(Policy policy) {
        snapshot.updateAndGet(s -> new Snapshot(Upstream.defaults(policy), s.byName));
    }

    /** Removes a named upstream; its origins fall back to the next match or {@code default}. */
    public boolean remove(String name) {
        Snapshot before = snapshot.getAndUpdate(s -> {
            Map<String, Upstream> next = new LinkedHashMap<>(s.byName);
            next.remove(name);
            return new Snapshot(s.defaults, next);
        });
        return before.byName.containsKey(name);
    }

    private record Snapshot(Upstream defaults, Map<String, Upstream> byName) {}
}
