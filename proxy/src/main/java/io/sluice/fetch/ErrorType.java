package io.sluice.fetch;

import java.util.Locale;

/** Why Sluice could not produce an upstream response. An upstream's 4xx/5xx is a response, not one of these. */
public enum ErrorType {
    /** The request itself is unusable: bad URL, unknown upstream, unreplayable body. */
    INVALID_REQUEST(400),
    /** The address guard refused the destination (scheme, private or metadata address). */
    BLOCKED(403),
    /** No token, cooldown end or concurrency slot within the request's wait budget. */
    RATE_LIMITED(429),
    /** A connect, response or total deadline passed. */
    TIMEOUT(504),
    /** The connection was refused or could not be made. */
    CONNECT(502),
    /** The host name did not resolve. */
    DNS(502),
    /** The TLS handshake failed (certificate, protocol). */
    TLS(502),
    /** The upstream closed or reset the connection, or sent a broken response. */
    UPSTREAM_RESET(502),
    /** A body exceeded its limit. */
    TOO_LARGE(502),
    /** The client went away, or Sluice is shutting down. */
    CANCELLED(499),
    /** A bug in Sluice; the message says what. */
    INTERNAL(500);

    private final int status;

    ErrorType(int status) {
        this.status = status;
    }

    /** The HTTP status a passthrough client receives for this error. */
    public int httpStatus() {
        return status;
    }

    /** The name used in JSON ({@code rate_limited}). */
    public String wireName() {
        return name().toLowerCase(Locale.ROOT);
    }
}
