package io.sluice.send;

import io.sluice.time.TimeSource;
import java.io.IOException;
import java.net.http.HttpConnectTimeoutException;
import java.net.http.HttpTimeoutException;
import java.time.Duration;
import org.xnio.XnioIoThread;

/**
 * The one timer an upstream exchange over Undertow's clients has running at a time: for its
 * connection ({@code timeouts.connect}), then for the response head ({@code timeouts.response}). It
 * fires on the exchange's IO thread. The failures are the {@code java.net.http} types, so that a
 * timeout is typed the same whichever transport carried the request.
 */
final class ExchangeTimer {
    private final TimeSource time;
    private final XnioIoThread thread;
    private TimeSource.Timer timer;

    ExchangeTimer(TimeSource time, XnioIoThread thread) {
        this.time = time;
        this.thread = thread;
    }

    /** Runs {@code expired} on the IO thread after {@code after}, unless disarmed or armed again first. */
    void arm(Duration after, Runnable expired) {
        disarm();
        timer = time.schedule(after, () -> IoThreads.run(thread, expired));
    }

    void disarm() {
        if (timer != null) {
            timer.cancel();
            timer = null;
        }
    }

    /** Waited in line for a connection (or a stream) for all of {@code connect}. */
    static IOException noConnection(Duration connect) {
        return new HttpConnectTimeoutException("no connection to the upstream within " + connect.toMillis() + " ms");
    }

    /** Opening a connection took all of {@code connect}. */
    static IOException connectTimedOut(Duration connect) {
        return new HttpConnectTimeoutException("connect timed out after " + connect.toMillis() + " ms");
    }

    /** No response head within {@code response} of the request being sent. */
    static IOException noResponse(Duration response) {
        return new HttpTimeoutException("no response headers within " + response.toMillis() + " ms");
    }
}
