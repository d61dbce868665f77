package io.sluice.retry;

import io.sluice.config.RetryPolicy;
import io.sluice.fetch.Call;
import io.sluice.fetch.ErrorType;
import io.sluice.fetch.Failures;
import io.sluice.fetch.FetchRequest;
import io.sluice.fetch.FetchResponse;
import io.sluice.fetch.Stage;
import io.sluice.http.RetryAfter;
import io.sluice.time.TimeSource;
import java.time.Duration;
import java.util.Locale;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.Executor;
import java.util.concurrent.ThreadLocalRandom;
import java.util.function.DoubleSupplier;

/**
 * Sends a call again when the failure is likely transient: a connection that could not be made or
 * was reset, or a 429, 502, 503 or 504. Each retry runs the rest of the pipeline again, so it is
 * admitted again (a token, any cooldown the failed attempt started) like any request.
 *
 * <p>A request is retried only when that is safe and useful: its method is idempotent
 * (RFC 9110 §9.2.2) or it carries an {@code Idempotency-Key}; its body can be sent again; the
 * upstream's retry budget allows it; and the retry can still finish before the deadline and within
 * the wait budget of any {@code Retry-After} the upstream sent. Otherwise the last response (the
 * upstream's answer is a result) or failure stands.
 */
public final class RetryStage implements Stage {
    /** RFC 9110 §9.2.2: methods whose repetition has the same effect as one request. */
    private static final Set<String> IDEMPOTENT = Set.of("GET", "HEAD", "OPTIONS", "TRACE", "PUT", "DELETE");

    private static final Set<Integer> RETRY_STATUSES = Set.of(429, 502, 503, 504);
    private static final Set<ErrorType> RETRY_ERRORS = Set.of(ErrorType.CONNECT, ErrorType.UPSTREAM_RESET);

    private final ConcurrentHashMap<String, RetryBudget> budgets = new ConcurrentHashMap<>();
    private final TimeSource time;
    private final Executor executor;
    private final Backoff backoff;

    public RetryStage(TimeSource time, Executor executor) {
        this(time, executor, () -> ThreadLocalRandom.current().nextDouble());
    }

    /** {@code random} yields uniform values in {@code [0, 1)}; tests pass a fixed sequence. */
    public RetryStage(TimeSource time, Executor executor, DoubleSupplier random) {
        this.time = time;
        this.executor = executor;
        this.backoff = new Backoff(random);
    }

    @Override
    public CompletableFuture<FetchResponse> apply(Chain chain) {
        FetchRequest request = chain.request();
        RetryPolicy policy = chain.upstream().policy().retry();
        RetryBudget budget = budgets.computeIfAbsent(chain.upstream().name(), name -> new RetryBudget(policy));
        budget.deposit(policy);
        if (policy.maxAttempts() < 2 || !retryable(request)) return chain.proceed(request);
        CompletableFuture<FetchResponse> result = new CompletableFuture<>();
        attempt(chain, policy, budget, 1, result);
        return result;
    }

    private static boolean retryable(FetchRequest request) {
        if (!request.body().replayable()) return false;
        return IDEMPOTENT.contains(request.method().toUpperCase(Locale.ROOT))
                || request.header("Idempotency-Key").isPresent();
    }

    private void attempt(
            Chain chain, RetryPolicy policy, RetryBudget budget, int attempt, CompletableFuture<FetchResponse> result) {
        CompletableFuture<FetchResponse> sent;
        try {
            sent = chain.proceed(chain.request());
        } catch (RuntimeException e) {
            sent = CompletableFuture.failedFuture(e);
        }
        sent.whenComplete((response, error) -> {
            Optional<Duration> delay = retryDelay(chain, policy, budget, attempt, response, error);
            if (delay.isEmpty()) {
                if (error != null) result.completeExceptionally(error);
                else result.complete(response);
                return;
            }
            // The failed answer is not going anywhere: release its connection and slot now.
            if (response != null) response.body().discard();
            Call call = chain.call();
            call.events().retry(call, attempt + 1, reason(response, error), delay.get());
            TimeSource.Timer timer = time.schedule(
                    delay.get(), () -> executor.execute(() -> attempt(chain, policy, budget, attempt + 1, result)));
            call.onCancel(reason -> {
                if (timer.cancel()) result.completeExceptionally(reason);
            });
        });
    }

    /** How long to wait before another attempt, or empty to let this outcome stand. */
    private Optional<Duration> retryDelay(
            Chain chain, RetryPolicy policy, RetryBudget budget, int attempt, FetchResponse response, Throwable error) {
        Call call = chain.call();
        if (attempt >= policy.maxAttempts() || call.isCancelled()) return Optional.empty();
        if (error != null) {
            if (!RETRY_ERRORS.contains(Failures.classify(error).type()) && !connectTimeout(error)) {
                return Optional.empty();
            }
        } else if (!RETRY_STATUSES.contains(response.status())) {
            return Optional.empty();
        }
        long now = time.nanoTime();
        Duration delay = backoff.delay(policy, attempt);
        if (delay.toNanos() >= call.remainingNanos(now)) return Optional.empty();
        if (response != null) {
            // RFC 9110 §10.2.3: the upstream said when to come back. The admission stage holds the
            // retry until then; if that is beyond what this call may wait, the answer stands.
            Optional<Duration> retryAfter = response.headers()
                    .firstValue("Retry-After")
                    .flatMap(value -> RetryAfter.parse(value, time.clock().instant()));
            if (retryAfter.isPresent()) {
                long until = retryAfter.get().toNanos();
                if (until >= call.remainingNanos(now)
                        || until > call.waitBudgetNanos(now, chain.upstream().policy())) return Optional.empty();
            }
        }
        if (!budget.tryWithdraw()) return Optional.empty();
        return Optional.of(delay);
    }

    /**
     * A connect timeout is typed {@code timeout}, but like any connect failure nothing was sent,
     * so it is as safe to retry as a refused connection.
     */
    private static boolean connectTimeout(Throwable error) {
        for (Throwable t = error; t != null; t = t.getCause()) {
            if (t instanceof java.net.http.HttpConnectTimeoutException) return true;
        }
        return false;
    }

    /** Retry tokens {@code upstream} has saved (for the admin API); empty if it has seen no request. */
    /** The metrics' {@code reason} tag: the status retried on, or the error type. */
    private static String reason(FetchResponse response, Throwable error) {
        return response != null
                ? Integer.toString(response.status())
                : Failures.classify(error).type().wireName();
    }

    public Optional<Double> budgetBalance(String upstream) {
        return Optional.ofNullable(budgets.get(upstream)).map(RetryBudget::balance);
    }

    @Override
    public String toString() {
        return "RetryStage";
    }
}
