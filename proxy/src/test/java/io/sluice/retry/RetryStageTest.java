package io.sluice.retry;

import static org.assertj.core.api.Assertions.assertThat;

import io.sluice.fetch.ErrorType;
import io.sluice.fetch.FetchException;
import io.sluice.fetch.FetchFailure;
import io.sluice.fetch.FetchOutcome;
import io.sluice.fetch.FetchResponse;
import io.sluice.fetch.RequestBody;
import io.sluice.limit.AdmissionStage;
import io.sluice.limit.Harness;
import io.sluice.time.FakeTimeSource;
import java.nio.ByteBuffer;
import java.time.Duration;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.SubmissionPublisher;
import org.junit.jupiter.api.Test;

class RetryStageTest {
    private static final long MS = 1_000_000L;
    private static final long S = 1_000_000_000L;

    private final FakeTimeSource time = new FakeTimeSource();

    /** Retry, then admission, as the pipeline orders them; jitter fixed at half the ceiling. */
    private Harness harness(String policy) {
        return Harness.of(
                time,
                policy,
                new RetryStage(time, Runnable::run, () -> 0.5),
                AdmissionStage.local(time, Runnable::run));
    }

    private static FetchResponse response(CompletableFuture<FetchOutcome> outcome) {
        assertThat(outcome).isDone();
        assertThat(outcome.join()).isInstanceOf(FetchResponse.class);
        return (FetchResponse) outcome.join();
    }

    @Test
    void retriesServerErrorsWithExponentialFullJitterBackoff() {
        Harness h = harness("retry: {max_attempts: 4, base_delay: 100ms, max_delay: 10s}");
        h.upstream.enqueue(503).enqueue(502).enqueue(504).enqueue(200);
        CompletableFuture<FetchOutcome> outcome = h.execute(Harness.get("/x"));
        h.advance(Duration.ofSeconds(1));
        FetchResponse ok = response(outcome);
        assertThat(ok.status()).isEqualTo(200);
        assertThat(ok.trace().attempts()).isEqualTo(4);
        // Ceilings 100, 200, 400 ms; the fixed jitter takes half of each.
        assertThat(h.upstream.sentAt()).containsExactly(0L, 50 * MS, 150 * MS, 350 * MS);
    }

    @Test
    void jitterIsDrawnFromTheWholeRangeUpToMaxDelay() {
        var policy = new io.sluice.config.RetryPolicy(10, Duration.ofMillis(100), Duration.ofMillis(1000), 0.2, 10);
        assertThat(Backoff.ceiling(policy, 1)).isEqualTo(100 * MS);
        assertThat(Backoff.ceiling(policy, 4)).isEqualTo(800 * MS);
        assertThat(Backoff.ceiling(policy, 5)).isEqualTo(1000 * MS);
        assertThat(Backoff.ceiling(policy, 60)).isEqualTo(1000 * MS);
        assertThat(new Backoff(() -> 0.0).delay(policy, 3)).isZero();
        assertThat(new Backoff(() -> 0.999).delay(policy, 3)).isEqualTo(Duration.ofNanos(399_600_000L));
    }

    @Test
    void retriesConnectErrorsConnectTimeoutsAndResets() {
        Harness h = harness("retry: {max_attempts: 4, base_delay: 100ms, max_delay: 1s}");
        h.upstream.fail(new FetchException(ErrorType.CONNECT, "connection refused"));
        h.upstream.fail(new java.io.IOException("connection reset"));
        // What SendStage fails with when the JDK client's connect times out.
        h.upstream.fail(io.sluice.fetch.Failures.classify(
                new java.net.http.HttpConnectTimeoutException("HTTP connect timed out")));
        CompletableFuture<FetchOutcome> outcome = h.execute(Harness.get("/x"));
        h.advance(Duration.ofSeconds(1));
        assertThat(response(outcome).status()).isEqualTo(200);
        assertThat(h.upstream.count()).isEqualTo(4);
    }

    @Test
    void doesNotRetryOtherStatusesOrErrors() {
        Harness h = harness("retry: {max_attempts: 3}");
        h.upstream.enqueue(500).enqueue(404).fail(new FetchException(ErrorType.TLS, "bad certificate"));
        assertThat(response(h.execute(Harness.get("/a"))).status()).isEqualTo(500);
        assertThat(response(h.execute(Harness.get("/b"))).status()).isEqualTo(404);
        assertThat(((FetchFailure) h.execute(Harness.get("/c")).join()).type()).isEqualTo(ErrorType.TLS);
        assertThat(h.upstream.count()).isEqualTo(3);
    }

    @Test
    void doesNotRetryNonIdempotentMethods() {
        Harness h = harness("retry: {max_attempts: 3}");
        h.upstream.enqueue(503);
        var post = Harness.request("POST", "/orders", RequestBody.of("{}".getBytes()));
        CompletableFuture<FetchOutcome> outcome = h.execute(post);
        h.advance(Duration.ofSeconds(5));
        assertThat(response(outcome).status()).isEqualTo(503);
        assertThat(h.upstream.count()).isEqualTo(1);
    }

    @Test
    void retriesPostCarryingIdempotencyKey() {
        Harness h = harness("retry: {max_attempts: 3, base_delay: 100ms}");
        h.upstream.enqueue(503);
        var post = Harness.request("POST", "/orders", RequestBody.of("{}".getBytes()), "Idempotency-Key", "k-1");
        CompletableFuture<FetchOutcome> outcome = h.execute(post);
        h.advance(Duration.ofSeconds(5));
        assertThat(response(outcome).status()).isEqualTo(200);
        assertThat(h.upstream.count()).isEqualTo(2);
    }

    @Test
    void doesNotRetryABodyThatCannotBeReplayed() {
        Harness h = harness("retry: {max_attempts: 3}");
        h.upstream.enqueue(503);
        var put = Harness.request("PUT", "/file", RequestBody.streaming(new SubmissionPublisher<ByteBuffer>(), -1));
        CompletableFuture<FetchOutcome> outcome = h.execute(put);
        h.advance(Duration.ofSeconds(5));
        assertThat(response(outcome).status()).isEqualTo(503);
        assertThat(h.upstream.count()).isEqualTo(1);
    }

    @Test
    void neverRetriesPastTheDeadline() {
        Harness h = harness("retry: {max_attempts: 5, base_delay: 4s, max_delay: 10s}\ntimeouts: {total: 3s}");
        h.upstream.enqueue(503).enqueue(503);
        CompletableFuture<FetchOutcome> outcome = h.execute(Harness.get("/x"));
        // First retry waits 2 s (inside the deadline); the second would wait 4 s: past it.
        h.advance(Duration.ofSeconds(2));
        assertThat(response(outcome).status()).isEqualTo(503);
        assertThat(h.upstream.sentAt()).containsExactly(0L, 2 * S);
    }

    @Test
    void discardsTheFailedResponseBodyBeforeRetrying() {
        Harness h = harness("retry: {max_attempts: 2}");
        h.upstream.enqueue(502);
        h.execute(Harness.get("/x"));
        assertThat(h.upstream.bodyFinished(0)).isTrue();
        h.advance(Duration.ofSeconds(1));
        assertThat(h.upstream.count()).isEqualTo(2);
        assertThat(h.upstream.bodyFinished(1)).isFalse();
    }

    @Test
    void retryBudgetBoundsRetriesToAShareOfRequests() {
        Harness h = harness("retry: {max_attempts: 3, base_delay: 1ms, budget: 20%, budget_reserve: 2}");
        for (int i = 0; i < 100; i++) h.upstream.enqueue(503);
        int requests = 20;
        for (int i = 0; i < requests; i++) {
            h.execute(Harness.get("/" + i));
            h.advance(Duration.ofSeconds(1));
        }
        int retries = h.upstream.count() - requests;
        // At most budget_reserve + 20% of the requests: 2 + 4.
        assertThat(retries).isBetween(5, 6);
    }

    @Test
    void waitsOutRetryAfterThroughAdmission() {
        Harness h = harness("retry: {max_attempts: 2, base_delay: 100ms}\nmax_wait: 30s");
        h.upstream.enqueue(429, "Retry-After", "3");
        CompletableFuture<FetchOutcome> outcome = h.execute(Harness.get("/x"));
        h.advance(Duration.ofSeconds(5));
        FetchResponse ok = response(outcome);
        assertThat(ok.status()).isEqualTo(200);
        assertThat(h.upstream.sentAt()).containsExactly(0L, 3 * S);
        assertThat(ok.trace().cooldownNanos()).isEqualTo(3 * S - 50 * MS);
    }

    @Test
    void returnsTheUpstreamsAnswerWhenItsRetryAfterExceedsTheWaitBudget() {
        Harness h = harness("retry: {max_attempts: 3}\nmax_wait: 10s");
        h.upstream.enqueue(503, "Retry-After", "60");
        CompletableFuture<FetchOutcome> outcome = h.execute(Harness.get("/x"));
        assertThat(response(outcome).status()).isEqualTo(503);
        assertThat(h.upstream.count()).isEqualTo(1);
    }

    @Test
    void cancellingDuringBackoffEndsTheCall() {
        Harness h = harness("retry: {max_attempts: 3, base_delay: 1s}");
        h.upstream.enqueue(503);
        var call = h.pipeline.newCall(Harness.get("/x"));
        CompletableFuture<FetchOutcome> outcome = call.execute();
        call.cancel(new FetchException(ErrorType.CANCELLED, "client went away"));
        assertThat(((FetchFailure) outcome.join()).type()).isEqualTo(ErrorType.CANCELLED);
        h.advance(Duration.ofSeconds(5));
        assertThat(h.upstream.count()).isEqualTo(1);
    }
}
