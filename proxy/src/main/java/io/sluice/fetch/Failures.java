package io.sluice.fetch;

import io.sluice.guard.BlockedAddressException;
import java.io.IOException;
import java.net.ConnectException;
import java.net.UnknownHostException;
import java.net.http.HttpConnectTimeoutException;
import java.net.http.HttpTimeoutException;
import java.security.cert.CertificateExpiredException;
import java.security.cert.CertificateNotYetValidException;
import java.util.Optional;
import java.util.concurrent.CancellationException;
import java.util.concurrent.CompletionException;
import java.util.concurrent.ExecutionException;
import javax.net.ssl.SSLException;

/** The one place where a throwable becomes a typed {@link FetchFailure}. */
public final class Failures {
    private Failures() {}

    public static FetchFailure toFailure(Throwable error, Trace trace) {
        FetchException typed = classify(error);
        return new FetchFailure(typed.type(), typed.getMessage(), typed.retryAfter(), trace);
    }

    /** Maps any throwable from a stage, the JDK client or the guard to a {@link FetchException}. */
    public static FetchException classify(Throwable error) {
        Throwable t = unwrap(error);
        if (t instanceof FetchException fe) return fe;
        for (Throwable c = t; c != null; c = c.getCause()) {
            if (c instanceof FetchException fe) return fe;
            if (c instanceof BlockedAddressException) return new FetchException(ErrorType.BLOCKED, c.getMessage());
            if (c instanceof UnknownHostException) {
                return new FetchException(ErrorType.DNS, "cannot resolve host " + quoted(c.getMessage()));
            }
            if (c instanceof HttpConnectTimeoutException) {
                // The cause stays: unlike other timeouts, nothing was sent, so a retry is safe.
                return new FetchException(ErrorType.TIMEOUT, "connect timed out (timeouts.connect)", null, c);
            }
            if (c instanceof HttpTimeoutException) {
                return new FetchException(ErrorType.TIMEOUT, "no response headers in time (timeouts.response)");
            }
            if (c instanceof ConnectException) {
                return new FetchException(ErrorType.CONNECT, "connection failed: " + describe(c));
            }
            if (c instanceof SSLException) return new FetchException(ErrorType.TLS, "TLS failed: " + tlsReason(c));
        }
        if (t instanceof CancellationException) return new FetchException(ErrorType.CANCELLED, "call cancelled");
        if (t instanceof IOException) {
            return new FetchException(ErrorType.UPSTREAM_RESET, "upstream connection failed: " + describe(t));
        }
        return new FetchException(ErrorType.INTERNAL, "internal error: " + describe(t));
    }

    /**
     * Why a handshake failed, in the words an operator looks for: {@code unknown issuer},
     * {@code hostname mismatch}, {@code certificate expired}, {@code certificate not yet valid}, or
     * {@code handshake refused by upstream} with the alert it sent. The JDK's own message follows.
     */
    private static final java.util.regex.Pattern BORINGSSL_ALERT =
            java.util.regex.Pattern.compile(":(?:SSLV3|TLSV1)_ALERT_([A-Z_]+)");

    static String tlsReason(Throwable ssl) {
        for (Throwable c = ssl; c != null; c = c.getCause()) {
            if (c instanceof CertificateExpiredException) {
                return "certificate expired (" + describe(c) + ")";
            }
            if (c instanceof CertificateNotYetValidException) {
                return "certificate not yet valid (" + describe(c) + ")";
            }
        }
        String message = describe(ssl);
        if (message.contains("PKIX path building failed")) {
            return "unknown issuer (no chain to a trusted root; trust the upstream's CA with tls.ca_file)";
        }
        if (message.contains("PKIX path validation failed") && message.contains("signature check failed")) {
            // The chain names a trusted CA as its issuer, but that CA did not sign it: another CA of the
            // same name, or a forgery. Either way no trusted root vouches for it.
            return "unknown issuer (certificate not signed by the trusted CA it names: " + message + ")";
        }
        if (message.contains("No subject alternative") || message.contains("No name matching")) {
            return "hostname mismatch (" + message + ")";
        }
        if (message.contains("validity check failed")) return "certificate expired or not yet valid (" + message + ")";
        // "Received fatal alert: x", which newer JDKs prefix with "(x) ".
        // Conscrypt (BoringSSL) names a received alert "error:...:TLSV1_ALERT_PROTOCOL_VERSION (...)".
        java.util.regex.Matcher boring = BORINGSSL_ALERT.matcher(message);
        int received = message.indexOf("Received fatal alert: ");
        if (received >= 0 || boring.find()) {
            String alert = received >= 0
                    ? message.substring(received + "Received fatal alert: ".length())
                            .trim()
                    : boring.group(1).toLowerCase(java.util.Locale.ROOT);
            String hint = switch (alert) {
                case "protocol_version" -> "; no TLS version both sides accept (tls.min_version)";
                case "certificate_required", "bad_certificate", "unknown_ca" ->
                    "; it wants a client certificate it trusts (tls.client_cert, tls.client_key)";
                case "handshake_failure" -> "; no cipher suite or protocol in common";
                default -> "";
            };
            return "handshake refused by upstream (" + alert + ")" + hint;
        }
        if (message.contains("No appropriate protocol") || message.contains("protocol_version")) {
            return "protocol version refused (" + message + "; tls.min_version)";
        }
        return message;
    }

    private static Throwable unwrap(Throwable t) {
        while ((t instanceof CompletionException || t instanceof ExecutionException) && t.getCause() != null) {
            t = t.getCause();
        }
        return t;
    }

    private static String describe(Throwable t) {
        String message = Optional.ofNullable(t.getMessage()).orElse("");
        return message.isEmpty() ? t.getClass().getSimpleName() : message;
    }

    private static String quoted(String host) {
        return host == null ? "" : host;
    }
}
