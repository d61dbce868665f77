package io.sluice.fetch;

import io.sluice.config.Priority;
import java.time.Duration;
import java.util.List;

/**
 * What happens to calls, as paired events (OkHttp's {@code EventListener} shape): metrics, the
 * recent-requests log and the admin's live statistics all listen here, so no stage knows about any
 * of them. Every method has an empty default; a listener implements what it needs.
 *
 * <p>Listeners are called on whichever thread the event happens on, must be quick, and must not
 * throw: the pipeline wraps them with {@link #safe} so a broken listener can never fail a call.
 *
 * <p>Who calls what: the {@link Pipeline} emits {@link #callStart}/{@link #callEnd} for every call;
 * admission stages emit {@link #admissionStart}/{@link #admissionEnd} (the concurrency cap with
 * {@link Admission#CONCURRENCY}, token buckets with {@link Admission#BUCKET}, cooldowns with
 * {@link Admission#COOLDOWN}); the retry stage emits {@link #retry}; whatever starts a cooldown
 * emits {@link #cooldownStart}; the cache emits {@link #cacheCoalesced} and {@link #cacheStored}.
 */
public interface FetchListener {
    /** Listens to nothing. */
    FetchListener NONE = new FetchListener() {};

    /** Why a call waited before being sent. */
    enum Admission {
        /** A token bucket ({@code limits}) had no token. */
        BUCKET,
        /** The upstream was cooling down after {@code Retry-After} or an exhausted quota. */
        COOLDOWN,
        /** All of the upstream's {@code max_concurrency} slots were taken. */
        CONCURRENCY;

        /** The tag value used in metrics ({@code bucket}). */
        public String tag() {
            return name().toLowerCase(java.util.Locale.ROOT);
        }
    }

    /** A call entered the pipeline (before its upstream is known). */
    default void callStart(Call call) {}

    /**
     * A call ended: a response's headers arrived (its body may still be streaming) or it failed.
     * {@code outcome.trace()} holds the upstream, attempts, cache verdict and the waits.
     */
    default void callEnd(Call call, FetchOutcome outcome, long elapsedNanos) {}

    /**
     * A {@code tunnel}-mode CONNECT admitted by {@code call} closed after carrying {@code bytesUp} from
     * the client and {@code bytesDown} back (its {@link #callEnd} came when it opened).
     */
    default void tunnelEnd(Call call, long bytesUp, long bytesDown) {}

    /**
     * Attempt {@code attempt} (1 for the first) of {@code call} is about to be sent: its headers are
     * not built yet, so a tracer may still set {@link Call#traceHeaders} for it.
     */
    default void attemptStart(Call call, int attempt) {}

    /**
     * Attempt {@code attempt} of {@code call} ended: the upstream's {@code status} arrived, or it
     * failed with {@code error} ({@code status} 0). Comes once for every {@link #attemptStart}.
     */
    default void attemptEnd(Call call, int attempt, int status, Throwable error) {}

    /** A call started waiting for admission of kind {@code cause}. */
    default void admissionStart(Call call, Admission cause) {}

    /**
     * A call's admission wait of kind {@code cause} ended, {@code admitted} or refused; {@code
     * priority}: the class it waited in, under its upstream's policy for the hop.
     */
    default void admissionEnd(Call call, Admission cause, Priority priority, long waitedNanos, boolean admitted) {}

    /** Attempt {@code nextAttempt} will be sent after {@code delay} because of {@code reason} ({@code 503}, {@code connect}). */
    default void retry(Call call, int nextAttempt, String reason, Duration delay) {}

    /** {@code upstream} entered a cooldown of {@code length} because of {@code reason} ({@code retry_after}, {@code ratelimit_headers}). */
    default void cooldownStart(String upstream, Duration length, String reason) {}

    /**
     * {@code call}'s key found the {@code max_keys} of {@code upstream} (the one governing its hop)
     * taken and shares the overflow bucket. Carries no key value or label.
     */
    default void keyOverflow(Call call, String upstream) {}

    /** A call was answered by another call's in-flight fetch of the same cache key. */
    default void cacheCoalesced(Call call) {}

    /** A response of {@code bytes} was stored in the cache. */
    default void cacheStored(Call call, long bytes) {}

    /**
     * The upstream of {@code call} sent a response Sluice could not accept: {@code type} is
     * {@code invalid_status_line}, {@code invalid_header}, {@code headers_too_large} or
     * {@code too_many_headers}.
     */
    default void upstreamProtocolError(Call call, String type) {}

    /**
     * The upstream of {@code call} sent an interim response ({@code 102}, {@code 103}, …) before its
     * final one; Sluice took it out and went on reading (RFC 9110 §15.2).
     */
    default void upstreamInterim(Call call, int status) {}

    /**
     * {@code call}'s request went over another transport than its policy names: again, because the
     * first could not read the response ({@code reason}: {@code close_delimited}; for this request
     * only), or over HTTP/1.1 because a {@code tls.http2} origin answered ALPN so ({@code alpn_http1}).
     */
    default void transportFallback(Call call, String reason) {}

    /**
     * A conditional request of {@code call} went out under {@code free_304} without a token and was
     * answered {@code 304}: one token the upstream's budget did not spend.
     */
    default void tokenSaved(Call call) {}

    /**
     * {@code upstream}'s announced limits were {@code adopted} ({@code learn}), or {@code rejected}
     * as nonsense and ignored.
     */
    default void learnedLimits(String upstream, String change) {}

    /** All of {@code listeners}, in order; one that throws does not keep the others from hearing. */
    static FetchListener of(List<FetchListener> listeners) {
        List<FetchListener> all = listeners.stream().map(FetchListener::safe).toList();
        if (all.size() == 1) return all.get(0);
        return new Composite(all);
    }

    /** {@code listener}, with every exception it throws logged and dropped. */
    static FetchListener safe(FetchListener listener) {
        return listener instanceof SafeListener ? listener : new SafeListener(listener);
    }
}
