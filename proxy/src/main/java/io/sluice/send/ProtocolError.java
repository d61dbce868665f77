package io.sluice.send;

import io.sluice.fetch.ErrorType;
import io.sluice.fetch.FetchException;
import java.io.IOException;
import java.util.Locale;

/**
 * The ways an upstream's response head can be broken, as the {@code type} tag of
 * {@code sluice_upstream_protocol_errors_total} and the reason in the one log line per upstream
 * ({@link ProtocolErrorLog}). Each is a typed failure a client reads in {@code error.message} and
 * {@code Proxy-Status}; the kind travels as the failure's cause, a {@link Marker}.
 */
enum ProtocolError {
    INVALID_STATUS_LINE(ErrorType.UPSTREAM_RESET),
    INVALID_HEADER(ErrorType.UPSTREAM_RESET),
    /** Conflicting or unsupported message framing, or a malformed chunked body (RFC 9112 §6, §7.1). */
    INVALID_FRAMING(ErrorType.UPSTREAM_RESET),
    HEADERS_TOO_LARGE(ErrorType.TOO_LARGE),
    TOO_MANY_HEADERS(ErrorType.TOO_LARGE);

    private final ErrorType type;

    ProtocolError(ErrorType type) {
        this.type = type;
    }

    /** The metric tag ({@code invalid_status_line}). */
    String tag() {
        return name().toLowerCase(Locale.ROOT);
    }

    FetchException failure(String message) {
        return new FetchException(type, message, null, new Marker(this));
    }

    /** The kind behind {@code failure}, or null if it is not a protocol error. */
    static ProtocolError of(FetchException failure) {
        return failure.getCause() instanceof Marker m ? m.kind : null;
    }

    /** Carries the kind; no stack trace, no message of its own. */
    static final class Marker extends IOException {
        private final transient ProtocolError kind;

        Marker(ProtocolError kind) {
            super(kind.tag(), null);
            this.kind = kind;
        }

        @Override
        public synchronized Throwable fillInStackTrace() {
            return this;
        }
    }
}
