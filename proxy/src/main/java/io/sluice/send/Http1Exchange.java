package io.sluice.send;

import io.sluice.config.Interpolated;
import io.sluice.config.Policy;
import io.sluice.fetch.Call;
import io.sluice.fetch.FetchException;
import io.sluice.fetch.FetchRequest;
import io.sluice.fetch.FetchResponse;
import io.sluice.fetch.Fields;
import io.sluice.fetch.HopByHop;
import io.sluice.fetch.Interim;
import io.sluice.fetch.ResponseBody;
import io.sluice.server.RawHead;
import io.sluice.time.TimeSource;
import io.undertow.client.ClientCallback;
import io.undertow.client.ClientConnection;
import io.undertow.client.ClientExchange;
import io.undertow.client.ClientRequest;
import io.undertow.client.ClientResponse;
import io.undertow.util.HeaderValues;
import io.undertow.util.Headers;
import io.undertow.util.HttpString;
import io.undertow.util.Protocols;
import java.io.IOException;
import java.net.InetAddress;
import java.net.URI;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import org.xnio.IoUtils;
import org.xnio.OptionMap;
import org.xnio.XnioIoThread;
import org.xnio.channels.StreamSinkChannel;

/**
 * One request and its response over {@link Http1Transport}: takes a pooled connection or opens
 * one, writes the head and streams the body with backpressure, then completes when the response
 * headers arrive. Every step after {@link #start} runs on the exchange's IO thread, so its state
 * needs no locks; timers and cancellation hop onto that thread first.
 */
final class Http1Exchange {
    /** RFC 9110 §9.2.2: methods a client may repeat, so a dead pooled connection can be retried. */
    private static final Set<String> IDEMPOTENT = Set.of("GET", "HEAD", "OPTIONS", "TRACE", "PUT", "DELETE");

    private static final Set<String> BODY_EXPECTED = Set.of("POST", "PUT", "PATCH");

    /** Past this a response head is passed to Undertow unkept, and its values are Undertow's. */
    private static final long RAW_HEAD_LIMIT = 1024 * 1024;

    /**
     * The response's body runs to the connection's close (RFC 9112 §6.3), which Undertow's client
     * cannot read; {@link SendStage} may send the request again over {@code java.net.http}.
     */
    static final class CloseDelimited extends IOException {
        CloseDelimited() {
            super("upstream answered HTTP/1.1 without Content-Length or chunked framing");
        }
    }

    private final Http1Transport transport;
    private final FetchRequest request;
    private final Policy policy;
    private final Call call;
    private final XnioIoThread thread;
    private final InetAddress address;
    private final int port;
    private final Http1Transport.PoolKey poolKey;
    private final boolean tls;
    /** Watches the TLS handshake of the connection this exchange opened; null when it reused one. */
    private HandshakeWitness witness;

    private final ResponseHeaderLimits headerLimits;
    private final java.util.function.Consumer<FetchException> bodyProtocolError;
    private final CompletableFuture<FetchResponse> result = new CompletableFuture<>();
    private ClientConnection connection;
    /** The bytes under {@link #connection}: its response heads as they arrived. */
    private HeadCapture capture;

    private final ExchangeTimer timer;
    private boolean reused;
    /**
     * A new TLS connection whose handshake has not finished: {@code timeouts.connect} covers TCP and
     * TLS set-up, so its timer runs until then, and {@code timeouts.response} only after.
     */
    private boolean handshaking;

    private boolean retriedStale;
    private boolean requestWritten;
    /** This exchange is opening a connection and counts against {@link Http1Transport#MAX_OPENING_PER_DESTINATION}. */
    private boolean holdsOpening;

    private long queuedAt;

    Http1Exchange(
            Http1Transport transport,
            FetchRequest request,
            Policy policy,
            InetAddress address,
            Call call,
            XnioIoThread thread,
            ResponseHeaderLimits headerLimits,
            java.util.function.Consumer<FetchException> bodyProtocolError) {
        this.transport = transport;
        this.bodyProtocolError = bodyProtocolError;
        this.headerLimits = headerLimits;
        this.request = request;
        this.policy = policy;
        this.call = call;
        this.thread = thread;
        this.address = address;
        this.timer = new ExchangeTimer(transport.time(), thread);
        this.tls = "https".equalsIgnoreCase(request.uri().getScheme());
        this.port = request.uri().getPort() != -1 ? request.uri().getPort() : tls ? 443 : 80;
        // A TLS connection is bound to the name its certificate was checked for and to its TLS profile.
        this.poolKey = tls
                ? new Http1Transport.PoolKey(
                        address, port, request.uri().getHost(), policy.tls().withoutHttp2())
                : new Http1Transport.PoolKey(address, port, null, null);
    }

    CompletableFuture<FetchResponse> result() {
        return result;
    }

    void start() {
        call.onCancel(reason -> onThread(() -> abandon(reason)));
        if (result.isDone()) return;
        acquire();
    }

    /** Sends on an idle connection, else opens one, else waits in line for either. */
    private void acquire() {
        Http1Transport.Idle pooled = transport.checkout(poolKey);
        if (pooled != null) {
            reused = true;
            sendOn(pooled.connection(), pooled.capture());
        } else if (transport.openOrWait(poolKey, this)) {
            holdsOpening = true;
            connect();
        } else {
            // In line for a connection: the wait for one counts as connecting.
            arm(
                    policy.timeouts().connect(),
                    () -> ExchangeTimer.noConnection(policy.timeouts().connect()));
        }
    }

    /** When this exchange started waiting for a connection ({@link TimeSource#nanoTime}). */
    long queuedAt() {
        return queuedAt;
    }

    /** It waits in line from now on. */
    void queued(long now) {
        queuedAt = now;
    }

    /** The IO thread this exchange runs on, and its pool with it. */
    java.util.concurrent.Executor thread() {
        return thread;
    }

    /** Whether this exchange has ended (answered, failed or cancelled). */
    boolean isOver() {
        return result.isDone();
    }

    /**
     * A queued exchange's turn to open a connection of its own; it counts as opening from now (if it
     * ends first, its failure gives the place back). The connection is opened in a task of its own,
     * so a connect that fails at once cannot recurse through every exchange in line.
     */
    void openOwn() {
        holdsOpening = true;
        thread.execute(() -> {
            if (!holdsOpening) return;
            if (result.isDone()) {
                endOpening();
                return;
            }
            connect();
        });
    }

    /**
     * A queued exchange is handed a connection another exchange has just released. It is used once
     * that exchange has unwound (a task on this thread); if this one is over by then, the connection
     * goes back to the pool.
     */
    void takeOver(ClientConnection pooled, HeadCapture captured) {
        thread.execute(() -> {
            if (result.isDone()) {
                transport.release(poolKey, pooled, captured);
            } else if (!pooled.isOpen()) {
                acquire();
            } else {
                reused = true;
                sendOn(pooled, captured);
            }
        });
    }

    /** This exchange's opening is over (made or failed): the next queued exchange may open one. */
    private void endOpening() {
        if (!holdsOpening) return;
        holdsOpening = false;
        transport.openingEnded(poolKey);
    }

    private void connect() {
        reused = false;
        handshaking = false;
        witness = tls ? new HandshakeWitness() : null;
        java.net.InetSocketAddress destination = new java.net.InetSocketAddress(address, port);
        arm(
                policy.timeouts().connect(),
                () -> ExchangeTimer.connectTimedOut(policy.timeouts().connect()));
        // Opened here rather than by UndertowClient so that HeadCapture sits under Undertow's parser.
        org.xnio.ChannelListener<org.xnio.StreamConnection> opened = raw -> {
            if (result.isDone()) {
                IoUtils.safeClose(raw);
                endOpening();
                return;
            }
            // A cleartext connection is made once connected; a TLS one once its handshake is done.
            if (!handshaking) {
                disarm();
                endOpening();
            }
            HeadCapture captured = new HeadCapture(raw.getSourceChannel().getConduit());
            raw.getSourceChannel().setConduit(captured);
            sendOn(
                    transport.opened(io.undertow.client.http.SluiceHttp1Connections.over(
                            raw, tls ? tlsOptions() : transport.options(), transport.buffers())),
                    captured);
        };
        org.xnio.IoFuture<? extends org.xnio.StreamConnection> opening;
        if (tls) {
            opening = transport
                    .ssl(policy.tls(), witness)
                    .openSslConnection(
                            thread,
                            destination,
                            connection -> {
                                if (result.isDone()) {
                                    IoUtils.safeClose(connection);
                                    endOpening();
                                    return;
                                }
                                // The request is written at once (its bytes wait in the TLS layer and
                                // drive the handshake); the connect timer stays until the handshake ends.
                                handshaking = true;
                                connection.getHandshakeSetter().set(done -> onThread(this::handshakeDone));
                                try {
                                    connection.startHandshake();
                                } catch (IOException e) {
                                    IoUtils.safeClose(connection);
                                    fail(e);
                                    return;
                                }
                                opened.handleEvent(connection);
                            },
                            tlsOptions());
        } else {
            opening = thread.openStreamConnection(destination, opened, transport.options());
        }
        opening.addNotifier(
                (future, ignored) -> {
                    if (future.getStatus() == org.xnio.IoFuture.Status.FAILED)
                        onThread(() -> fail(future.getException()));
                },
                null);
    }

    /** The TLS handshake of this exchange's new connection finished: the wait for the response starts. */
    private void handshakeDone() {
        endOpening();
        if (!handshaking) return;
        handshaking = false;
        if (!result.isDone()) armResponseTimer();
    }

    private OptionMap tlsOptions() {
        return transport.tlsOptions(request.uri().getHost(), policy.tls());
    }

    private void sendOn(ClientConnection conn, HeadCapture captured) {
        connection = conn;
        capture = captured;
        captured.expectResponse(
                Math.min(headerLimits.maxBytes(), RAW_HEAD_LIMIT),
                request.method().equals("HEAD"));
        if (!handshaking) armResponseTimer();
        conn.sendRequest(head(request, policy, call), new ClientCallback<>() {
            @Override
            public void completed(ClientExchange exchange) {
                exchange.setResponseListener(new ClientCallback<>() {
                    @Override
                    public void completed(ClientExchange answered) {
                        if (conn == connection) onResponse(answered);
                    }

                    @Override
                    public void failed(IOException e) {
                        onSendFailed(conn, e);
                    }
                });
                writeBody(exchange.getRequestChannel());
            }

            @Override
            public void failed(IOException e) {
                onSendFailed(conn, e);
            }
        });
    }

    private void armResponseTimer() {
        arm(
                policy.timeouts().response(),
                () -> ExchangeTimer.noResponse(policy.timeouts().response()));
    }

    /**
     * The request head as sent upstream: the client's end-to-end fields, the policy's headers, the trace
     * context, {@code Via}, and the body's framing. Undertow's HTTP/2 client makes {@code Host} the
     * {@code :authority} and drops the framing fields itself.
     */
    static ClientRequest head(FetchRequest request, Policy policy, Call call) {
        URI uri = request.uri();
        String path = uri.getRawPath() == null || uri.getRawPath().isEmpty() ? "/" : uri.getRawPath();
        if (uri.getRawQuery() != null) path = path + "?" + uri.getRawQuery();
        ClientRequest head =
                new ClientRequest().setMethod(new HttpString(request.method())).setPath(path);
        var out = head.getRequestHeaders();
        out.put(
                Headers.HOST,
                uri.getPort() == -1 || uri.getPort() == 80 ? uri.getHost() : uri.getHost() + ":" + uri.getPort());
        // Straight from the request's fields into Undertow's map, hop-by-hop ones skipped on the way:
        // well-known names map to Undertow's own constants instead of a new HttpString each.
        Set<String> named = HopByHop.connectionNamed(request.headers().allValues("connection"));
        request.headers().forEach((name, values) -> {
            if (HopByHop.isForwardable(name, named)) out.putAll(HttpString.tryFromString(name), values);
        });
        for (Map.Entry<String, Interpolated> header : policy.headers().entrySet()) {
            out.put(HttpString.tryFromString(header.getKey()), header.getValue().value());
        }
        // Sluice's own trace context replaces the client's (tracing on); null while tracing is off.
        Map<String, String> traceHeaders = call.traceHeaders();
        if (traceHeaders != null) traceHeaders.forEach((name, value) -> out.put(HttpString.tryFromString(name), value));
        out.put(Headers.VIA, HopByHop.via(request.headers()));
        long length = request.body().length();
        if (length > 0 || (length == 0 && BODY_EXPECTED.contains(request.method()))) {
            out.put(Headers.CONTENT_LENGTH, length);
        } else if (length < 0) {
            out.put(Headers.TRANSFER_ENCODING, Headers.CHUNKED.toString());
        }
        return head;
    }

    /** Streams the request body, one buffer in flight: the next is asked for once it is written. */
    private void writeBody(StreamSinkChannel channel) {
        RequestBodyWriter.write(request, call, channel, thread, new RequestBodyWriter.Outcome() {
            @Override
            public void written() {
                requestWritten = true;
            }

            @Override
            public void failed(Throwable error) {
                fail(error);
            }
        });
    }

    private void onResponse(ClientExchange exchange) {
        if (result.isDone()) return;
        disarm();
        endOpening();
        ClientResponse response = exchange.getResponse();
        int status = response.getResponseCode();
        HeadCapture captured = capture;
        FetchException badFraming = framingError(status, response.getProtocol(), response.getResponseHeaders());
        if (badFraming != null) {
            fail(badFraming);
            return;
        }
        for (int interim : captured.interims()) call.events().upstreamInterim(call, interim);
        var in = response.getResponseHeaders();
        FetchException tooLarge = headerLimits.check(in);
        if (tooLarge != null) {
            fail(tooLarge);
            return;
        }
        boolean bodiless = request.method().equals("HEAD") || status == 204 || status == 304;
        long length = bodiless ? 0 : contentLength(in.getFirst(Headers.CONTENT_LENGTH));
        if (!bodiless
                && length < 0
                && !in.contains(Headers.TRANSFER_ENCODING)
                && response.getProtocol().equals(Protocols.HTTP_1_1)) {
            // RFC 9112 §6.3: such a body runs until the connection closes. Undertow's client reads it as
            // empty, which would silently lose it, so refuse it; SendStage sends this one request again over
            // java.net.http if it may be repeated. Later requests to the origin still come here.
            fail(new CloseDelimited());
            return;
        }
        // Hop-by-hop fields are dropped here, in the one copy out of the response head. Values and
        // names come from the bytes as they arrived (RawHead) where Undertow's reading agrees with
        // them, since Undertow's own values have each run of whitespace collapsed.
        Set<String> named =
                HopByHop.connectionNamed(in.get(Headers.CONNECTION) == null ? List.of() : in.get(Headers.CONNECTION));
        byte[] raw = captured.finalHead();
        Fields headers = raw == null ? null : RawHead.fields(raw, in, name -> HopByHop.isEndToEnd(name, named));
        if (headers == null) {
            Fields.Builder parsed = Fields.builder(in.size());
            for (HeaderValues values : in) {
                String name = values.getHeaderName().toString();
                if (HopByHop.isEndToEnd(name, named)) parsed.add(name, values);
            }
            headers = parsed.build();
        }
        ClientConnection answeredOn = connection;
        ChannelBody body = new ChannelBody(
                exchange.getResponseChannel(), thread, length, complete -> bodyEnded(answeredOn, captured, complete));
        result.complete(new FetchResponse(
                status, headers, ResponseBody.streaming(body, length), call.trace(), interims(captured)));
    }

    /** The interim responses taken out before this one that can be forwarded (RFC 9110 §15.2). */
    private static List<Interim> interims(HeadCapture captured) {
        List<byte[]> heads = captured.interimHeads();
        if (heads.isEmpty()) return List.of();
        List<Interim> interims = new java.util.ArrayList<>(heads.size());
        for (byte[] head : heads) {
            int status = 100 + (head[10] - '0') * 10 + (head[11] - '0');
            Interim interim = RawHead.interim(status, head);
            if (interim != null) interims.add(interim);
        }
        return interims;
    }

    private void bodyEnded(ClientConnection answeredOn, HeadCapture captured, boolean complete) {
        if (complete && requestWritten && answeredOn.isOpen()) {
            // Let go of it before it is shared: nothing late from this exchange may close it.
            if (connection == answeredOn) connection = null;
            transport.release(poolKey, answeredOn, captured);
        } else {
            abort(answeredOn);
            FetchException malformed = captured.malformedBody();
            if (malformed != null) bodyProtocolError.accept(malformed);
        }
    }

    /**
     * A pooled connection the upstream had already closed fails before any answer; nothing was
     * processed, so a repeatable request is sent once more on a fresh connection.
     */
    private void onSendFailed(ClientConnection failed, IOException e) {
        // Undertow may report one failure through more than one callback; only the first, for the
        // connection still in use, counts. Closing it can report the failure again, re-entrantly, so
        // the connection is let go first.
        if (result.isDone() || failed != connection) return;
        connection = null;
        abort(failed);
        // Undertow reports a response it could not parse as a closed channel; what was wrong was taken
        // out of its log (UndertowClientLog) a moment ago, on this thread. Not a stale connection: the
        // upstream answered, badly, so nothing is sent again.
        var parse = UndertowClientLog.take();
        // An unparseable Content-Length ("2, 5") fails inside Undertow's client without that log line.
        for (Throwable c = e; parse == null && c != null; c = c.getCause()) {
            if (c instanceof NumberFormatException) parse = c;
        }
        if (parse != null) {
            fail(UndertowClientLog.describe(parse));
            return;
        }
        if (reused && !retriedStale && repeatable()) {
            retriedStale = true;
            disarm();
            // Not queued behind other openings: this request was already on its way.
            transport.openingStarted(poolKey);
            holdsOpening = true;
            connect();
            return;
        }
        fail(e);
    }

    private boolean repeatable() {
        return repeatable(request);
    }

    /** Whether {@code request} may be sent a second time (RFC 9110 §9.2.2) and its body can be. */
    static boolean repeatable(FetchRequest request) {
        return request.body().replayable()
                && (IDEMPOTENT.contains(request.method())
                        || request.header("Idempotency-Key").isPresent());
    }

    /** The call was cancelled (deadline, client gone) before headers; after them the body's abort handles it. */
    private void abandon(FetchException reason) {
        if (!result.isDone()) fail(reason);
    }

    /**
     * Ends the exchange with {@code error}. The connection is closed whatever state it is in: a
     * half-written request or a half-read response cannot be reused, and once headers were delivered,
     * closing is what fails the body's reader.
     */
    private void fail(Throwable error) {
        // Undertow reports a failed TLS handshake as a closed channel; the reason is the witness's.
        HandshakeWitness witnessed = witness;
        if (witnessed != null && witnessed.failure() != null && !(error instanceof javax.net.ssl.SSLException)) {
            error = witnessed.failure();
        }
        disarm();
        ClientConnection open = connection;
        connection = null;
        // Completed before the close, which may call back into this exchange and must find it over.
        result.completeExceptionally(error);
        if (open != null) abort(open);
        endOpening();
    }

    /**
     * Closes a connection that is not to be reused without ending what is on it. Undertow's own close
     * is a clean one: it shuts writes down first, which ends a chunked request body with its last
     * chunk (or, if nothing was sent yet, turns it into {@code Content-Length: 0}), so an upload the
     * client abandoned, or that ran over the limit, would reach the upstream as a complete, shorter
     * request. Taking the raw connection back from the HTTP framing ({@code performUpgrade}) and
     * closing that sends no terminator: the upstream sees the body cut off, as it was.
     */
    private static void abort(ClientConnection connection) {
        try {
            IoUtils.safeClose(connection.performUpgrade());
        } catch (IOException alreadyClosed) {
            IoUtils.safeClose(connection);
        }
    }

    private void arm(java.time.Duration after, java.util.function.Supplier<IOException> timeout) {
        timer.arm(after, () -> {
            if (!result.isDone()) fail(timeout.get());
        });
    }

    private void disarm() {
        timer.disarm();
    }

    private void onThread(Runnable task) {
        IoThreads.run(thread, task);
    }

    /**
     * Why a parsed response head is not relayed, or null. Undertow's client takes the first of two
     * different {@code Content-Length}s, prefers {@code Content-Length} to {@code Transfer-Encoding}, and
     * reads a body it cannot decode ({@code gzip}, {@code xchunked}) as plain: each would reach the
     * client as a valid response of the wrong length or content (response splitting, RFC 9112
     * §11.1). So, as RFC 9112 §6.3 lets a recipient: a {@code Transfer-Encoding} with a
     * {@code Content-Length} "ought to be handled as an error"; a coding other than one
     * {@code chunked} cannot be decoded here (and one not ending in {@code chunked} would run to the
     * close); differing {@code Content-Length} values are "an unrecoverable error"; and §6.1 makes
     * {@code Transfer-Encoding} in an HTTP/1.0 message faulty framing. RFC 9110 §15: a status code is
     * three digits, 100 to 599.
     */
    static FetchException framingError(int status, HttpString protocol, io.undertow.util.HeaderMap in) {
        if (status < 100 || status > 599) {
            return ProtocolError.INVALID_STATUS_LINE.failure(
                    "upstream sent an invalid status line (status code " + status + " outside 100-599)");
        }
        HeaderValues lengths = in.get(Headers.CONTENT_LENGTH);
        HeaderValues codings = in.get(Headers.TRANSFER_ENCODING);
        if (codings != null) {
            if (lengths != null) {
                return ProtocolError.INVALID_FRAMING.failure(
                        "upstream sent both Content-Length and Transfer-Encoding (RFC 9112 §6.3)");
            }
            if (!protocol.equals(Protocols.HTTP_1_1)) {
                return ProtocolError.INVALID_FRAMING.failure(
                        "upstream sent Transfer-Encoding in an " + protocol + " response (RFC 9112 §6.1)");
            }
            if (codings.size() != 1 || !codings.getFirst().strip().equalsIgnoreCase("chunked")) {
                return ProtocolError.INVALID_FRAMING.failure("upstream sent Transfer-Encoding \""
                        + String.join(", ", codings) + "\" (only a single \"chunked\" is relayed; RFC 9112 §6.3)");
            }
        }
        if (lengths != null) {
            String first = null;
            for (String value : lengths) {
                // Every response with a length passes here: no regex, no stream, and a value without a
                // comma (all but a broken upstream's) is not split.
                for (String element : value.indexOf(',') < 0 ? new String[] {value} : value.split(",", -1)) {
                    String digits = canonicalDigits(element);
                    if (digits == null) {
                        return ProtocolError.INVALID_HEADER.failure(
                                "upstream sent an invalid Content-Length (\"" + value + "\")");
                    }
                    if (first == null) first = digits;
                    else if (!first.equals(digits)) {
                        return ProtocolError.INVALID_FRAMING.failure(
                                "upstream sent conflicting Content-Length values \"" + String.join(", ", lengths)
                                        + "\" (RFC 9112 §6.3)");
                    }
                }
            }
        }
        return null;
    }

    /**
     * One element of a {@code Content-Length} list, whitespace around it dropped and leading zeros
     * removed (so {@code 007} and {@code 7} agree), or null if it is not all digits.
     */
    static String canonicalDigits(String element) {
        int start = 0;
        int end = element.length();
        while (start < end && Character.isWhitespace(element.charAt(start))) start++;
        while (end > start && Character.isWhitespace(element.charAt(end - 1))) end--;
        if (start == end) return null;
        for (int i = start; i < end; i++) {
            char c = element.charAt(i);
            if (c < '0' || c > '9') return null;
        }
        while (start < end - 1 && element.charAt(start) == '0') start++;
        return start == 0 && end == element.length() ? element : element.substring(start, end);
    }

    static long contentLength(String value) {
        if (value == null) return -1;
        try {
            return Long.parseLong(value.trim());
        } catch (NumberFormatException e) {
            return -1;
        }
    }
}
