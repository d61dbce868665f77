package io.sluice.send;

import io.sluice.fetch.FetchException;
import java.util.logging.Logger;
import org.xnio.XnioIoThread;

/**
 * Undertow's HTTP client logs every unparseable upstream response as an ERROR with its stack trace
 * ({@code UT005001} on {@code io.undertow.client}: a broken status line or header field, an
 * unparseable {@code Content-Length}), then reports the failure to the exchange only
 * as a closed channel. This filter takes those records out of the log and keeps the parse error
 * for the exchange on the same IO thread, which hears of the failure within the same read event:
 * {@link Http1Exchange} turns it into a named, typed failure and {@link ProtocolErrorLog} logs one
 * line per upstream instead.
 */
final class UndertowClientLog {
    /** Held strongly: java.util.logging keeps loggers only weakly, and with them their filter. */
    private static final Logger CLIENT = Logger.getLogger("io.undertow.client");

    private static final ThreadLocal<Throwable> LAST = new ThreadLocal<>();

    static {
        CLIENT.setFilter(record -> {
            // UT005001, from the client's read listener: everything it could not make a response of.
            Throwable thrown = record.getThrown();
            if (thrown == null
                    || record.getMessage() == null
                    || !record.getMessage().contains("UT005001")) {
                return true;
            }
            LAST.set(thrown);
            // Forgotten once this read event is over, so it can never be pinned on a later exchange.
            if (Thread.currentThread() instanceof XnioIoThread io) io.execute(LAST::remove);
            return false;
        });
    }

    private UndertowClientLog() {}

    static void install() {
        // the static initializer did it
    }

    /** The parse error Undertow just logged on this thread, once; null if none. */
    static Throwable take() {
        Throwable last = LAST.get();
        LAST.remove();
        return last;
    }

    /** What was wrong, in an operator's words. */
    static FetchException describe(Throwable e) {
        String detail = e.getMessage() == null ? e.getClass().getSimpleName() : e.getMessage();
        if (e instanceof NumberFormatException) {
            return ProtocolError.INVALID_HEADER.failure("upstream sent an invalid Content-Length (" + detail + ")");
        }
        if (!e.getClass().getSimpleName().equals("HttpResponseParseException")) {
            return ProtocolError.INVALID_HEADER.failure(
                    "upstream sent a response that cannot be parsed (" + detail + ")");
        }
        if (detail.contains("header")) {
            return ProtocolError.INVALID_HEADER.failure("upstream sent an invalid header field (" + detail + ")");
        }
        return ProtocolError.INVALID_STATUS_LINE.failure("upstream sent an invalid status line (" + detail + ")");
    }
}
