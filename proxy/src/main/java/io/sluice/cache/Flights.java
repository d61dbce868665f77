package io.sluice.cache;

import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;

/**
 * Requests on their way upstream, so that identical ones wait for the first instead of sending
 * their own (request coalescing, "collapsed forwarding"). Caffeine's {@code AsyncCache.get} would
 * coalesce loads, but its value must be complete, and Sluice streams the leader's body to its client
 * as it arrives; so the leader streams, and the others wait for it to {@link Flight#resolve} with
 * what they should do next.
 */
final class Flights {
    private final ConcurrentHashMap<Object, Flight> flights = new ConcurrentHashMap<>();

    /** A new flight led by the caller, or null if one is already under way (then see {@link #current}). */
    Flight lead(Object key) {
        Flight mine = new Flight(key);
        return flights.putIfAbsent(key, mine) == null ? mine : null;
    }

    Flight current(Object key) {
        return flights.get(key);
    }

    int size() {
        return flights.size();
    }

    /** Requests waiting on some flight right now. */
    int waiting() {
        int n = 0;
        for (Flight f : flights.values()) n += f.followers();
        return n;
    }

    /** What a waiting request does once the leader knows. */
    sealed interface Resolution {
        /** The leader stored (or refreshed) a response, or failed for its own reasons: look again. */
        record LookAgain() implements Resolution {}

        /** The response cannot be shared (not storable, too large): go upstream alone. */
        record GoUpstream() implements Resolution {}

        /** The upstream failed in a way that says nothing about the leader alone: fail the same way. */
        record Fail(Throwable error) implements Resolution {}

        /** The upstream failed and {@code stale-if-error} let the leader serve this stale entry. */
        record ServeStale(Entry entry, String forwardStatus) implements Resolution {}

        Resolution LOOK_AGAIN = new LookAgain();
        Resolution GO_UPSTREAM = new GoUpstream();
    }

    final class Flight {
        private final Object key;
        private final CompletableFuture<Resolution> resolution = new CompletableFuture<>();
        private int followers;

        private Flight(Object key) {
            this.key = key;
        }

        /** Ends the flight (first call wins); later requests start a new one. */
        void resolve(Resolution how) {
            flights.remove(key, this);
            resolution.complete(how);
        }

        CompletableFuture<Resolution> resolution() {
            return resolution;
        }

        synchronized void follow() {
            followers++;
        }

        synchronized int followers() {
            return followers;
        }
    }
}
