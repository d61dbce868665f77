package io.sluice.passthrough;

import io.sluice.fetch.FetchFailure;

/** The RFC 9209 {@code Proxy-Status} value for a request Sluice itself failed. */
public final class ProxyStatus {
    private ProxyStatus() {}

    private static boolean isCertificate(String message) {
        return message.contains("unknown issuer")
                || message.contains("hostname mismatch")
                || message.contains("certificate expired")
                || message.contains("not yet valid");
    }

    public static String of(FetchFailure failure) {
        String error = switch (failure.type()) {
            case TIMEOUT -> failure.message().contains("connect") ? "connection_timeout" : "http_response_timeout";
            case CONNECT -> "connection_refused";
            case DNS -> "dns_error";
            // RFC 9209 §2.3.14 for the upstream's certificate, §2.3.13 for the rest of the handshake.
            case TLS -> isCertificate(failure.message()) ? "tls_certificate_error" : "tls_protocol_error";
            // RFC 9209 §2.3.15: the upstream answered, but not in HTTP.
            case UPSTREAM_RESET ->
                failure.message().startsWith("upstream sent ") ? "http_protocol_error" : "connection_terminated";
            case BLOCKED -> "destination_ip_prohibited";
            case RATE_LIMITED -> "http_request_denied";
            // RFC 9209 §2.3.16 for a header block past server.max_response_header_size / _headers.
            case TOO_LARGE ->
                failure.message().contains("(server.max_response_header")
                        ? "http_response_header_section_size"
                        : "http_response_body_size";
            case INVALID_REQUEST -> "http_request_error";
            case CANCELLED, INTERNAL -> "proxy_internal_error";
        };
        return "sluice; error=" + error + "; details=\""
                + failure.message().replace("\\", "\\\\").replace("\"", "\\\"") + "\"";
    }
}
