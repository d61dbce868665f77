package io.sluice.limit;

import io.sluice.config.Policy;
import io.sluice.config.RateLimit;
import io.sluice.fetch.Fields;
import io.sluice.http.RateLimitHeaders;
import io.sluice.upstream.LearnedLimit;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.OptionalLong;
import java.util.concurrent.atomic.LongAdder;

/**
 * One upstream's learned limits: what its rate-limit headers last announced (see
 * {@link PolicyHeaders}), applied beside its configured {@code limits} when the policy says
 * {@code learn}. Every limit must admit, so a learned limit can only make admission stricter, never
 * looser than configured; and it is never slower than one request a minute. With a policy
 * {@code key:}, learned limits are {@code per: key}: the upstream is taken to count by the key
 * Sluice counts by (a token, an account).
 *
 * <p>Pinned, the learned limits stay as they are whatever the upstream says next; reset, they are
 * forgotten until the next announcement.
 */
final class LearnedLimits {
    private static final System.Logger LOG = System.getLogger(LearnedLimits.class.getName());

    private final String upstream;
    private final LongAdder rejected = new LongAdder();
    private volatile Learned current;
    private volatile boolean pinned;
    /** The last merge, so that an unchanged policy yields the same list instance (Gate compares by identity). */
    private volatile Merge merged;

    LearnedLimits(String upstream) {
        this.upstream = upstream;
    }

    /** What was learned, from which field and when. */
    record Learned(List<RateLimit> limits, String field, Instant at, boolean inferred) {}

    private record Merge(List<RateLimit> configured, Learned learned, boolean perKey, List<RateLimit> effective) {}

    /** What a response did to the learned limits. */
    enum Change {
        NONE,
        ADOPTED,
        REJECTED
    }

    /**
     * The limits a request of {@code policy} is admitted against: the configured ones, then the
     * learned ones. The same instance while neither changes.
     */
    List<RateLimit> effective(Policy policy) {
        List<RateLimit> configured = policy.limits();
        if (!policy.learn()) return configured;
        Learned learned = current;
        if (learned == null) return configured;
        boolean perKey = policy.key().isPresent();
        Merge m = merged;
        if (m != null && m.configured == configured && m.learned == learned && m.perKey == perKey) return m.effective;
        List<RateLimit> all = new ArrayList<>(configured);
        for (RateLimit limit : learned.limits()) all.add(limit.perKey(perKey));
        List<RateLimit> effective = List.copyOf(all);
        merged = new Merge(configured, learned, perKey, effective);
        return effective;
    }

    /** Reads {@code headers} for an announced policy and adopts it, unless pinned. */
    Change observe(Fields headers, Instant now, Policy policy) {
        if (!policy.learn()) return Change.NONE;
        Optional<PolicyHeaders.Reading> reading = PolicyHeaders.read(headers, now);
        if (reading.isEmpty()) return Change.NONE;
        if (reading.get() instanceof PolicyHeaders.Nonsense n) {
            rejected.increment();
            LOG.log(System.Logger.Level.DEBUG, "upstream {0}: ignored {1}: {2}", upstream, n.field(), n.why());
            return Change.REJECTED;
        }
        PolicyHeaders.Announced a = (PolicyHeaders.Announced) reading.get();
        if (a.limits().isEmpty() || pinned) return Change.NONE;
        return adopt(a, now) ? Change.ADOPTED : Change.NONE;
    }

    /**
     * What the upstream says is left of the learned limit ({@code RateLimit-Remaining},
     * {@code X-RateLimit-Remaining}, or {@code r=} of {@code RateLimit}), for the gate to tighten its
     * learned bucket to. Empty unless exactly one limit was learned and nothing is pinned: with
     * several, an unnamed remaining count could belong to any of them, and a pin ignores what the
     * upstream says.
     */
    OptionalLong remaining(Fields headers, Policy policy) {
        Learned l = current;
        if (!policy.learn() || pinned || l == null || l.limits().size() != 1) return OptionalLong.empty();
        return RateLimitHeaders.remaining(headers);
    }

    private synchronized boolean adopt(PolicyHeaders.Announced announced, Instant now) {
        if (pinned) return false;
        List<RateLimit> limits = announced.limits();
        Learned before = current;
        if (announced.inferred()
                && before != null
                && before.inferred()
                && before.field().equals(announced.field())) {
            // The window was guessed from the distance to the reset, which shrinks as the window
            // runs out: keep the longest window seen for the same quota, so the rate only ever
            // reads slower as the guess improves.
            RateLimit was = before.limits().get(0);
            RateLimit now0 = limits.get(0);
            if (was.tokens() == now0.tokens() && was.period().compareTo(now0.period()) > 0) limits = before.limits();
        }
        if (before != null && before.limits().equals(limits)) return false;
        current = new Learned(limits, announced.field(), now, announced.inferred());
        LOG.log(
                System.Logger.Level.INFO,
                "upstream {0}: learned limits {1} from {2}",
                upstream,
                describe(limits),
                announced.field());
        return true;
    }

    /** Keeps the learned limits as they are: later announcements are ignored until {@link #reset()}. */
    void pin() {
        pinned = true;
    }

    /** Lets announcements change the learned limits again. */
    void unpin() {
        pinned = false;
    }

    /** Forgets what was learned (and a pin): the configured limits alone apply until the next announcement. */
    synchronized void reset() {
        current = null;
        pinned = false;
    }

    /** What the admin API and the UI show; empty when nothing was learned and nothing pinned. */
    Optional<LearnedLimit> view() {
        Learned l = current;
        if (l == null && !pinned && rejected.sum() == 0) return Optional.empty();
        List<LearnedLimit.Limit> limits = new ArrayList<>();
        if (l != null) {
            for (RateLimit r : l.limits()) {
                limits.add(new LearnedLimit.Limit(r.tokens(), r.period(), r.burst(), r.perSecond()));
            }
        }
        return Optional.of(new LearnedLimit(
                List.copyOf(limits), l == null ? null : l.field(), l == null ? null : l.at(), pinned, rejected.sum()));
    }

    private static String describe(List<RateLimit> limits) {
        List<String> out = new ArrayList<>();
        for (RateLimit l : limits) out.add(l.rate() + " burst " + l.burst());
        return out.toString();
    }

    @Override
    public String toString() {
        return "LearnedLimits{" + upstream + ", " + current + (pinned ? ", pinned" : "") + "}";
    }
}
