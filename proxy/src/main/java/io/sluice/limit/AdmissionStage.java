package io.sluice.limit;

import io.sluice.config.Policy;
import io.sluice.config.Priority;
import io.sluice.config.RateLimit;
import io.sluice.fetch.Call;
import io.sluice.fetch.FetchListener;
import io.sluice.fetch.FetchResponse;
import io.sluice.fetch.Stage;
import io.sluice.time.TimeSource;
import io.sluice.upstream.LearnedLimitsControl;
import io.sluice.upstream.LiveState;
import io.sluice.upstream.Upstream;
import io.sluice.upstream.UpstreamStateSource;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.Executor;
import java.util.concurrent.atomic.LongAdder;

/**
 * Admits each attempt to its upstream: not while the upstream is cooling down, and only with a
 * token from each of its {@code limits}. Waiting is FIFO and bounded by the call's wait budget;
 * a request that the state already shows cannot make it is refused at once with the exact wait as
 * its retry-after. On the way back, the response's {@code Retry-After} and rate-limit headers start
 * cooldowns for the whole upstream.
 *
 * <p>Per-upstream state lives here, keyed by upstream name, and follows the upstream's current
 * policy on every call, so a live change of {@code limits} applies at once (Bucket4j
 * {@code replaceConfiguration}).
 */
public final class AdmissionStage implements Stage, UpstreamStateSource, LearnedLimitsControl {
    private final ConcurrentHashMap<String, Gate> gates = new ConcurrentHashMap<>();
    private final ConcurrentHashMap<String, LearnedLimits> learned = new ConcurrentHashMap<>();
    private final ConcurrentHashMap<String, RevalidationAllowance> revalidations = new ConcurrentHashMap<>();
    private final LimitStore store;
    /**
     * Where {@code per: key} buckets live: in Redis with the other buckets when every replica labels
     * keys alike ({@code redis.key_secret}), else in this process.
     */
    private final LimitStore keyStore;

    private final TimeSource time;
    private final Executor executor;
    private final LongAdder cappedCooldowns = new LongAdder();
    /** Key labels: under {@code redis.key_secret}, or a per-process secret (stable while it runs, meaningless outside). */
    private final KeyLabels labels;

    private AdmissionStage(
            LimitStore store, LimitStore keyStore, KeyLabels labels, TimeSource time, Executor executor) {
        this.store = store;
        this.keyStore = keyStore;
        this.labels = labels;
        this.time = time;
        this.executor = executor;
    }

    /** Admission over the given stores, with labels under a per-process secret (for tests of a store's behaviour). */
    static AdmissionStage over(LimitStore store, LimitStore keyStore, TimeSource time, Executor executor) {
        return new AdmissionStage(store, keyStore, KeyLabels.random(), time, executor);
    }

    /** Buckets and cooldowns in this process: the embedded default. */
    public static AdmissionStage local(TimeSource time, Executor executor) {
        LimitStore local = LimitStore.local(time);
        return new AdmissionStage(local, local, KeyLabels.random(), time, executor);
    }

    /**
     * Buckets and cooldowns in Redis, shared by every sidecar connected to it; {@code per: key}
     * buckets too when {@code redis.key_secret} is set.
     */
    public static AdmissionStage shared(SharedLimits shared, TimeSource time, Executor executor) {
        return shared.sharedLabels()
                .map(labels -> new AdmissionStage(shared.store(), shared.store(), labels, time, executor))
                .orElseGet(() ->
                        new AdmissionStage(shared.store(), LimitStore.local(time), KeyLabels.random(), time, executor));
    }

    @Override
    public CompletableFuture<FetchResponse> apply(Chain chain) {
        Call call = chain.call();
        Gate gate = gate(chain.upstream().name());
        CompletableFuture<Boolean> free = chain.upstream().policy().free304() ? freeRevalidation(gate, chain) : null;
        if (free != null) {
            if (!free.isDone()) {
                // Asked of Redis: carry on on the pipeline's executor, as after a token wait.
                return free.thenComposeAsync(ok -> ok ? sendFree(gate, chain) : admitAndSend(gate, chain), executor);
            }
            if (free.getNow(false)) return sendFree(gate, chain);
        }
        return admitAndSend(gate, chain);
    }

    /** A revalidation sent without a token: charged after the fact unless answered {@code 304}. */
    private CompletableFuture<FetchResponse> sendFree(Gate gate, Chain chain) {
        Call call = chain.call();
        return chain.proceed(chain.request()).thenApply(response -> {
            if (response.status() == 304) call.events().tokenSaved(call);
            else gate.charge(call, chain.upstream().policy());
            observe(gate, chain, response);
            return response;
        });
    }

    private CompletableFuture<FetchResponse> admitAndSend(Gate gate, Chain chain) {
        Call call = chain.call();
        FetchListener.Admission cause = gate.cooldownRemaining().isPositive()
                ? FetchListener.Admission.COOLDOWN
                : FetchListener.Admission.BUCKET;
        Policy policy = chain.upstream().policy();
        long start = time.nanoTime();
        CompletableFuture<Void> admitted = gate.admit(call, policy);
        if (admitted.isDone() && !admitted.isCompletedExceptionally()) return send(gate, chain);
        if (!admitted.isDone()) call.events().admissionStart(call, cause);
        admitted.whenComplete((ok, refused) -> {
            call.events().admissionEnd(call, cause, call.priority(policy), time.nanoTime() - start, refused == null);
            if (refused != null && isRateLimited(refused)) gate.refused(call);
        });
        // Admission completed on a timer or a Redis thread: carry on on the pipeline's executor.
        return admitted.thenComposeAsync(ignored -> send(gate, chain), executor);
    }

    private static boolean isRateLimited(Throwable error) {
        Throwable t = error instanceof java.util.concurrent.CompletionException && error.getCause() != null
                ? error.getCause()
                : error;
        return t instanceof io.sluice.fetch.FetchException f && f.type() == io.sluice.fetch.ErrorType.RATE_LIMITED;
    }

    private CompletableFuture<FetchResponse> send(Gate gate, Chain chain) {
        return chain.proceed(chain.request()).thenApply(response -> {
            observe(gate, chain, response);
            return response;
        });
    }

    private void observe(Gate gate, Chain chain, FetchResponse response) {
        Call call = chain.call();
        Upstream upstream = chain.upstream();
        Policy policy = upstream.policy();
        gate.observe(response, call, policy);
        if (!policy.learn()) return;
        LearnedLimits announced = learned(upstream.name());
        switch (announced.observe(response.headers(), time.clock().instant(), policy)) {
            case ADOPTED -> call.events().learnedLimits(upstream.name(), "adopted");
            case REJECTED -> call.events().learnedLimits(upstream.name(), "rejected");
            case NONE -> {}
        }
        announced.remaining(response.headers(), policy).ifPresent(left -> gate.tightenLearned(call, policy, left));
    }

    /**
     * {@code free_304}: a conditional GET (the cache's revalidation of a stored response, or a
     * client's own {@code If-None-Match} / {@code If-Modified-Since} passed on) goes out without a
     * token while the revalidation allowance has one and the upstream is not cooling down; its
     * token is charged after the fact unless the answer is {@code 304}. Without an allowance left it
     * is admitted like any other request. Null when the request is not such a revalidation; else
     * whether the allowance had a token (asked of Redis in shared mode).
     */
    private CompletableFuture<Boolean> freeRevalidation(Gate gate, Chain chain) {
        var request = chain.request();
        if (!request.method().equals("GET")) return null;
        if (!request.headers().contains("if-none-match") && !request.headers().contains("if-modified-since")) {
            return null;
        }
        Upstream upstream = chain.upstream();
        List<RateLimit> limits = learned(upstream.name()).effective(upstream.policy());
        if (limits.isEmpty()
                || gate.cooldownRemaining().isPositive()
                || gate.queued() > 0
                || gate.keyCoolingDown(chain.call(), upstream.policy())) {
            return null;
        }
        return revalidations
                .computeIfAbsent(upstream.name(), name -> new RevalidationAllowance(name, store))
                .tryTake(limits);
    }

    private LearnedLimits learned(String upstream) {
        LearnedLimits l = learned.get(upstream);
        return l != null ? l : learned.computeIfAbsent(upstream, LearnedLimits::new);
    }

    /** The state of {@code upstream}, created on first use. */
    Gate gateFor(String upstream) {
        return gate(upstream);
    }

    private Gate gate(String upstream) {
        Gate gate = gates.get(upstream);
        return gate != null
                ? gate
                : gates.computeIfAbsent(
                        upstream,
                        name -> new Gate(name, store, keyStore, time, cappedCooldowns, labels, learned(name)));
    }

    @Override
    public void describe(String upstream, LiveState into) {
        into.cooldownRemaining(cooldownRemaining(upstream)).queued(queued(upstream));
        Gate g = gates.get(upstream);
        if (g != null && g.prioritised()) {
            for (Priority p : Priority.values()) into.queued(p, g.queued(p));
        }
        availableTokens(upstream).ifPresent(into::tokensAvailable);
        LearnedLimits l = learned.get(upstream);
        if (l != null) l.view().ifPresent(into::learned);
        if (g != null) g.keyUsage(io.sluice.upstream.KeyUsage.LISTED).ifPresent(into::keys);
    }

    /** What {@code upstream} learned from its headers, as the admin API shows it. */
    java.util.Optional<io.sluice.upstream.LearnedLimit> learnedView(String upstream) {
        LearnedLimits l = learned.get(upstream);
        return l == null ? java.util.Optional.empty() : l.view();
    }

    @Override
    public void pin(String upstream) {
        learned(upstream).pin();
    }

    @Override
    public void unpin(String upstream) {
        learned(upstream).unpin();
    }

    @Override
    public void reset(String upstream) {
        learned(upstream).reset();
    }

    /** How long {@code upstream} stays paused (zero when it is not). */
    public Duration cooldownRemaining(String upstream) {
        Gate gate = gates.get(upstream);
        return gate == null ? Duration.ZERO : gate.cooldownRemaining();
    }

    /** Requests of class {@code priority} waiting for {@code upstream}'s cooldown to end or for a token. */
    public int queued(String upstream, Priority priority) {
        Gate gate = gates.get(upstream);
        return gate == null ? 0 : gate.queued(priority);
    }

    /** Requests waiting for {@code upstream}'s cooldown to end (with {@code priority}, or for a token). */
    public int queued(String upstream) {
        Gate gate = gates.get(upstream);
        return gate == null ? 0 : gate.queued();
    }

    /**
     * Tokens available to {@code upstream} now (the fewest over its limits; negative when owed to
     * waiting requests). Empty when unknown: no request yet, no limits, or held in Redis.
     */
    public java.util.OptionalLong availableTokens(String upstream) {
        Gate gate = gates.get(upstream);
        return gate == null ? java.util.OptionalLong.empty() : gate.availableTokens();
    }

    /**
     * Keys of {@code upstream} holding {@code per: key} buckets of their own now, at most its
     * {@code max_keys} (the shared {@code none} and {@code overflow} buckets are not counted).
     */
    public int liveKeys(String upstream) {
        Gate gate = gates.get(upstream);
        return gate == null ? 0 : gate.liveKeys();
    }

    /** Keys of {@code upstream} paused on their own now ({@code cooldown: key}). */
    public int keysCoolingDown(String upstream) {
        Gate gate = gates.get(upstream);
        return gate == null ? 0 : gate.keysCoolingDown();
    }

    /** Cooldowns an upstream asked for that exceeded {@code max_cooldown} and were capped. */
    public long cappedCooldowns() {
        return cappedCooldowns.sum();
    }

    @Override
    public String toString() {
        return "AdmissionStage(" + store + ")";
    }
}
