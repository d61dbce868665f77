package io.sluice.fetch;

/** How a call ended: an upstream response (any status) or a typed failure. Never an exception. */
public sealed interface FetchOutcome permits FetchResponse, FetchFailure {
    Trace trace();
}
