package io.sluice.send;

import io.sluice.config.Policy;
import io.sluice.fetch.Call;
import io.sluice.fetch.FetchException;
import io.sluice.fetch.FetchRequest;
import io.sluice.fetch.FetchResponse;
import io.sluice.fetch.Fields;
import io.sluice.fetch.HopByHop;
import io.sluice.fetch.ResponseBody;
import io.undertow.client.ClientCallback;
import io.undertow.client.ClientExchange;
import io.undertow.client.ClientResponse;
import io.undertow.protocols.http2.Http2StreamSinkChannel;
import io.undertow.protocols.http2.Http2StreamSourceChannel;
import io.undertow.util.HeaderValues;
import io.undertow.util.Headers;
import io.undertow.util.Protocols;
import java.io.IOException;
import java.net.InetAddress;
import java.util.List;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.function.Consumer;
import org.xnio.IoUtils;
import org.xnio.XnioIoThread;

/**
 * One request and its response as one stream of an {@link Http2Transport} connection: waits in its
 * destination's line for a stream, writes the head and streams the body with backpressure, then
 * completes when the response headers arrive. Every step after {@link #start} runs on the exchange's
 * IO thread, so its state needs no locks; timers and cancellation hop onto that thread first.
 *
 * <p>A request whose stream was lost with its connection (closed, or gone away) before the response
 * head arrived is sent once more on a new connection if it may be repeated, as over HTTP/1.1 a request
 * on a stale pooled connection is; one the origin says it did not process ({@link Http2FrameTap}) is
 * sent once more whatever its method; one that never got a stream just waits on in line.
 */
final class Http2Exchange {
    private final Http2Transport transport;
    private final FetchRequest request;
    private final Policy policy;
    private final Call call;
    private final XnioIoThread thread;
    private final InetAddress address;
    private final Http1Transport.PoolKey poolKey;
    private final ResponseHeaderLimits headerLimits;
    private final Consumer<FetchException> bodyProtocolError;
    private final CompletableFuture<FetchResponse> result = new CompletableFuture<>();

    private final ExchangeTimer timer;
    /** The connection whose stream this exchange holds, or null. */
    private Http2Transport.Connection connection;
    /** The stream's exchange once Undertow opened it. */
    private ClientExchange stream;
    /** Its request body's channel, kept past {@link #stream}: whether Undertow still holds a frame of it. */
    private Http2StreamSinkChannel requestSink;
    /** The stream's id once Undertow opened it, kept past {@link #stream}; 0 before. */
    private int streamId;
    /** The response body's reader once the head is in, for the bytes it took out of the stream. */
    private ChannelBody body;
    /** The response body's channel, until the stream is let go of ({@link #closeResponse}). */
    private Http2StreamSourceChannel responseChannel;

    private boolean requestWritten;
    private boolean sentAgain;

    Http2Exchange(
            Http2Transport transport,
            FetchRequest request,
            Policy policy,
            InetAddress address,
            Call call,
            XnioIoThread thread,
            ResponseHeaderLimits headerLimits,
            Consumer<FetchException> bodyProtocolError) {
        this.transport = transport;
        this.request = request;
        this.policy = policy;
        this.call = call;
        this.thread = thread;
        this.address = address;
        this.headerLimits = headerLimits;
        this.bodyProtocolError = bodyProtocolError;
        this.timer = new ExchangeTimer(transport.time(), thread);
        int port = request.uri().getPort() != -1 ? request.uri().getPort() : 443;
        // Bound to the name its certificate was checked for and to its TLS profile, as HTTP/1.1's are,
        // so that a connection ALPN made HTTP/1.1 goes to that pool under the same key.
        this.poolKey = new Http1Transport.PoolKey(
                address, port, request.uri().getHost(), policy.tls().withoutHttp2());
    }

    CompletableFuture<FetchResponse> result() {
        return result;
    }

    Http1Transport.PoolKey poolKey() {
        return poolKey;
    }

    /** The receive window each stream of its connection gets ({@code tls.http2_window}). */
    int streamWindow() {
        return policy.tls().http2WindowBytes();
    }

    XnioIoThread ioThread() {
        return thread;
    }

    Policy policy() {
        return policy;
    }

    boolean isOver() {
        return result.isDone();
    }

    void start() {
        call.onCancel(reason -> IoThreads.run(thread, () -> {
            if (!result.isDone()) fail(reason);
        }));
        if (result.isDone()) return;
        waitForStream();
        transport.enqueue(this, false);
    }

    /** In line for a stream: the wait, and the opening of a connection, count as connecting. */
    private void waitForStream() {
        arm(
                policy.timeouts().connect(),
                () -> ExchangeTimer.noConnection(policy.timeouts().connect()));
    }

    /** ALPN chose HTTP/1.1 for this destination: the request goes over {@link Http1Transport}. */
    void viaHttp1() {
        timer.disarm();
        call.events().transportFallback(call, "alpn_http1");
        transport
                .http1()
                .send(request, policy, address, call, headerLimits, bodyProtocolError)
                .whenComplete((response, error) -> {
                    if (error != null) {
                        result.completeExceptionally(error);
                    } else if (!result.complete(response)) {
                        // Cancelled meanwhile: the response is nobody's.
                        response.body().discard();
                    }
                });
    }

    /** A stream of {@code on} is this exchange's: the request is sent on it. */
    void sendOn(Http2Transport.Connection on) {
        connection = on;
        stream = null;
        streamId = 0;
        body = null;
        responseChannel = null;
        armResponseTimer();
        on.client.sendRequest(Http1Exchange.head(request, policy, call), new ClientCallback<>() {
            @Override
            public void completed(ClientExchange exchange) {
                if (connection != on) return;
                stream = exchange;
                requestSink = (Http2StreamSinkChannel) exchange.getRequestChannel();
                streamId = requestSink.getStreamId();
                on.frames.track(streamId);
                exchange.setResponseListener(new ClientCallback<>() {
                    @Override
                    public void completed(ClientExchange answered) {
                        if (connection == on) onResponse(answered);
                    }

                    @Override
                    public void failed(IOException e) {
                        onStreamFailed(on, e);
                    }
                });
                if (request.body().length() != 0 && !sendHeadersAhead(on, exchange)) return;
                RequestBodyWriter.write(
                        request, call, exchange.getRequestChannel(), thread, new RequestBodyWriter.Outcome() {
                            @Override
                            public void written() {
                                requestWritten = true;
                            }

                            @Override
                            public void failed(Throwable error) {
                                // A write the lost connection failed is the stream's loss, whichever
                                // callback hears of it first; the body's own failure ends the exchange.
                                if (error instanceof IOException lost) onStreamFailed(on, lost);
                                else if (connection == on) fail(error);
                            }
                        });
            }

            @Override
            public void failed(IOException e) {
                if (connection != on) return;
                if (stream == null) {
                    // No stream was opened (the connection closed, or Undertow counted its streams full):
                    // nothing was sent, so it waits in line again whatever its method.
                    connection = null;
                    waitForStream();
                    transport.refused(Http2Exchange.this, on);
                } else {
                    onStreamFailed(on, e);
                }
            }
        });
    }

    /**
     * Sends the request's HEADERS frame on its own, ahead of the body. Undertow's client otherwise
     * holds a stream's HEADERS back with its first body bytes while the connection's flow-control
     * window is used up (RFC 9113 §6.9.1; HEADERS are not flow-controlled), and, to keep stream ids
     * in order (§5.1.1), every stream opened after it. Such a stream is idle to the origin: reset at
     * its timeout, it would be a connection error (§5.1, §6.4) that takes every other stream down,
     * and the requests behind it wait on a window that may never come. A flush with nothing written
     * yet makes Undertow write the head alone; the body follows as the window allows.
     */
    private boolean sendHeadersAhead(Http2Transport.Connection on, ClientExchange exchange) {
        try {
            exchange.getRequestChannel().flush();
            return true;
        } catch (IOException e) {
            onStreamFailed(on, e);
            return false;
        }
    }

    private void onResponse(ClientExchange answered) {
        if (result.isDone()) return;
        timer.disarm();
        Http2Transport.Connection on = connection;
        transport.settled(this, on);
        ClientResponse response = answered.getResponse();
        int status = response.getResponseCode();
        var in = response.getResponseHeaders();
        FetchException refused = Http1Exchange.framingError(status, Protocols.HTTP_2_0, in);
        if (refused == null) refused = headerLimits.check(in);
        if (refused == null && Http2Transport.headerBlockContinues(on.channel)) {
            // Undertow's client hands over a response head at the end of a read even when its header
            // block goes on in CONTINUATION frames, which it then cannot join (it answers them with a
            // GOAWAY): what arrived is not the whole head, so it is not relayed.
            refused = ProtocolError.HEADERS_TOO_LARGE.failure("upstream response headers over HTTP/2 continue past one"
                    + " read (" + ResponseHeaderLimits.size(transport.readBufferSize()) + "), which Undertow's HTTP/2"
                    + " client cannot join (server.max_response_header_size is "
                    + ResponseHeaderLimits.size(headerLimits.maxBytes())
                    + "; HTTP/1.1 reads up to it)");
        }
        if (refused != null) {
            fail(refused);
            return;
        }
        // HTTP/2 has no connection-specific fields (RFC 9113 §8.2.2); any the origin sent anyway are dropped.
        Fields.Builder headers = Fields.builder(in.size());
        Set<String> named =
                HopByHop.connectionNamed(in.get(Headers.CONNECTION) == null ? List.of() : in.get(Headers.CONNECTION));
        for (HeaderValues values : in) {
            String name = values.getHeaderName().toString();
            if (HopByHop.isEndToEnd(name, named)) headers.add(name, values);
        }
        boolean bodiless = request.method().equals("HEAD") || status == 204 || status == 304;
        long length = bodiless ? 0 : Http1Exchange.contentLength(in.getFirst(Headers.CONTENT_LENGTH));
        if (answered.getResponseChannel() instanceof Http2StreamSourceChannel channel) responseChannel = channel;
        body = new ChannelBody(answered.getResponseChannel(), thread, length, this::bodyEnded);
        result.complete(new FetchResponse(
                status, headers.build(), ResponseBody.streaming(body, length), call.trace(), List.of()));
    }

    /** The response body was read to its end, or given up: either way the stream is done with. */
    private void bodyEnded(boolean complete) {
        endStream(complete && requestWritten);
    }

    /**
     * The stream was lost before its response head: with its connection (closed, gone away), or reset
     * by the origin. It goes once more, first in line for a new stream, if the origin said it did not
     * process it (RFC 9113 §8.7: reset with {@code REFUSED_STREAM}, or above a GOAWAY's last stream id),
     * whatever its method; otherwise only if it may be repeated.
     */
    private void onStreamFailed(Http2Transport.Connection on, IOException e) {
        if (result.isDone() || connection != on) return;
        // Lost with its connection: Undertow may report the stream's loss before it marks the connection
        // closed, so a closed channel counts as the connection's loss too (a reset stream is neither).
        // Such a connection takes no new streams, this one's second try included.
        boolean connectionLost = !on.client.isOpen() || closedChannel(e);
        if (connectionLost) on.retired = true;
        int sent = stream == null ? -1 : streamId;
        int resetCode = sent < 0 ? -1 : on.frames.resetBy(sent);
        boolean beyondGoAway = sent > 0 && on.frames.beyondGoAway(sent);
        boolean unprocessed = resetCode == Http2FrameTap.REFUSED_STREAM || beyondGoAway;
        // Not reset back: a stream the origin reset (RFC 9113 §5.4.2: that could loop), nor one it will
        // not read at all; a frame an origin leaves unread when it closes makes its close a TCP reset,
        // which can lose answers to the streams it did process.
        if (resetCode >= 0 || beyondGoAway) stream = null;
        endStream(false);
        if (on.witness.failure() != null) {
            // Undertow reports a failed TLS handshake as a closed channel; the reason is the witness's.
            fail(on.witness.failure());
            return;
        }
        FetchException tooLarge = headerBlockTooLarge(e);
        if (tooLarge != null) {
            fail(tooLarge);
            return;
        }
        boolean again = unprocessed ? request.body().replayable() : connectionLost && Http1Exchange.repeatable(request);
        if (!sentAgain && again) {
            sentAgain = true;
            waitForStream();
            transport.enqueue(this, true);
            return;
        }
        fail(e);
    }

    /**
     * The origin of {@code on} went away: a stream above {@code lastStream} was not processed and is
     * sent again (whatever its method); one up to it may still be answered, so it waits on.
     */
    void goneAway(Http2Transport.Connection on, int lastStream) {
        if (result.isDone() || connection != on || stream == null) return;
        if (streamId > lastStream) {
            onStreamFailed(
                    on,
                    new IOException("upstream went away (GOAWAY, last stream " + lastStream + ") before"
                            + " processing stream " + streamId));
        }
    }

    private static boolean closedChannel(Throwable error) {
        for (Throwable c = error; c != null; c = c.getCause()) {
            if (c instanceof java.nio.channels.ClosedChannelException) return true;
        }
        return false;
    }

    /**
     * Lets go of this exchange's stream, once: reset unless it ended cleanly both ways (request written,
     * response read to its end), so that it is freed on both sides, or the origin has reset it already.
     */
    private void endStream(boolean clean) {
        Http2Transport.Connection on = connection;
        if (on == null) return;
        connection = null;
        // Not reset back (RFC 9113 §5.4.2) once the origin's reset is in: nginx answers a POST before it
        // reads the body and then resets the stream with NO_ERROR (§8.1), in the same write, so the reset
        // has been read (by the tap, which sees frames as they are unwrapped, ahead of Undertow's parser)
        // by the time the answer's end is, though the body is not written whole. A reset that crosses the
        // origin's on the wire cannot be helped.
        if (!clean && stream != null && on.client.isOpen() && on.frames.resetBy(streamId) < 0) {
            on.reset(streamId);
        }
        creditUnread(on);
        closeResponse();
        // A reset closes a stream's request channel unless a frame of its body is queued to be written:
        // one waiting for flow-control window the origin will not grant a stream it reset stays in
        // Undertow's queue, its buffer with it, for as long as the connection lives.
        if (!requestWritten && requestSink != null && requestSink.isOpen()) transport.stranded(this, on);
        stream = null;
        requestSink = null;
        transport.streamEnded(this, on);
    }

    /**
     * Frees what Undertow keeps of the response, read or not. Undertow frees a stream's unread frames
     * when it is reset before its end has arrived, but once the end is in they wait to be read, in read
     * buffers, and its connection keeps the exchange, for as long as the connection lives: with 8 MB
     * windows, three rounds of 4 clients leaving 10 MiB downloads from nginx early left 2,898 buffers (45
     * MB) held a minute later; with 1 MiB windows a 5 MB download left ~0.9 MB each. Closing the channel
     * frees the frames, and Undertow's close task takes the exchange out of the connection's map. No
     * reset comes of it: that is {@link #endStream}'s.
     */
    private void closeResponse() {
        Http2StreamSourceChannel channel = responseChannel;
        if (channel == null) return;
        responseChannel = null;
        channel.setIgnoreForceClose(true);
        IoUtils.safeClose(channel);
    }

    /**
     * The origin reset this exchange's stream mid-body ({@link Http2FrameTap#onOpenStreamReset}), which a
     * body whose client stopped reading may not learn until it reads again: the body fails now, which
     * ends the stream and credits what it was sent and did not read. Nothing more is read of it, so
     * nothing is credited twice, whether Undertow has parsed the reset yet or not.
     */
    void resetByOrigin(Http2Transport.Connection on, int id) {
        if (connection != on || streamId != id) return;
        if (body != null) {
            body.abort(new IOException("upstream reset stream " + id + " (RST_STREAM) before the body's end"));
        } else {
            creditUnread(on);
        }
    }

    /**
     * Credits the connection with what the origin sent the stream and no one read out, which Undertow
     * drops uncredited, whichever side reset the stream ({@link Http2FrameTap}); once a stream.
     */
    private void creditUnread(Http2Transport.Connection on) {
        if (streamId == 0) return;
        long unread = on.frames.release(streamId) - (body == null ? 0 : body.received());
        if (unread > 0 && on.client.isOpen()) transport.credit(on, unread);
    }

    /**
     * Undertow's HTTP/2 refuses a header block past its own bound (far above Sluice's, see
     * {@link Http2Transport#http2HeaderListSize}) as an error of the whole connection; on the request
     * whose response it was, that is the same refusal as {@link ResponseHeaderLimits}'.
     */
    private FetchException headerBlockTooLarge(Throwable error) {
        for (Throwable c = error; c != null; c = c.getCause()) {
            if (c.getClass().getSimpleName().equals("HpackException")
                    && c.getMessage() != null
                    && c.getMessage().toLowerCase(java.util.Locale.ROOT).contains("too large")) {
                return headerLimits.hitBeforeCounted();
            }
        }
        return null;
    }

    /**
     * The connection this exchange waited for was not made. One that was closed after it connected,
     * with nothing sent on it yet, is waited for once more (whether or not the request may be repeated:
     * nothing of it was sent); whether this one does is returned.
     */
    boolean openingFailed(Throwable error, boolean nothingSent) {
        if (nothingSent && !sentAgain) {
            sentAgain = true;
            return true;
        }
        fail(error);
        return false;
    }

    /** Ends the exchange with {@code error}; a stream it holds is reset. */
    void fail(Throwable error) {
        timer.disarm();
        result.completeExceptionally(error);
        endStream(false);
    }

    private void armResponseTimer() {
        arm(
                policy.timeouts().response(),
                () -> ExchangeTimer.noResponse(policy.timeouts().response()));
    }

    private void arm(java.time.Duration after, java.util.function.Supplier<IOException> timeout) {
        timer.arm(after, () -> {
            if (!result.isDone()) fail(timeout.get());
        });
    }
}
