package io.sluice.fetch;

/**
 * An interim response (RFC 9110 §15.2: a 1xx before the final one), such as {@code 103 Early Hints}
 * (RFC 8297): its status and its end-to-end fields, values as the origin sent them. Carried on the
 * {@link FetchResponse} that followed it, for the front doors to forward or report.
 */
public record Interim(int status, Fields headers) {}
