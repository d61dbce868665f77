package io.sluice.fetch;

import java.time.Duration;
import java.util.Optional;

/**
 * A typed failure travelling through the pipeline's futures. Stages throw it; {@link Failures}
 * turns it (and any other throwable) into a {@link FetchFailure} in exactly one place. No stack
 * trace: these are expected outcomes, and under load they are common.
 */
public sealed class FetchException extends RuntimeException permits UnknownUpstreamException {
    private final ErrorType type;
    private final transient Optional<Duration> retryAfter;

    public FetchException(ErrorType type, String message) {
        this(type, message, null, null);
    }

    public FetchException(ErrorType type, String message, Duration retryAfter, Throwable cause) {
        super(message, cause, false, false);
        this.type = type;
        this.retryAfter = Optional.ofNullable(retryAfter);
    }

    public ErrorType type() {
        return type;
    }

    /** For {@link ErrorType#RATE_LIMITED}: when trying again may succeed. */
    public Optional<Duration> retryAfter() {
        return retryAfter;
    }
}
