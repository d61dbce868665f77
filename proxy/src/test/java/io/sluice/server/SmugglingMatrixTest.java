package io.sluice.server;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import io.sluice.testing.RawClient;
import io.sluice.testing.RawUpstream;
import io.sluice.testing.SluiceServerExtension;
import io.sluice.testing.TestHttp;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * The request-smuggling and parser-robustness matrix of the data port, on raw sockets (issue 30,
 * item 2). Requests: each case goes through the route form and the forward (absolute-form) form to a
 * raw logging upstream; a refused case must get {@code 400} (or the status named), the connection
 * closed, and reach the upstream not at all, not even the valid request pipelined behind it; a valid
 * case must reach it as exactly one unambiguous, re-framed request. Responses: a raw upstream answers
 * the first request with broken bytes; the client must get {@code 502} with a {@code Proxy-Status}
 * naming the error (a batch item: an {@code error}), never the bytes relayed as a valid response, and
 * the next request must be answered normally. {@code docs/reliability.md} has the table.
 */
class SmugglingMatrixTest {
    @RegisterExtension
    final SluiceServerExtension sluice = new SluiceServerExtension();

    private final List<AutoCloseable> fixtures = new ArrayList<>();

    @AfterEach
    void stop() throws Exception {
        for (AutoCloseable f : fixtures) f.close();
    }

    // ---------------------------------------------------------------------------------------------
    // Requests

    enum Form {
        ROUTE,
        FORWARD
    }

    /**
     * One request as the client writes it: {@code {T}} is the request target and {@code {A}} the
     * upstream's authority, filled in per form. {@code forwarded} is null for a refused request, else
     * the body the upstream must receive.
     */
    record RequestCase(String name, String raw, int status, String forwarded) {
        @Override
        public String toString() {
            return name;
        }
    }

    private static final String POST = "POST {T} HTTP/1.1\r\nHost: {A}\r\n";

    /** A {@code status} meaning: forwarded ({@code 200}) in the route form, refused ({@code 400}) in the forward form. */
    private static final int FORWARDED_IN_ROUTE_FORM_ONLY = -1;

    private static RequestCase refused(String name, String raw) {
        return new RequestCase(name, raw, 400, null);
    }

    private static RequestCase forwarded(String name, String raw, String body) {
        return new RequestCase(name, raw, 200, body);
    }

    static List<RequestCase> requestCases() {
        String chunkedHead = POST + "Transfer-Encoding: chunked\r\n\r\n";
        return List.of(
                refused(
                        "CL then TE",
                        POST + "Content-Length: 3\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n0\r\n\r\n"),
                refused(
                        "TE then CL",
                        POST + "Transfer-Encoding: chunked\r\nContent-Length: 3\r\n\r\n3\r\nabc\r\n0\r\n\r\n"),
                refused(
                        "CL with TE in upper case",
                        POST + "Content-Length: 3\r\nTransfer-Encoding: CHUNKED\r\n\r\n3\r\nabc\r\n0\r\n\r\n"),
                refused("two different CLs", POST + "Content-Length: 3\r\nContent-Length: 5\r\n\r\nabcde"),
                refused("CL list of two values", POST + "Content-Length: 3, 5\r\n\r\nabcde"),
                refused("CL with a sign", POST + "Content-Length: +3\r\n\r\nabc"),
                refused("CL negative", POST + "Content-Length: -1\r\n\r\nabc"),
                refused("CL overflowing a long", POST + "Content-Length: 99999999999999999999\r\n\r\nabc"),
                refused(
                        "TE chunked, identity",
                        POST + "Transfer-Encoding: chunked, identity\r\n\r\n3\r\nabc\r\n0\r\n\r\n"),
                refused("TE identity", POST + "Transfer-Encoding: identity\r\n\r\n3\r\nabc\r\n0\r\n\r\n"),
                refused("TE xchunked", POST + "Transfer-Encoding: xchunked\r\n\r\n3\r\nabc\r\n0\r\n\r\n"),
                refused(
                        "TE chunked twice",
                        POST + "Transfer-Encoding: chunked\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n"),
                refused("TE name then space", POST + "Transfer-Encoding : chunked\r\n\r\n3\r\nabc\r\n0\r\n\r\n"),
                refused(
                        "TE line with a leading space",
                        POST + " Transfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n0\r\n\r\n"),
                refused(
                        "TE in HTTP/1.0",
                        "POST {T} HTTP/1.0\r\nHost: {A}\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n"),
                refused(
                        "bare LF ends the request line",
                        "POST {T} HTTP/1.1\nHost: {A}\r\nContent-Length: 3\r\n\r\nabc"),
                refused("bare LF ends a field", POST + "X-Note: a\nContent-Length: 3\r\n\r\nabc"),
                refused(
                        "bare LF hides TE in a value",
                        POST + "X-Note: a\nTransfer-Encoding: chunked\r\nContent-Length: 5\r\n\r\n0\r\n\r\n"),
                refused(
                        "bare CR in a value",
                        POST + "X-Note: a\rTransfer-Encoding: chunked\r\nContent-Length: 3\r\n\r\nabc"),
                refused("NUL in a value", POST + "X-Note: a\u0000b\r\nContent-Length: 3\r\n\r\nabc"),
                refused("NUL in the target", "POST {T}\u0000x HTTP/1.1\r\nHost: {A}\r\nContent-Length: 3\r\n\r\nabc"),
                // RFC 9112 §3.2: 400 for an HTTP/1.1 request without Host or with more than one.
                refused("no Host in HTTP/1.1", "POST {T} HTTP/1.1\r\nContent-Length: 3\r\n\r\nabc"),
                refused("two Host fields", POST + "Host: evil.example\r\nContent-Length: 3\r\n\r\nabc"),
                refused("Host with a space", "POST {T} HTTP/1.1\r\nHost: {A} x\r\nContent-Length: 3\r\n\r\nabc"),
                refused("chunk size not hex", chunkedHead + "zz\r\nabc\r\n0\r\n\r\n"),
                refused("chunk size negative", chunkedHead + "-3\r\nabc\r\n0\r\n\r\n"),
                refused("chunk size 0x", chunkedHead + "0x3\r\nabc\r\n0\r\n\r\n"),
                refused("chunk size overflows", chunkedHead + "fffffffffffffffff3\r\nabc\r\n0\r\n\r\n"),
                refused("chunk longer than its size", chunkedHead + "3\r\nabcde\r\n0\r\n\r\n"),
                refused("chunk missing its CRLF", chunkedHead + "3\r\nabc0\r\n\r\n"),
                refused("chunk extension with bare LF", chunkedHead + "3;x\nabc\r\n0\r\n\r\n"),
                refused("chunk extension with a control byte", chunkedHead + "3;x=\u0001\r\nabc\r\n0\r\n\r\n"),
                refused("chunk extension without a name", chunkedHead + "3;=x\r\nabc\r\n0\r\n\r\n"),
                // Undertow's parser answers these itself, 400 rather than 431.
                refused(
                        "field past server.max_header_size",
                        POST + "X-Big: " + "b".repeat(5000) + "\r\nContent-Length: 3\r\n\r\nabc"),
                refused(
                        "too many fields (Undertow's 200)",
                        POST + "X-F: 1\r\n".repeat(250) + "Content-Length: 3\r\n\r\nabc"),
                forwarded(
                        "TE in upper case, re-framed",
                        POST + "Transfer-Encoding: CHUNKED\r\nConnection: close\r\n\r\n3\r\nabc\r\n0\r\n\r\n",
                        "abc"),
                forwarded(
                        "TE with leading whitespace in the value",
                        POST + "Transfer-Encoding: \t chunked\r\nConnection: close\r\n\r\n3\r\nabc\r\n0\r\n\r\n",
                        "abc"),
                forwarded(
                        "chunk extensions, then trailers",
                        POST
                                + "Transfer-Encoding: chunked\r\nConnection: close\r\n\r\n3;a=\"b\"\r\nabc\r\n0;z\r\nX-T: 1\r\n\r\n",
                        "abc"),
                // RFC 9112 §6.3 allows reading identical values as one; Undertow refuses any repeat.
                refused("the same CL twice", POST + "Content-Length: 3\r\nContent-Length: 3\r\n\r\nabc"),
                // RFC 9112 §5.2 lets a server refuse obs-fold with 400 or replace it with SP; Sluice
                // refuses, so no front proxy that reads the folded line differently can desync.
                refused(
                        "TE obs-folded",
                        POST + "Transfer-Encoding:\r\n chunked\r\nConnection: close\r\n\r\n3\r\nabc\r\n0\r\n\r\n"),
                refused(
                        "obs-fold in another field",
                        POST + "X-Note: a\r\n b\r\nContent-Length: 3\r\nConnection: close\r\n\r\nabc"),
                refused("obs-fold with a tab", POST + "X-Note: a\r\n\tb\r\nContent-Length: 3\r\n\r\nabc"),
                refused("obs-fold continuing Host", POST + " X-Note: a\r\nContent-Length: 3\r\n\r\nabc"),
                // Route form: the upstream gets base_url's authority. Forward form: Undertow refuses a
                // Host that disagrees with the absolute target ("URI Host Header NO MATCH"); RFC 9112
                // §3.2.2 would let a proxy replace it instead, refusing is the stricter reading.
                new RequestCase(
                        "Host disagreeing with the target",
                        "POST {T} HTTP/1.1\r\nHost: evil.example\r\nContent-Length: 3\r\nConnection: close\r\n\r\nabc",
                        FORWARDED_IN_ROUTE_FORM_ONLY,
                        "abc"));
    }

    static Stream<Arguments> requestMatrix() {
        return Stream.of(Form.values()).flatMap(form -> requestCases().stream().map(c -> Arguments.of(form, c)));
    }

    /**
     * What follows every refused request on its connection: it must never be read, let alone
     * forwarded (a request smuggled behind an ambiguous one).
     */
    private static final String PIPELINED = "GET {T}-smuggled HTTP/1.1\r\nHost: {A}\r\n\r\n";

    @ParameterizedTest(name = "{0}: {1}")
    @MethodSource("requestMatrix")
    void refusesAmbiguousRequestsAndForwardsOnlyUnambiguousOnes(Form form, RequestCase matrixCase) throws Exception {
        RequestCase c = matrixCase.status() != FORWARDED_IN_ROUTE_FORM_ONLY
                ? matrixCase
                : form == Form.ROUTE
                        ? new RequestCase(matrixCase.name(), matrixCase.raw(), 200, matrixCase.forwarded())
                        : new RequestCase(matrixCase.name(), matrixCase.raw(), 400, null);
        RawUpstream upstream = new RawUpstream();
        fixtures.add(upstream);
        int port = sluice.start("""
                        server: {max_header_size: 4KB}
                        upstreams:
                          raw:
                            base_url: %s
                            allow_private: true
                        """.formatted(upstream.origin())).dataPort();
        String authority = upstream.origin().substring("http://".length());
        String target = form == Form.ROUTE ? "/raw/in" : upstream.origin() + "/in";
        String raw = c.raw() + (c.forwarded() == null ? PIPELINED : "");

        String answer = RawClient.exchange(port, raw.replace("{T}", target).replace("{A}", authority));

        assertThat(answer).as("status").matches("(?s)HTTP/1\\.[01] " + c.status() + " .*");
        assertThat(answer.split("HTTP/1\\.[01] \\d{3} ", -1))
                .as("exactly one answer")
                .hasSize(2);
        if (c.forwarded() == null) {
            assertThat(answer.toLowerCase(Locale.ROOT)).contains("\r\nconnection: close\r\n");
            assertThat(upstream.connections()).as("connections to the upstream").isZero();
            return;
        }
        assertThat(answer).endsWith("ok");
        String seen = upstream.first(5).awaitClosed(5);
        assertThat(Message.parse(seen))
                .as("what the upstream received:\n%s", seen)
                .satisfies(m -> {
                    assertThat(m.rest()).as("bytes after the request").isEmpty();
                    assertThat(m.body()).isEqualTo(c.forwarded());
                    assertThat(m.fields("host")).containsExactly(authority);
                    assertThat(m.target()).isEqualTo("/in");
                });
        assertThat(upstream.connections()).isEqualTo(1);
    }

    /**
     * One HTTP/1.1 request as an upstream received it, parsed strictly: CRLF only, one framing
     * field. Anything ambiguous fails the test.
     */
    record Message(String target, List<String> lines, String body, String rest) {
        List<String> fields(String name) {
            List<String> values = new ArrayList<>();
            for (String line : lines) {
                int colon = line.indexOf(':');
                if (line.substring(0, colon).equalsIgnoreCase(name)) {
                    values.add(line.substring(colon + 1).strip());
                }
            }
            return values;
        }

        static Message parse(String text) {
            int end = text.indexOf("\r\n\r\n");
            assertThat(end).as("a complete head").isPositive();
            String head = text.substring(0, end);
            assertThat(head.replace("\r\n", "")).as("no bare CR or LF, no NUL").doesNotContain("\r", "\n", "\0");
            String[] all = head.split("\r\n");
            String[] requestLine = all[0].split(" ");
            assertThat(requestLine).hasSize(3);
            List<String> lines = List.of(all).subList(1, all.length);
            for (String line : lines) {
                assertThat(line).as("a field line").matches("[!#$%&'*+.^_`|~0-9A-Za-z-]+:.*");
            }
            Message m = new Message(requestLine[1], lines, "", "");
            List<String> lengths = m.fields("content-length");
            List<String> codings = m.fields("transfer-encoding");
            assertThat(lengths.size() + codings.size()).as("one framing field").isLessThanOrEqualTo(1);
            String after = text.substring(end + 4);
            if (!codings.isEmpty()) {
                assertThat(codings).containsExactly("chunked");
                StringBuilder body = new StringBuilder();
                int at = 0;
                while (true) {
                    int eol = after.indexOf("\r\n", at);
                    int size = Integer.parseInt(after.substring(at, eol), 16);
                    at = eol + 2;
                    if (size == 0) break;
                    body.append(after, at, at + size);
                    assertThat(after.substring(at + size, at + size + 2)).isEqualTo("\r\n");
                    at += size + 2;
                }
                int trailers = after.indexOf("\r\n\r\n", at - 2);
                assertThat(trailers).isGreaterThanOrEqualTo(at - 2);
                return new Message(m.target(), lines, body.toString(), after.substring(trailers + 4));
            }
            int length = lengths.isEmpty() ? 0 : Integer.parseInt(lengths.get(0));
            return new Message(m.target(), lines, after.substring(0, length), after.substring(length));
        }
    }

    // ---------------------------------------------------------------------------------------------
    // Responses

    private static final String GOOD = "HTTP/1.1 200 OK\r\nContent-Length: 4\r\n\r\ngood";

    /** What a client of the route form must get for a broken response. */
    enum Outcome {
        /** {@code 502} with {@code Proxy-Status: sluice; error=http_protocol_error}. */
        REFUSED,
        /**
         * The body broke after valid bytes that were already relayed: the {@code 200} head and those
         * bytes, chunked, then the connection closes without the last chunk, so the client sees an
         * incomplete message (RFC 9112 §8). A batch item fails.
         */
        TRUNCATED,
        /** Valid once normalised: forwarded with one framing field and no folded line. */
        FORWARDED
    }

    /** One broken response, as the upstream writes it, and what must come of it. */
    record ResponseCase(String name, String raw, Outcome outcome) {
        @Override
        public String toString() {
            return name;
        }
    }

    static List<ResponseCase> responseCases() {
        return List.of(
                new ResponseCase(
                        "two different CLs",
                        "HTTP/1.1 200 OK\r\nContent-Length: 2\r\nContent-Length: 5\r\n\r\nbogus",
                        Outcome.REFUSED),
                new ResponseCase(
                        "CL list of two values",
                        "HTTP/1.1 200 OK\r\nContent-Length: 2, 5\r\n\r\nbogus",
                        Outcome.REFUSED),
                new ResponseCase(
                        "CL and TE",
                        "HTTP/1.1 200 OK\r\nContent-Length: 3\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nbogus\r\n0\r\n\r\n",
                        Outcome.REFUSED),
                new ResponseCase(
                        "TE not ending in chunked",
                        "HTTP/1.1 200 OK\r\nTransfer-Encoding: gzip\r\n\r\nbogus",
                        Outcome.REFUSED),
                new ResponseCase(
                        "TE chunked, identity",
                        "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked, identity\r\n\r\n5\r\nbogus\r\n0\r\n\r\n",
                        Outcome.REFUSED),
                new ResponseCase(
                        "TE chunked twice",
                        "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nbogus\r\n0\r\n\r\n",
                        Outcome.REFUSED),
                new ResponseCase(
                        "TE in an HTTP/1.0 response",
                        "HTTP/1.0 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nbogus\r\n0\r\n\r\n",
                        Outcome.REFUSED),
                new ResponseCase(
                        "TE xchunked",
                        "HTTP/1.1 200 OK\r\nTransfer-Encoding: xchunked\r\n\r\n5\r\nbogus\r\n0\r\n\r\n",
                        Outcome.REFUSED),
                new ResponseCase(
                        "bare CR in a value (splitting)",
                        "HTTP/1.1 200 OK\r\nX-Note: a\rContent-Length: 5\r\nContent-Length: 5\r\n\r\nbogus",
                        Outcome.REFUSED),
                new ResponseCase(
                        "bare LF in a value (splitting)",
                        "HTTP/1.1 200 OK\r\nX-Note: a\nSet-Cookie: evil=1\r\nContent-Length: 5\r\n\r\nbogus",
                        Outcome.REFUSED),
                new ResponseCase(
                        "NUL in a value",
                        "HTTP/1.1 200 OK\r\nX-Note: a\u0000b\r\nContent-Length: 5\r\n\r\nbogus",
                        Outcome.REFUSED),
                new ResponseCase(
                        "field line without a colon",
                        "HTTP/1.1 200 OK\r\nX-Note a\r\nContent-Length: 5\r\n\r\nbogus",
                        Outcome.REFUSED),
                new ResponseCase(
                        "field name then space", "HTTP/1.1 200 OK\r\nContent-Length : 5\r\n\r\nbogus", Outcome.REFUSED),
                new ResponseCase(
                        "invalid status line", "HTTP/1.1 OK\r\nContent-Length: 5\r\n\r\nbogus", Outcome.REFUSED),
                new ResponseCase("not HTTP at all", "bogus\r\n\r\n", Outcome.REFUSED),
                new ResponseCase(
                        "status code 999", "HTTP/1.1 999 Nine\r\nContent-Length: 5\r\n\r\nbogus", Outcome.REFUSED),
                new ResponseCase(
                        "status code 099", "HTTP/1.1 099 Low\r\nContent-Length: 5\r\n\r\nbogus", Outcome.REFUSED),
                new ResponseCase(
                        "status code 2000", "HTTP/1.1 2000 OK\r\nContent-Length: 5\r\n\r\nbogus", Outcome.REFUSED),
                new ResponseCase(
                        "chunk size not hex",
                        "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\nbogus\r\n0\r\n\r\n",
                        Outcome.REFUSED),
                new ResponseCase(
                        "chunk size 0x",
                        "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n0x5\r\nbogus\r\n0\r\n\r\n",
                        Outcome.REFUSED),
                new ResponseCase(
                        "chunk longer than its size",
                        "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nbogus\r\n0\r\n\r\n",
                        Outcome.TRUNCATED),
                new ResponseCase(
                        "chunk missing its CRLF",
                        "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nbogus0\r\n\r\n",
                        Outcome.TRUNCATED),
                new ResponseCase(
                        "chunk extension with bare LF",
                        "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5;x\nbogus\r\n0\r\n\r\n",
                        Outcome.REFUSED),
                new ResponseCase(
                        "obs-fold in a field, forwarded as one space",
                        "HTTP/1.1 200 OK\r\nX-Folded: a\r\n  b\r\nContent-Length: 5\r\n\r\nvalid",
                        Outcome.FORWARDED),
                new ResponseCase(
                        "the same CL twice, forwarded once",
                        "HTTP/1.1 200 OK\r\nContent-Length: 5\r\nContent-Length: 5\r\n\r\nvalid",
                        Outcome.FORWARDED),
                new ResponseCase(
                        "a second response behind the first (splitting)",
                        "HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nvalidHTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nbogus",
                        Outcome.FORWARDED));
    }

    @ParameterizedTest(name = "route form: {0}")
    @MethodSource("responseCases")
    void neverRelaysABrokenResponseAsValidToTheRouteForm(ResponseCase c) throws Exception {
        ScriptedUpstream upstream = new ScriptedUpstream(c.raw());
        var running = startFor(upstream);
        int port = running.dataPort();

        String answer = RawClient.exchange(port, "GET /bad/x HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n");

        switch (c.outcome()) {
            case REFUSED -> {
                assertThat(answer).doesNotContain("bogus").startsWith("HTTP/1.1 502 ");
                assertThat(answer).containsPattern("(?i)\r\nproxy-status: sluice; error=http_protocol_error;");
            }
            case TRUNCATED -> {
                assertThat(answer).startsWith("HTTP/1.1 200 ");
                String head = answer.substring(0, answer.indexOf("\r\n\r\n")).toLowerCase(Locale.ROOT);
                assertThat(head).contains("\r\ntransfer-encoding: chunked").doesNotContain("content-length");
                assertThat(answer).as("no last chunk").doesNotEndWith("0\r\n\r\n");
            }
            case FORWARDED -> assertValidlyForwarded(answer);
        }
        if (c.outcome() != Outcome.FORWARDED) {
            assertThat(TestHttp.get(running.admin("/metrics")).body())
                    .as("counted as a protocol error")
                    .containsPattern(
                            "\nsluice_upstream_protocol_errors_total\\{type=\"[a-z_]+\",upstream=\"bad\"} 1.0\n");
        }
        String next = RawClient.exchange(port, "GET /bad/y HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n");
        assertThat(next).as("the next request").startsWith("HTTP/1.1 200 ").endsWith("\r\n\r\ngood");
    }

    @ParameterizedTest(name = "batch: {0}")
    @MethodSource("responseCases")
    void neverRelaysABrokenResponseAsValidToABatchItem(ResponseCase c) throws Exception {
        ScriptedUpstream upstream = new ScriptedUpstream(c.raw());
        var running = startFor(upstream);
        String document = "{\"requests\": [{\"id\": \"i\", \"url\": \"" + upstream.origin() + "/x\"}]}";

        JsonNode item = TestHttp.batch(running.data("/v1/batch"), document)
                .get("responses")
                .get(0);

        assertThat(item.toString()).doesNotContain("bogus");
        if (c.outcome() == Outcome.FORWARDED) {
            assertThat(item.get("status").asInt()).as(item.toString()).isEqualTo(200);
            assertThat(item.get("body").asText()).isEqualTo("valid");
            if (c.name().startsWith("obs-fold")) {
                assertThat(item.get("headers").get("x-folded").asText()).isEqualTo("a b");
            }
        } else {
            assertThat(item.has("status")).as(item.toString()).isFalse();
            assertThat(item.get("error").get("type").asText()).isEqualTo("upstream_reset");
            assertThat(item.get("error").get("message").asText()).startsWith("upstream sent ");
        }
        JsonNode next = TestHttp.batch(running.data("/v1/batch"), document)
                .get("responses")
                .get(0);
        assertThat(next.get("status").asInt()).as(next.toString()).isEqualTo(200);
        assertThat(next.get("body").asText()).isEqualTo("good");
    }

    private SluiceServerExtension.Running startFor(ScriptedUpstream upstream) {
        fixtures.add(upstream);
        // One attempt: a retry would send the request to the upstream again and hide what the first
        // answer made of it.
        return sluice.start("""
                upstreams:
                  bad:
                    base_url: %s
                    allow_private: true
                    retry: {max_attempts: 1}
                    timeouts: {response: 5s, total: 5s}
                """.formatted(upstream.origin()));
    }

    private static void assertValidlyForwarded(String answer) {
        assertThat(answer).startsWith("HTTP/1.1 200 ");
        int end = answer.indexOf("\r\n\r\n");
        String head = answer.substring(0, end);
        assertThat(head.replace("\r\n", "")).doesNotContain("\r", "\n", "\0");
        for (String line : head.substring(head.indexOf("\r\n") + 2).split("\r\n")) {
            assertThat(line).as("a field line").matches("[!#$%&'*+.^_`|~0-9A-Za-z-]+:.*");
        }
        assertThat(head.toLowerCase(Locale.ROOT).split("\r\ncontent-length:", -1))
                .as("one Content-Length")
                .hasSizeLessThanOrEqualTo(2);
        assertThat(answer).endsWith("\r\n\r\nvalid");
    }

    /**
     * A raw upstream (loopback, port 0) whose first request, over all its connections, gets {@code
     * first} byte for byte; every later one gets {@link #GOOD}. Connections stay open until the peer
     * closes them, so a response Sluice would take as unfinished shows as a hang, not as a close.
     */
    static final class ScriptedUpstream implements AutoCloseable {
        private final ServerSocket server;
        private final byte[] first;
        private final AtomicInteger requests = new AtomicInteger();
        private final List<Socket> sockets = new CopyOnWriteArrayList<>();

        ScriptedUpstream(String first) throws IOException {
            this.first = first.getBytes(StandardCharsets.ISO_8859_1);
            server = new ServerSocket(0, 50, InetAddress.getLoopbackAddress());
            Thread.ofVirtual().start(this::accept);
        }

        String origin() {
            return "http://127.0.0.1:" + server.getLocalPort();
        }

        private void accept() {
            while (!server.isClosed()) {
                try {
                    Socket socket = server.accept();
                    sockets.add(socket);
                    Thread.ofVirtual().start(() -> serve(socket));
                } catch (IOException closed) {
                    return;
                }
            }
        }

        /** Requests here have no body: each ends at its empty line. */
        private void serve(Socket socket) {
            try (socket) {
                InputStream in = socket.getInputStream();
                OutputStream out = socket.getOutputStream();
                int matched = 0;
                for (int b; (b = in.read()) >= 0; ) {
                    matched = b == (matched % 2 == 0 ? '\r' : '\n') ? matched + 1 : (b == '\r' ? 1 : 0);
                    if (matched < 4) continue;
                    matched = 0;
                    out.write(requests.getAndIncrement() == 0 ? first : GOOD.getBytes(StandardCharsets.ISO_8859_1));
                    out.flush();
                }
            } catch (IOException closed) {
                // the peer went away
            }
        }

        @Override
        public void close() throws IOException {
            server.close();
            for (Socket s : sockets) s.close();
        }
    }
}
