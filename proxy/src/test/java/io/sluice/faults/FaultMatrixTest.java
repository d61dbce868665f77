package io.sluice.faults;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import io.sluice.testing.FaultUpstream;
import io.sluice.testing.FaultUpstream.Fault;
import io.sluice.testing.SluiceServerExtension;
import io.sluice.testing.TestHttp;
import io.sluice.testing.TlsOrigin;
import java.io.IOException;
import java.io.InputStream;
import java.net.InetSocketAddress;
import java.net.ProxySelector;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.security.cert.CertificateFactory;
import java.security.cert.X509Certificate;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;
import javax.net.ssl.SSLContext;
import okhttp3.tls.HeldCertificate;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * Every fault of {@link FaultUpstream} through every front door: a batch item, the route form and
 * the forward form to a cleartext upstream; a batch item, the route form and an intercepted
 * {@code CONNECT} to the same faults behind TLS; and the TLS set-up faults (a handshake that
 * stalls, a certificate from an unknown CA or for another name) through the three TLS doors. The
 * {@code connect: tunnel} door, a byte pipe Sluice cannot see into, has a method of its own, since
 * what its client must see is the upstream's bytes untouched rather than a typed error.
 *
 * <p>Each case asserts what the client reads (the documented {@code error.type}, status and
 * {@code Proxy-Status}, or a body visibly cut short when the fault comes after the headers were
 * passed on), that it ends no later than its deadline plus a margin, and that Sluice's own gauges
 * — slots in flight, queued, open upstream connections, pooled buffers in use, tunnels — come back
 * to where they were before the request.
 */
class FaultMatrixTest {
    /** A bound, not a speed target: the machine running the suite is busy. */
    private static final Duration MARGIN = Duration.ofSeconds(2);

    /** {@code timeouts.connect} and {@code timeouts.response}; two attempts of either fit in {@link #TOTAL}. */
    private static final Duration RESPONSE = Duration.ofMillis(800);

    private static final Duration TOTAL = Duration.ofSeconds(2);

    /** The origin's private CA and its {@code localhost} leaf, which Sluice trusts through {@code tls.ca_file}. */
    private static final TlsOrigin ORIGIN = new TlsOrigin();

    @RegisterExtension
    final SluiceServerExtension sluice = new SluiceServerExtension();

    @TempDir
    Path dir;

    private final List<AutoCloseable> closing = new ArrayList<>();

    @AfterEach
    void close() throws Exception {
        for (AutoCloseable c : closing.reversed()) c.close();
    }

    /** How a request reaches Sluice, and whether the upstream behind it speaks TLS. */
    enum Door {
        BATCH(false),
        ROUTE(false),
        FORWARD(false),
        BATCH_TLS(true),
        ROUTE_TLS(true),
        CONNECT(true),
        /**
         * The route form to an upstream with {@code tls.http2: true}: java.net.http, offering h2 by
         * ALPN (the fixture answers HTTP/1.1), instead of Undertow's client.
         */
        ROUTE_JDK(true);

        final boolean tls;

        Door(boolean tls) {
            this.tls = tls;
        }

        boolean passthrough() {
            return this != BATCH && this != BATCH_TLS;
        }
    }

    /** What goes wrong: one of the fixture's per-request faults, or the TLS set-up itself. */
    enum Toxic {
        RESET_BEFORE_HEADERS(Fault.RESET_BEFORE_HEADERS),
        RESET_AFTER_HEADERS(Fault.RESET_AFTER_HEADERS),
        NO_ANSWER(Fault.NO_ANSWER),
        SLOW_DRIP(Fault.SLOW_DRIP),
        SHORT_BODY(Fault.SHORT_BODY),
        CHUNKED_CUT(Fault.CHUNKED_CUT),
        INVALID_STATUS_LINE(Fault.INVALID_STATUS_LINE),
        OVERSIZED_HEADERS(Fault.OVERSIZED_HEADERS),
        RETRY_AFTER_FAR(Fault.RETRY_AFTER_FAR),
        LATENCY_SPIKE(Fault.LATENCY_SPIKE),
        LARGE_BODY(Fault.LARGE_BODY),
        TLS_HANDSHAKE_STALL(null),
        /** A leaf from a CA Sluice was never told about. */
        TLS_UNTRUSTED_CERTIFICATE(null),
        /** A leaf naming a trusted CA as its issuer, signed by another CA of the same name. */
        TLS_IMPOSTOR_ISSUER(null),
        TLS_WRONG_HOST(null);

        final Fault fault;

        Toxic(Fault fault) {
            this.fault = fault;
        }

        /** The path asked for: the fault's own, or any path when the TLS set-up is what fails. */
        String path() {
            return fault != null ? fault.path() : "/x";
        }
    }

    static Stream<Arguments> cases() {
        List<Arguments> all = new ArrayList<>();
        for (Toxic toxic : Toxic.values()) {
            for (Door door : Door.values()) {
                if (toxic.fault == null && !door.tls) continue;
                all.add(Arguments.of(toxic, door));
            }
        }
        return all.stream();
    }

    /** What a client saw. {@code type} is set when Sluice answered with its own error. */
    record Seen(
            int status,
            String type,
            String message,
            String proxyStatus,
            String retryAfter,
            String body,
            String bodyError,
            Duration took) {}

    @ParameterizedTest(name = "{0} via {1}")
    @MethodSource("cases")
    void endsAsDocumentedInTimeAndLeaksNothing(Toxic toxic, Door door) throws Exception {
        FaultUpstream upstream = upstreamFor(toxic, door);
        closing.add(upstream);
        Path originCa = ORIGIN.writeCa(dir);
        SluiceServerExtension.Running running = sluice.start("""
                tls: {ca_file: "%s"}
                upstreams:
                  faulty:
                    base_url: %s
                    allow_private: true
                    retry: {max_attempts: 2, base_delay: 10ms}
                    timeouts: {connect: %dms, response: %dms, total: %dms}
                    cache: {enabled: false}
                    tls: {http2: %s}
                """.formatted(
                        originCa,
                        upstream.origin(),
                        RESPONSE.toMillis(),
                        RESPONSE.toMillis(),
                        TOTAL.toMillis(),
                        door == Door.ROUTE_JDK));
        Gauges before = Gauges.read(running);
        Client client = new Client(running, door, upstream);
        closing.add(client);

        switch (toxic) {
            case RESET_BEFORE_HEADERS ->
                assertFailed(
                        client.send(toxic.path()), door, "upstream_reset", 502, "connection_terminated", Duration.ZERO);
            case INVALID_STATUS_LINE -> {
                Seen seen = assertFailed(
                        client.send(toxic.path()), door, "upstream_reset", 502, "http_protocol_error", Duration.ZERO);
                assertThat(seen.message()).startsWith("upstream sent an invalid status line");
            }
            case OVERSIZED_HEADERS ->
                assertFailed(
                        client.send(toxic.path()),
                        door,
                        "too_large",
                        502,
                        "http_response_header_section_size",
                        Duration.ZERO);
            case NO_ANSWER ->
                assertFailed(client.send(toxic.path()), door, "timeout", 504, "http_response_timeout", RESPONSE);
            case RESET_AFTER_HEADERS -> {
                // A reset can overtake bytes already sent (the receiver drops what it had not read): then
                // the head never arrived, and it is a reset before headers.
                Seen seen = client.send(toxic.path());
                if (seen.status() == 502) {
                    assertFailed(seen, door, "upstream_reset", 502, "connection_terminated", Duration.ZERO);
                } else {
                    assertCutShort(seen, door, "upstream_reset", Duration.ZERO);
                }
            }
            case SHORT_BODY, CHUNKED_CUT ->
                assertCutShort(client.send(toxic.path()), door, "upstream_reset", Duration.ZERO);
            case SLOW_DRIP -> assertCutShort(client.send(toxic.path()), door, "timeout", TOTAL);
            case RETRY_AFTER_FAR -> {
                Seen first = client.send(toxic.path());
                assertThat(first.status()).as("%s", first).isEqualTo(503);
                assertThat(first.type()).as("%s", first).isNull();
                // The whole upstream now cools down: the next call is refused at once, not held.
                Seen second = client.send(toxic.path());
                assertFailed(second, door, "rate_limited", 429, "http_request_denied", Duration.ZERO);
                if (door.passthrough()) {
                    // The day asked for, capped by max_cooldown (10 minutes by default).
                    assertThat(Long.parseLong(second.retryAfter()))
                            .as("%s", second)
                            .isBetween(590L, 600L);
                }
            }
            case LATENCY_SPIKE -> {
                CompletableFuture<Seen> pending = CompletableFuture.supplyAsync(
                        () -> client.sendUnchecked(toxic.path()),
                        r -> Thread.ofVirtual().start(r));
                assertThat(upstream.awaitArrival(10))
                        .as("the request reached the upstream")
                        .isTrue();
                // java.net.http's connections are not in the gauge (docs/operating.md): only the slot then.
                awaitGauges(
                        running,
                        g -> g.inFlight() == 1 && (door == Door.ROUTE_JDK || g.connectionsOpen() >= 1),
                        "a slot and a connection taken");
                upstream.release();
                Seen seen = pending.get(10, TimeUnit.SECONDS);
                assertThat(seen.status()).as("%s", seen).isEqualTo(200);
                assertThat(seen.body()).as("%s", seen).isEqualTo("ok");
            }
            case LARGE_BODY -> {
                Seen seen = client.send(toxic.path());
                assertThat(seen.status()).as("%s", seen).isEqualTo(200);
                assertThat(seen.body()).as("the whole body").isEqualTo("b".repeat(100_000));
            }
            case TLS_HANDSHAKE_STALL -> {
                // timeouts.connect covers TCP and TLS set-up; nothing was sent, so it is retried once.
                Seen seen = assertFailed(client.send(toxic.path()), door, "timeout", 504, "connection_timeout", TOTAL);
                assertThat(seen.message()).as("%s", seen).isEqualTo("connect timed out (timeouts.connect)");
            }
            case TLS_UNTRUSTED_CERTIFICATE, TLS_IMPOSTOR_ISSUER -> {
                Seen seen = assertFailed(
                        client.send(toxic.path()), door, "tls", 502, "tls_certificate_error", Duration.ZERO);
                assertThat(seen.message()).as("%s", seen).contains("unknown issuer");
            }
            case TLS_WRONG_HOST -> {
                Seen seen = assertFailed(
                        client.send(toxic.path()), door, "tls", 502, "tls_certificate_error", Duration.ZERO);
                assertThat(seen.message()).as("%s", seen).contains("hostname mismatch");
            }
        }

        client.close();
        awaitGauges(
                running,
                g -> g.inFlight() == 0
                        && g.queued() == 0
                        && g.connectionsOpen() == before.connectionsOpen()
                        && g.buffersInUse() <= before.buffersInUse()
                        && g.tunnelsOpen() == 0,
                "back to " + before);
    }

    /** {@code tunnel_idle_timeout} of the tunnel door: a pipe with no bytes either way this long is closed. */
    private static final Duration TUNNEL_IDLE = TOTAL;

    /**
     * The {@code connect: tunnel} door: a plain byte pipe, inside which the client speaks TLS to the
     * origin itself (trusting the origin's CA, checking its name). Sluice sees no HTTP in it, so no
     * fault becomes a typed error: what the client must read is exactly the bytes the upstream sent,
     * then the end of the stream when the upstream ends its side (closed, reset) or when the pipe has
     * been idle for {@code tunnel_idle_timeout}; a TLS fault is the client's own handshake failing.
     * And the tunnel's slot, its connection and its buffers are given back whoever ended it.
     */
    @ParameterizedTest(name = "{0} via TUNNEL")
    @org.junit.jupiter.params.provider.EnumSource(Toxic.class)
    void tunnelPassesEachFaultThroughUntouchedAndLeaksNothing(Toxic toxic) throws Exception {
        FaultUpstream upstream = upstreamFor(toxic, Door.CONNECT);
        closing.add(upstream);
        SluiceServerExtension.Running running =
                sluice.start("""
                upstreams:
                  faulty:
                    base_url: %s
                    allow_private: true
                    connect: tunnel
                    tunnel_idle_timeout: %dms
                    timeouts: {connect: %dms}
                """.formatted(upstream.origin(), TUNNEL_IDLE.toMillis(), RESPONSE.toMillis()));
        Gauges before = Gauges.read(running);
        Tunnel tunnel = new Tunnel(running, upstream);
        String sent = toxic.fault == null ? "" : FaultUpstream.sends(toxic.fault);

        switch (toxic) {
            case RESET_BEFORE_HEADERS, RESET_AFTER_HEADERS -> {
                // The upstream's reset closes the pipe; a reset can overtake bytes already sent.
                Piped seen = tunnel.read(toxic.path(), 0);
                assertThat(sent).as("%s", seen).startsWith(seen.bytes());
                assertEnded(seen, Duration.ZERO);
            }
            case NO_ANSWER -> {
                Piped seen = tunnel.read(toxic.path(), 0);
                assertThat(seen.bytes()).as("%s", seen).isEmpty();
                assertEnded(seen, TUNNEL_IDLE);
            }
            case SLOW_DRIP -> {
                // Bytes keep coming, so the pipe is never idle: the client gives up after five of
                // them, and Sluice must then close the upstream side that is still dripping.
                Piped seen = tunnel.read(toxic.path(), sent.length() + 5);
                assertThat(seen.bytes()).as("%s", seen).isEqualTo(sent + "ddddd");
                assertThat(seen.took()).as("%s", seen).isLessThan(MARGIN.multipliedBy(2));
            }
            case SHORT_BODY, CHUNKED_CUT, INVALID_STATUS_LINE, OVERSIZED_HEADERS, LARGE_BODY -> {
                // No limit or check of Sluice's applies inside a tunnel: the client's own parser judges.
                Piped seen = tunnel.read(toxic.path(), 0);
                assertThat(seen.bytes()).as("%s", seen).isEqualTo(sent);
                assertEnded(seen, Duration.ZERO);
            }
            case RETRY_AFTER_FAR -> {
                Piped first = tunnel.read(toxic.path(), 0);
                assertThat(first.bytes()).as("%s", first).isEqualTo(sent);
                // Sluice cannot read the 503 inside the tunnel, so no cooldown follows it.
                Piped second = tunnel.read(toxic.path(), 0);
                assertThat(second.bytes()).as("%s", second).isEqualTo(sent);
            }
            case LATENCY_SPIKE -> {
                CompletableFuture<Piped> pending = CompletableFuture.supplyAsync(
                        () -> tunnel.readUnchecked(toxic.path()),
                        r -> Thread.ofVirtual().start(r));
                assertThat(upstream.awaitArrival(10))
                        .as("the request reached the upstream")
                        .isTrue();
                awaitGauges(running, g -> g.inFlight() == 1 && g.tunnelsOpen() == 1, "a slot and a tunnel taken");
                upstream.release();
                Piped seen = pending.get(10, TimeUnit.SECONDS);
                assertThat(seen.bytes()).as("%s", seen).isEqualTo(sent);
            }
            case TLS_HANDSHAKE_STALL -> {
                // Sluice's idle timeout, not the client's own read timeout (10 s), ends the handshake.
                Piped seen = tunnel.read(toxic.path(), 0);
                assertThat(seen.end()).as("%s", seen).startsWith("handshake: ");
                assertEnded(seen, TUNNEL_IDLE);
            }
            case TLS_UNTRUSTED_CERTIFICATE, TLS_IMPOSTOR_ISSUER, TLS_WRONG_HOST -> {
                // End to end: the client refuses the origin's certificate; Sluice never saw it.
                Piped seen = tunnel.read(toxic.path(), 0);
                assertThat(seen.end()).as("%s", seen).startsWith("handshake: javax.net.ssl.SSLHandshakeException");
                if (toxic == Toxic.TLS_WRONG_HOST) assertThat(seen.end()).contains("localhost");
                assertThat(seen.took()).as("%s", seen).isLessThan(MARGIN);
                assertThat(upstream.awaitArrival(0))
                        .as("no request reached the upstream")
                        .isFalse();
            }
        }

        awaitGauges(
                running,
                g -> g.inFlight() == 0
                        && g.queued() == 0
                        && g.connectionsOpen() == before.connectionsOpen()
                        && g.buffersInUse() <= before.buffersInUse()
                        && g.tunnelsOpen() == 0,
                "back to " + before);
    }

    /** The pipe ended from Sluice's or the upstream's side (not the client's), within {@code deadline} plus the margin. */
    private static void assertEnded(Piped seen, Duration deadline) {
        assertThat(seen.end()).as("%s", seen).isNotEqualTo(Piped.CLIENT_CLOSED);
        assertThat(seen.took()).as("%s", seen).isLessThan(deadline.plus(MARGIN));
    }

    /**
     * What a client read through a tunnel: the origin's plaintext, how the stream ended ({@code eof},
     * the exception, {@code handshake: } and the exception, or {@link #CLIENT_CLOSED}), and when.
     */
    record Piped(String bytes, String end, Duration took) {
        static final String CLIENT_CLOSED = "client closed";

        @Override
        public String toString() {
            String shown = bytes.length() > 200 ? bytes.substring(0, 200) + "…(" + bytes.length() + ")" : bytes;
            return "Piped[bytes=" + shown + ", end=" + end + ", took=" + took + "]";
        }
    }

    /** A client of the tunnel door: {@code CONNECT}, then TLS to the origin through the pipe, one request per tunnel. */
    record Tunnel(SluiceServerExtension.Running running, FaultUpstream upstream) {
        Piped readUnchecked(String path) {
            try {
                return read(path, 0);
            } catch (Exception e) {
                throw new IllegalStateException(e);
            }
        }

        /** Sends {@code GET path} and reads to the end, or until {@code stopAfter} bytes (if not 0), then closes. */
        Piped read(String path, int stopAfter) throws Exception {
            long start = System.nanoTime();
            String authority = "localhost:" + upstream.port();
            try (java.net.Socket socket = new java.net.Socket("127.0.0.1", running.dataPort())) {
                // A bound on each read, not a wait for behaviour: every end the test expects comes sooner.
                socket.setSoTimeout(10_000);
                socket.getOutputStream()
                        .write(("CONNECT " + authority + " HTTP/1.1\r\nHost: " + authority + "\r\n\r\n")
                                .getBytes(StandardCharsets.US_ASCII));
                assertThat(head(socket.getInputStream())).startsWith("HTTP/1.1 200 ");
                var tls = (javax.net.ssl.SSLSocket) TlsOrigin.trusting(ORIGIN.ca.certificate())
                        .getSocketFactory()
                        .createSocket(socket, "localhost", upstream.port(), true);
                var parameters = tls.getSSLParameters();
                parameters.setEndpointIdentificationAlgorithm("HTTPS");
                tls.setSSLParameters(parameters);
                try {
                    tls.startHandshake();
                } catch (IOException e) {
                    return new Piped("", "handshake: " + e, Duration.ofNanos(System.nanoTime() - start));
                }
                tls.getOutputStream()
                        .write(("GET " + path + " HTTP/1.1\r\nHost: " + authority + "\r\n\r\n")
                                .getBytes(StandardCharsets.US_ASCII));
                var bytes = new java.io.ByteArrayOutputStream();
                String end;
                try {
                    InputStream in = tls.getInputStream();
                    byte[] buffer = new byte[8192];
                    while (true) {
                        int want = stopAfter > 0 ? Math.min(buffer.length, stopAfter - bytes.size()) : buffer.length;
                        if (want == 0) {
                            end = Piped.CLIENT_CLOSED;
                            break;
                        }
                        int n = in.read(buffer, 0, want);
                        if (n < 0) {
                            end = "eof";
                            break;
                        }
                        bytes.write(buffer, 0, n);
                    }
                } catch (IOException e) {
                    end = e.toString();
                }
                return new Piped(
                        bytes.toString(StandardCharsets.ISO_8859_1), end, Duration.ofNanos(System.nanoTime() - start));
            }
        }

        private static String head(InputStream in) throws IOException {
            StringBuilder head = new StringBuilder();
            int b;
            while (!head.toString().endsWith("\r\n\r\n") && (b = in.read()) != -1) head.append((char) b);
            return head.toString();
        }
    }

    private static FaultUpstream upstreamFor(Toxic toxic, Door door) throws IOException {
        return switch (toxic) {
            case TLS_HANDSHAKE_STALL -> FaultUpstream.stallingHandshake();
            case TLS_UNTRUSTED_CERTIFICATE -> {
                HeldCertificate stranger = new HeldCertificate.Builder()
                        .certificateAuthority(0)
                        .commonName("a CA nobody trusts")
                        .build();
                yield FaultUpstream.tls(
                        new HeldCertificate.Builder()
                                .addSubjectAlternativeName("localhost")
                                .signedBy(stranger)
                                .build(),
                        stranger);
            }
            case TLS_IMPOSTOR_ISSUER -> {
                TlsOrigin impostor = new TlsOrigin(); // its CA has the trusted one's name, not its key
                yield FaultUpstream.tls(impostor.leaf, impostor.ca);
            }
            case TLS_WRONG_HOST ->
                FaultUpstream.tls(
                        new HeldCertificate.Builder()
                                .addSubjectAlternativeName("elsewhere.example")
                                .commonName("elsewhere.example")
                                .signedBy(ORIGIN.ca)
                                .build(),
                        ORIGIN.ca);
            default -> door.tls ? FaultUpstream.tls(ORIGIN.leaf, ORIGIN.ca) : FaultUpstream.cleartext();
        };
    }

    /** Sluice failed the request itself: the typed error, and for passthrough its status and Proxy-Status. */
    private static Seen assertFailed(
            Seen seen, Door door, String type, int status, String proxyStatus, Duration deadline) {
        assertThat(seen.type()).as("%s", seen).isEqualTo(type);
        assertThat(seen.took()).as("%s", seen).isLessThan(deadline.plus(MARGIN));
        if (door.passthrough()) {
            assertThat(seen.status()).as("%s", seen).isEqualTo(status);
            assertThat(seen.proxyStatus()).as("%s", seen).startsWith("sluice; error=" + proxyStatus);
        }
        return seen;
    }

    /**
     * The fault came after the head: a batch item ends as {@code type}; a passthrough client already
     * has the upstream's {@code 200}, so what it must see is a body that fails, never one that looks
     * complete.
     */
    private static void assertCutShort(Seen seen, Door door, String type, Duration deadline) {
        assertThat(seen.took()).as("%s", seen).isLessThan(deadline.plus(MARGIN));
        if (door.passthrough()) {
            assertThat(seen.status()).as("%s", seen).isEqualTo(200);
            assertThat(seen.bodyError()).as("the body must fail: %s", seen).isNotNull();
        } else {
            assertThat(seen.type()).as("%s", seen).isEqualTo(type);
        }
    }

    /** Waits, at most 10 s, for Sluice's gauges to satisfy {@code condition}; polls, since they settle on IO threads. */
    private static void awaitGauges(
            SluiceServerExtension.Running running, java.util.function.Predicate<Gauges> condition, String what)
            throws InterruptedException {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
        Gauges last = Gauges.read(running);
        while (!condition.test(last)) {
            if (System.nanoTime() > deadline) throw new AssertionError("gauges never came " + what + ": " + last);
            TimeUnit.MILLISECONDS.sleep(20);
            last = Gauges.read(running);
        }
    }

    /** Sluice's own gauges, scraped from {@code /metrics} as an operator would. */
    record Gauges(double inFlight, double queued, double connectionsOpen, double buffersInUse, double tunnelsOpen) {
        static Gauges read(SluiceServerExtension.Running running) {
            String scrape = TestHttp.get(running.admin("/metrics")).body();
            return new Gauges(
                    sample(scrape, "sluice_in_flight", "upstream=\"faulty\""),
                    sample(scrape, "sluice_queued", "upstream=\"faulty\""),
                    sample(scrape, "sluice_upstream_connections_open", null),
                    sample(scrape, "sluice_buffers_in_use", null),
                    sample(scrape, "sluice_tunnels_open", null));
        }

        private static double sample(String scrape, String name, String label) {
            Pattern line = Pattern.compile("(?m)^" + Pattern.quote(name) + "(?:\\{([^}]*)\\})? (\\S+)$");
            Matcher m = line.matcher(scrape);
            while (m.find()) {
                if (label == null || (m.group(1) != null && m.group(1).contains(label)))
                    return Double.parseDouble(m.group(2));
            }
            throw new AssertionError(name + " not in /metrics");
        }
    }

    /** An application's client for one door; closed after the case so no connection of its own stays open. */
    static final class Client implements AutoCloseable {
        private final SluiceServerExtension.Running running;
        private final Door door;
        private final FaultUpstream upstream;
        private final HttpClient http;

        Client(SluiceServerExtension.Running running, Door door, FaultUpstream upstream) throws Exception {
            this.running = running;
            this.door = door;
            this.upstream = upstream;
            HttpClient.Builder builder =
                    HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1).connectTimeout(Duration.ofSeconds(10));
            if (door == Door.FORWARD || door == Door.CONNECT) {
                builder.proxy(ProxySelector.of(new InetSocketAddress("127.0.0.1", running.dataPort())));
            }
            if (door == Door.CONNECT) builder.sslContext(trustingSluice(running));
            this.http = builder.build();
        }

        Seen sendUnchecked(String path) {
            try {
                return send(path);
            } catch (Exception e) {
                throw new IllegalStateException(e);
            }
        }

        Seen send(String path) throws Exception {
            long start = System.nanoTime();
            HttpRequest request = switch (door) {
                case BATCH, BATCH_TLS ->
                    HttpRequest.newBuilder(running.data("/v1/batch"))
                            .header("Content-Type", "application/json")
                            .POST(HttpRequest.BodyPublishers.ofString(
                                    "{\"requests\": [{\"id\": \"a\", \"url\": \"%s\"}]}"
                                            .formatted(upstream.origin() + path)))
                            .build();
                case ROUTE, ROUTE_TLS, ROUTE_JDK ->
                    HttpRequest.newBuilder(running.data("/faulty" + path)).build();
                case FORWARD, CONNECT ->
                    HttpRequest.newBuilder(URI.create(upstream.origin() + path)).build();
            };
            HttpResponse<InputStream> response = http.send(request, HttpResponse.BodyHandlers.ofInputStream());
            String body = null;
            String bodyError = null;
            try (InputStream in = response.body()) {
                body = new String(in.readAllBytes(), StandardCharsets.UTF_8);
            } catch (IOException e) {
                bodyError = e.toString();
            }
            Duration took = Duration.ofNanos(System.nanoTime() - start);
            if (!door.passthrough()) {
                assertThat(response.statusCode()).as("batch answer %s", body).isEqualTo(200);
                JsonNode item = TestHttp.JSON.readTree(body).get("responses").get(0);
                JsonNode error = item.get("error");
                return new Seen(
                        item.path("status").asInt(),
                        error == null ? null : error.get("type").asText(),
                        error == null ? null : error.get("message").asText(),
                        null,
                        null,
                        item.path("body").asText(null),
                        null,
                        took);
            }
            String proxyStatus = response.headers().firstValue("Proxy-Status").orElse(null);
            String type = null;
            String message = null;
            if (proxyStatus != null && body != null) {
                JsonNode error = TestHttp.JSON.readTree(body).get("error");
                type = error.get("type").asText();
                message = error.get("message").asText();
            }
            return new Seen(
                    response.statusCode(),
                    type,
                    message,
                    proxyStatus,
                    response.headers().firstValue("Retry-After").orElse(null),
                    body,
                    bodyError,
                    took);
        }

        private static SSLContext trustingSluice(SluiceServerExtension.Running running) throws Exception {
            String pem = TestHttp.get(running.admin("/api/tls/ca.pem")).body();
            X509Certificate ca = (X509Certificate) CertificateFactory.getInstance("X.509")
                    .generateCertificate(new java.io.ByteArrayInputStream(pem.getBytes(StandardCharsets.US_ASCII)));
            return TlsOrigin.trusting(ca);
        }

        @Override
        public void close() {
            http.shutdownNow();
        }
    }
}
