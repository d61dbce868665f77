package io.sluice.config;

import java.util.LinkedHashSet;
import java.util.List;
import java.util.Set;

/**
 * One config key as docs/configuration.md lists it: its path ({@code <policy>.} stands for
 * {@code defaults.} and {@code upstreams.<name>.}; {@code []} for each item of a list), its type,
 * its default and what it does, the last two as Markdown. Each section codec lists its keys, and
 * reads exactly those, so the page ({@link ConfigReference}) and the reader cannot disagree.
 */
record ConfigKey(String name, String type, String defaultValue, String meaning) {

    static ConfigKey key(String name, String type, String defaultValue, String meaning) {
        return new ConfigKey(name, type, defaultValue, meaning);
    }

    /**
     * The names {@code keys} allow directly under {@code prefix} ({@code "server."},
     * {@code "<policy>.timeouts."}, {@code "<policy>.limits[]."}): the next segment of each key
     * that starts with it.
     */
    static Set<String> children(List<ConfigKey> keys, String prefix) {
        Set<String> names = new LinkedHashSet<>();
        for (ConfigKey key : keys) {
            if (key.name().startsWith(prefix))
                names.add(key.name().substring(prefix.length()).split("[.\\[]", 2)[0]);
        }
        if (names.isEmpty()) throw new IllegalStateException("no key under " + prefix);
        return Set.copyOf(names);
    }
}
