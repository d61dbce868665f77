package io.sluice.fetch;

import java.time.Duration;
import java.util.Optional;

/** A call that produced no upstream response, with the reason as data. */
public record FetchFailure(ErrorType type, String message, Optional<Duration> retryAfter, Trace trace)
        implements FetchOutcome {}
