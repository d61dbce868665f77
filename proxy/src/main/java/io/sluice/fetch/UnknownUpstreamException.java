package io.sluice.fetch;

/**
 * A request names an upstream that is not configured (the route form's first segment, looked up once,
 * by the front door that needs its {@code base_url}): an {@link ErrorType#INVALID_REQUEST} that the
 * front door tells apart by its type, not by its message (a passthrough answers it {@code 404}).
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
