package io.sluice.admin;

import java.util.Optional;

/**
 * Removes cached responses for {@code POST /api/cache/purge}. The response cache implements it;
 * until one is wired the admin answers {@code 501}.
 */
@FunctionalInterface
public interface CachePurger {
    /** What to purge: everything (both empty), one upstream's entries, and/or URLs under a prefix. */
    record Selector(Optional<String> upstream, Optional<String> urlPrefix) {
        public static final Selector ALL = new Selector(Optional.empty(), Optional.empty());
    }

    /** Removes the matching entries and returns how many there were. */
    long purge(Selector selector);
}
