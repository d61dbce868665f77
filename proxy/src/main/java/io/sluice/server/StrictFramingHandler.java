package io.sluice.server;

import io.undertow.UndertowOptions;
import io.undertow.server.Connectors;
import io.undertow.server.HttpHandler;
import io.undertow.server.HttpServerExchange;
import io.undertow.server.protocol.http.HttpServerConnection;
import io.undertow.util.HeaderValues;
import io.undertow.util.Headers;
import io.undertow.util.HttpString;
import io.undertow.util.Protocols;
import java.util.Locale;

/**
 * The data port's first handler on HTTP/1 connections: refuses, with {@code 400} and
 * {@code Connection: close}, a request whose message framing Undertow would accept leniently, before
 * anything of it is forwarded. Undertow takes any {@code Transfer-Encoding} whose last value is not
 * {@code identity} as chunked, and {@code identity} as "read until close"; this handler takes exactly
 * one coding, {@code chunked} (RFC 9112 §6.3), in HTTP/1.1 only (§6.1), without
 * {@code Content-Length}, and checks the chunked framing itself as the body arrives
 * ({@link ChunkGrammar}). Versions other than HTTP/1.0 and 1.1 are refused rather than read as 1.1.
 * A refused request's body is never read: the connection closes after the answer, so no byte of it
 * can be parsed as a next request. A head with an obs-fold is refused too ({@link
 * RawRequestHeads#obsFolded}), where Undertow would unfold it. HTTP/2 frames its own messages and is
 * passed through.
 */
public final class StrictFramingHandler implements HttpHandler {
    private final HttpHandler next;

    public StrictFramingHandler(HttpHandler next) {
        this.next = next;
    }

    /**
     * Why the chunked body of {@code exchange} was refused while it was being read (the read then
     * failed), or null: the failure is the client's, and is answered {@code 400}.
     */
    public static String malformedBody(HttpServerExchange exchange) {
        return StrictChunkedBody.malformed(exchange);
    }

    @Override
    public void handleRequest(HttpServerExchange exchange) throws Exception {
        if (!(exchange.getConnection() instanceof HttpServerConnection http)) {
            next.handleRequest(exchange);
            return;
        }
        String refusal = refusal(exchange, http);
        if (refusal != null) {
            refuse(exchange, refusal);
            return;
        }
        next.handleRequest(exchange);
    }

    private static String refusal(HttpServerExchange exchange, HttpServerConnection http) {
        HttpString protocol = exchange.getProtocol();
        boolean http10 = protocol.equals(Protocols.HTTP_1_0);
        if (!http10 && !protocol.equals(Protocols.HTTP_1_1)) {
            // RFC 9110 §6.2 would let a 1.x above 1.1 be answered as 1.1, but none exists: a request
            // claiming one is a probe or a broken client, and refusing it costs nobody anything.
            return "unsupported HTTP version \"" + protocol + "\" (HTTP/1.0 or HTTP/1.1)";
        }
        if (RawRequestHeads.obsFolded(exchange)) {
            // RFC 9112 §5.2 lets a server either refuse obs-fold with 400 or replace it with SP.
            // Undertow replaces it; a front proxy that does neither (or reads the folded line as a
            // field of its own) would see another request than Sluice forwards, so it is refused.
            return "obs-fold (a field line continued on the next line, RFC 9112 §5.2)";
        }
        HeaderValues codings = exchange.getRequestHeaders().get(Headers.TRANSFER_ENCODING);
        if (codings == null) return null;
        if (http10) return "Transfer-Encoding in an HTTP/1.0 request (RFC 9112 §6.1)";
        if (exchange.getRequestHeaders().contains(Headers.CONTENT_LENGTH)) {
            return "both Content-Length and Transfer-Encoding (RFC 9112 §6.1)";
        }
        String wrong = notJustChunked(codings);
        if (wrong != null) return wrong;
        int maxTrailer =
                http.getUndertowOptions().get(UndertowOptions.MAX_HEADER_SIZE, UndertowOptions.DEFAULT_MAX_HEADER_SIZE);
        String malformed = StrictChunkedBody.install(exchange, http, new ChunkGrammar(maxTrailer));
        return malformed == null ? null : "malformed chunked body: " + malformed;
    }

    /**
     * Sluice decodes no transfer coding but chunked, so {@code gzip, chunked} would reach the upstream
     * as compressed bytes claiming to be plain; {@code chunked, chunked} and {@code identity, chunked}
     * are ones other parsers read differently. Names are case-insensitive (RFC 9112 §7), so
     * {@code CHUNKED} is accepted; empty list elements are ignored (RFC 9110 §5.6.1).
     */
    private static String notJustChunked(HeaderValues values) {
        int chunked = 0;
        int others = 0;
        for (String value : values) {
            for (String element : value.split(",", -1)) {
                String coding = ows(element);
                if (coding.isEmpty()) continue;
                if (coding.toLowerCase(Locale.ROOT).equals("chunked")) chunked++;
                else others++;
            }
        }
        if (chunked == 1 && others == 0) return null;
        String all = String.join(", ", values);
        return "unsupported Transfer-Encoding \"" + all + "\" (only \"chunked\", once; RFC 9112 §6.3)";
    }

    /** Trims RFC 9110 §5.6.3 optional whitespace: SP and HTAB only. */
    private static String ows(String s) {
        int from = 0;
        int to = s.length();
        while (from < to && (s.charAt(from) == ' ' || s.charAt(from) == '\t')) from++;
        while (to > from && (s.charAt(to - 1) == ' ' || s.charAt(to - 1) == '\t')) to--;
        return s.substring(from, to);
    }

    private static void refuse(HttpServerExchange exchange, String message) {
        HttpString protocol = exchange.getProtocol();
        // Undertow answers in the request's version; one it does not speak is answered in 1.1.
        if (!protocol.equals(Protocols.HTTP_1_0)) exchange.setProtocol(Protocols.HTTP_1_1);
        exchange.setPersistent(false);
        // The body stays unread: the request ends here, so Undertow does not drain it when the
        // exchange ends, and the connection closes after the answer.
        Connectors.terminateRequest(exchange);
        exchange.getResponseHeaders().put(Headers.CONNECTION, "close");
        Json.send(exchange, 400, Json.error("invalid_request", message));
    }

    @Override
    public String toString() {
        return "StrictFramingHandler";
    }
}
