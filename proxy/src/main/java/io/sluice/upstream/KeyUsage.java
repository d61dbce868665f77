package io.sluice.upstream;

import java.time.Duration;
import java.util.List;
import java.util.OptionalLong;

/**
 * An upstream's {@code per: key} budgets as the admin API shows them: how many keys hold buckets,
 * and the busiest keys by label (never by value).
 *
 * @param live keys holding buckets of their own now (at most {@code maxKeys})
 * @param maxKeys the policy's {@code max_keys}
 * @param coolingDown keys paused on their own now ({@code cooldown: key})
 * @param busiest the keys with the most requests since their bucket was made, most first; the
 *     shared {@code none} and {@code overflow} budgets appear under those labels once used
 * @param totalRequests requests charged to every live bucket (the shared ones too)
 * @param totalRefusals of those, the refused
 */
public record KeyUsage(
        int live, int maxKeys, int coolingDown, List<Key> busiest, long totalRequests, long totalRefusals) {
    /** How many of the busiest keys the admin API lists. */
    public static final int LISTED = 10;

    public KeyUsage {
        busiest = List.copyOf(busiest);
    }

    /**
     * One key's budget.
     *
     * @param label the key's HMAC label ({@code none}, {@code overflow} for the shared budgets)
     * @param requests requests charged to its bucket since the bucket was made
     * @param refusals of those, requests refused as {@code rate_limited} at admission
     * @param tokensLeft tokens in its bucket now (negative: owed to waiting requests); empty when
     *     held in Redis
     * @param cooldownRemaining how long the key stays paused ({@code cooldown: key}); zero if not
     */
    public record Key(
            String label, long requests, long refusals, OptionalLong tokensLeft, Duration cooldownRemaining) {}
}
