package io.sluice.fetch;

/**
 * A request names an upstream that is not configured (the route form's first segment, a batch
 * item's {@code upstream}): an {@link ErrorType#INVALID_REQUEST} that a front door can tell apart by
 * its type, not by its message (a passthrough answers it {@code 404}).
 */
public final class UnknownUpstreamException extends FetchException {
    private final String name;

    /** {@code unknown upstream "name"}, then {@code hint} (may be empty). */
    public UnknownUpstreamException(String name, String hint) {
        super(ErrorType.INVALID_REQUEST, "unknown upstream \"" + name + "\"" + hint);
        this.name = name;
    }

    /** The upstream name the request gave. */
    public String name() {
        return name;
    }
}
