package io.sluice.fetch;

import io.sluice.guard.BlockedAddressException;
import java.io.IOException;
import java.net.ConnectException;
import java.net.UnknownHostException;
import java.net.http.HttpConnectTimeoutException;
import java.net.http.HttpTimeoutException;
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
            if (c instanceof SSLException) return new FetchException(ErrorType.TLS, "TLS failed: " + describe(c));
        }
        if (t instanceof CancellationException) return new FetchException(ErrorType.CANCELLED, "call cancelled");
        if (t instanceof IOException) {
            return new FetchException(ErrorType.UPSTREAM_RESET, "upstream connection failed: " + describe(t));
        }
        return new FetchException(ErrorType.INTERNAL, "internal error: " + describe(t));
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
