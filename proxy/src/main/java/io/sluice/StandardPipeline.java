package io.sluice;

import io.sluice.cache.CacheStage;
import io.sluice.connect.OpenTunnelStage;
import io.sluice.fetch.DeadlineStage;
import io.sluice.fetch.ResolveUpstreamStage;
import io.sluice.fetch.Stage;
import io.sluice.limit.AdmissionStage;
import io.sluice.limit.ConcurrencyStage;
import io.sluice.redirect.RedirectStage;
import io.sluice.retry.RetryStage;
import io.sluice.send.RefuseEarlyStage;
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;

/**
 * The order of the pipeline's stages, written once. Callers hand over the stage instances (each
 * made with its own dependencies) and get the list a {@link io.sluice.fetch.Pipeline} walks, in the
 * order a request meets it: {@link SluiceBuilder} gives every stage, and a test that needs a part
 * of the standard order gives only the stages it exercises (and a fake in place of {@link #send}),
 * so it cannot put them in another order than Sluice does. Each stage has one job; a later capability is
 * one more line here, never a branch inside a front door.
 */
public final class StandardPipeline {
    private RedirectStage redirect;
    private ResolveUpstreamStage resolve;
    private RefuseEarlyStage refuseEarly;
    private DeadlineStage deadline;
    private CacheStage cache;
    private RetryStage retry;
    private AdmissionStage admission;
    private ConcurrencyStage concurrency;
    private Stage send;

    /** No stages given yet; {@link #resolve} and {@link #send} are needed before {@link #stages}. */
    public StandardPipeline() {}

    public StandardPipeline redirect(RedirectStage redirect) {
        this.redirect = Objects.requireNonNull(redirect, "redirect");
        return this;
    }

    public StandardPipeline resolve(ResolveUpstreamStage resolve) {
        this.resolve = Objects.requireNonNull(resolve, "resolve");
        return this;
    }

    public StandardPipeline refuseEarly(RefuseEarlyStage refuseEarly) {
        this.refuseEarly = Objects.requireNonNull(refuseEarly, "refuseEarly");
        return this;
    }

    public StandardPipeline deadline(DeadlineStage deadline) {
        this.deadline = Objects.requireNonNull(deadline, "deadline");
        return this;
    }

    public StandardPipeline cache(CacheStage cache) {
        this.cache = Objects.requireNonNull(cache, "cache");
        return this;
    }

    public StandardPipeline retry(RetryStage retry) {
        this.retry = Objects.requireNonNull(retry, "retry");
        return this;
    }

    public StandardPipeline admission(AdmissionStage admission) {
        this.admission = Objects.requireNonNull(admission, "admission");
        return this;
    }

    public StandardPipeline concurrency(ConcurrencyStage concurrency) {
        this.concurrency = Objects.requireNonNull(concurrency, "concurrency");
        return this;
    }

    /** The last stage, which answers: {@code send.SendStage} in Sluice, a fake upstream in a test. */
    public StandardPipeline send(Stage send) {
        this.send = Objects.requireNonNull(send, "send");
        return this;
    }

    /** The stages given, in the order a request meets them. */
    public List<Stage> stages() {
        List<Stage> stages = new ArrayList<>();
        add(stages, redirect); // opt-in per request; each hop re-enters everything below
        stages.add(required(resolve, "resolve")); // which policy governs this origin
        add(stages, refuseEarly); // a blocked IP literal, refused before it costs a token
        add(stages, deadline); // timeouts.total bounds all that follows, body included
        add(stages, cache); // RFC 9111: hits and coalesced misses spend no tokens below
        add(stages, retry); // backoff with full jitter, per-upstream budget; each attempt is admitted again
        add(stages, admission); // token buckets and Retry-After cooldowns, FIFO, refused at once if it cannot fit
        add(stages, concurrency); // max_concurrency, FIFO within the wait budget
        // Address guard, then http:// on the IO threads, https:// on the profile's HttpClient.
        stages.add(required(send, "send"));
        return List.copyOf(stages);
    }

    /**
     * What a {@code tunnel}-mode CONNECT runs through: the same stage instances as {@link #stages},
     * so a tunnel spends one token and holds one concurrency slot of its upstream for its whole life.
     */
    public List<Stage> tunnelStages(OpenTunnelStage openTunnel) {
        List<Stage> stages = new ArrayList<>();
        stages.add(required(resolve, "resolve")); // the upstream governing https://host:port
        add(stages, admission); // one token per tunnel, cooldowns apply
        add(stages, concurrency); // one max_concurrency slot, held until the tunnel closes
        // Address guard, then a TCP connection within timeouts.connect.
        stages.add(Objects.requireNonNull(openTunnel, "openTunnel"));
        return List.copyOf(stages);
    }

    private static void add(List<Stage> stages, Stage stage) {
        if (stage != null) stages.add(stage);
    }

    private static Stage required(Stage stage, String name) {
        if (stage == null) throw new IllegalStateException("the pipeline needs a " + name + " stage");
        return stage;
    }
}
