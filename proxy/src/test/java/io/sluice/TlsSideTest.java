package io.sluice;

import static org.assertj.core.api.Assertions.assertThat;

import io.sluice.config.ConfigLoader;
import io.sluice.testing.TlsOrigin;
import io.sluice.testing.Upstream;
import io.sluice.tls.CertificateAuthority;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.PrintStream;
import java.net.Socket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import mockwebserver3.MockWebServer;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Sluice's TLS side (Conscrypt, the trust store, the profiles' contexts, the CA) is made when first
 * needed: what needs it waits for it, and what a bad file failed at start still fails it. The side's
 * work is held back here ({@link SluiceBuilder#tlsMakers}) and released by the test.
 */
class TlsSideTest {
    @TempDir
    Path dir;

    private final List<Runnable> held = new java.util.concurrent.CopyOnWriteArrayList<>();
    /** Counts down as work is held back. */
    private final java.util.concurrent.Semaphore asked = new java.util.concurrent.Semaphore(0);

    private final List<AutoCloseable> toClose = new ArrayList<>();
    private final HttpClient client = HttpClient.newBuilder()
            .version(HttpClient.Version.HTTP_1_1)
            .connectTimeout(Duration.ofSeconds(10))
            .build();

    @AfterEach
    void close() throws Exception {
        for (AutoCloseable closeable : toClose.reversed()) closeable.close();
    }

    @Test
    void nothingOfItIsMadeUntilARequestNeedsIt() throws Exception {
        CertificateAuthority.loadOrGenerate(dir.resolve("ca"), Clock.systemUTC());
        MockWebServer plain = closing(new MockWebServer());
        plain.start();
        plain.enqueue(Upstream.ok("text/plain", "cleartext"));
        Sluice sluice = startHeld("""
                upstreams:
                  plain: {base_url: "http://127.0.0.1:%d", allow_private: true}
                """.formatted(plain.getPort()));

        assertThat(get(data(sluice, "/plain/a")).get(10, TimeUnit.SECONDS).body())
                .isEqualTo("cleartext");
        assertThat(get(admin(sluice, "/metrics")).get(10, TimeUnit.SECONDS).statusCode())
                .isEqualTo(200);
        assertThat(held).isEmpty();

        CompletableFuture<HttpResponse<String>> pem = get(admin(sluice, "/api/tls/ca.pem"));
        assertThat(asked.tryAcquire(10, TimeUnit.SECONDS)).isTrue();
        assertThat(held).hasSize(1);
        release();
        assertThat(pem.get(10, TimeUnit.SECONDS).statusCode()).isEqualTo(200);
    }

    @Test
    void anHttpsRequestSentBeforeTheTlsSideIsMadeWaitsForItAndSucceeds() throws Exception {
        TlsOrigin origin = new TlsOrigin();
        MockWebServer tls = origin.start(closing(new MockWebServer()));
        tls.enqueue(Upstream.ok("text/plain", "over TLS"));
        MockWebServer plain = closing(new MockWebServer());
        plain.start();
        plain.enqueue(Upstream.ok("text/plain", "cleartext"));
        Sluice sluice = startHeld("""
                upstreams:
                  secure:
                    base_url: https://localhost:%d
                    allow_private: true
                    tls: {ca_file: "%s"}
                  plain:
                    base_url: http://127.0.0.1:%d
                    allow_private: true
                """.formatted(tls.getPort(), origin.writeCa(dir), plain.getPort()));

        CompletableFuture<HttpResponse<String>> secure = get(data(sluice, "/secure/a"));
        assertThat(asked.tryAcquire(10, TimeUnit.SECONDS)).isTrue();
        // A request sent after it, to a cleartext origin, is answered while the first still waits.
        assertThat(get(data(sluice, "/plain/b")).get(10, TimeUnit.SECONDS).body())
                .isEqualTo("cleartext");
        assertThat(secure).isNotDone();
        assertThat(tls.getRequestCount()).isZero();

        release();

        HttpResponse<String> answer = secure.get(10, TimeUnit.SECONDS);
        assertThat(answer.statusCode()).isEqualTo(200);
        assertThat(answer.body()).isEqualTo("over TLS");
    }

    @Test
    void aCloseDelimitedAnswerBeforeTheTlsSideIsMadeWaitsForItWithoutHoldingTheIoThread() throws Exception {
        // java.net.http, which reads such an answer again, is made with the TLS contexts.
        CertificateAuthority.loadOrGenerate(dir.resolve("ca"), Clock.systemUTC());
        java.net.ServerSocket odd =
                closing(new java.net.ServerSocket(0, 50, java.net.InetAddress.getLoopbackAddress()));
        Thread.ofVirtual().start(() -> answerToClose(odd, "the whole body"));
        MockWebServer plain = closing(new MockWebServer());
        plain.start();
        plain.enqueue(Upstream.ok("text/plain", "cleartext"));
        Sluice sluice = startHeld("""
                server: {io_threads: 1}
                upstreams:
                  odd: {base_url: "http://127.0.0.1:%d", allow_private: true}
                  plain: {base_url: "http://127.0.0.1:%d", allow_private: true}
                """.formatted(odd.getLocalPort(), plain.getPort()));

        CompletableFuture<HttpResponse<String>> fallback = get(data(sluice, "/odd/a"));
        assertThat(asked.tryAcquire(10, TimeUnit.SECONDS)).isTrue();
        // The one IO thread still serves while that request waits.
        assertThat(get(data(sluice, "/plain/b")).get(10, TimeUnit.SECONDS).body())
                .isEqualTo("cleartext");
        assertThat(fallback).isNotDone();

        release();

        assertThat(fallback.get(10, TimeUnit.SECONDS).body()).isEqualTo("the whole body");
    }

    /** Answers each connection's request with a body that runs to the connection's close. */
    private static void answerToClose(java.net.ServerSocket server, String body) {
        while (!server.isClosed()) {
            try (Socket socket = server.accept()) {
                InputStream in = socket.getInputStream();
                int matched = 0;
                while (matched < 4) {
                    int b = in.read();
                    if (b < 0) break;
                    matched = (b == '\r' && matched % 2 == 0) || (b == '\n' && matched % 2 == 1) ? matched + 1 : 0;
                }
                socket.getOutputStream()
                        .write(("HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\n\r\n" + body)
                                .getBytes(StandardCharsets.US_ASCII));
            } catch (IOException e) {
                // closed at the end of the test
            }
        }
    }

    @Test
    void theCaInCaDirIsLoadedWhenFirstAskedForAndServedOnceItIs() throws Exception {
        Path caDir = dir.resolve("ca");
        CertificateAuthority.loadOrGenerate(caDir, Clock.systemUTC());
        Sluice sluice = startHeld("");

        CompletableFuture<HttpResponse<String>> pem = get(admin(sluice, "/api/tls/ca.pem"));
        assertThat(asked.tryAcquire(10, TimeUnit.SECONDS)).isTrue();
        assertThat(get(admin(sluice, "/healthz")).get(10, TimeUnit.SECONDS).statusCode())
                .isEqualTo(200);
        assertThat(pem).isNotDone();

        release();

        assertThat(pem.get(10, TimeUnit.SECONDS).body())
                .startsWith("-----BEGIN CERTIFICATE-----")
                .isEqualTo(Files.readString(CertificateAuthority.certificateFileIn(caDir)));
    }

    @Test
    void aFirstStartGeneratesTheCaBeforeItListens() throws Exception {
        Path caDir = dir.resolve("ca");
        Sluice sluice = startHeld("");

        // Its file exists when the start prints its name; nothing held back was needed for it.
        assertThat(sluice.caCertificateFile()).contains(CertificateAuthority.certificateFileIn(caDir));
        assertThat(CertificateAuthority.certificateFileIn(caDir)).exists();
        HttpResponse<String> pem = get(admin(sluice, "/api/tls/ca.pem")).get(10, TimeUnit.SECONDS);
        assertThat(pem.body()).isEqualTo(Files.readString(CertificateAuthority.certificateFileIn(caDir)));
        assertThat(held).isEmpty();
    }

    @Test
    void aCaDirHoldingTheKeyAloneFailsTheStartAsAConfigError() throws Exception {
        Path caDir = Files.createDirectories(dir.resolve("ca"));
        Files.writeString(caDir.resolve("sluice-ca-key.pem"), "not read at start");
        var err = new ByteArrayOutputStream();

        int code = Main.run(
                new String[] {"--config", config("").toString()}, print(new ByteArrayOutputStream()), print(err));

        assertThat(code).isEqualTo(2);
        assertThat(err.toString(StandardCharsets.UTF_8))
                .startsWith("sluice: config error: tls.ca_dir: CA directory " + caDir + " has ")
                .contains("but not " + CertificateAuthority.certificateFileIn(caDir));
    }

    @Test
    void anUnusableCaInCaDirFailsInterceptionNotTheStart() throws Exception {
        Path caDir = Files.createDirectories(dir.resolve("ca"));
        // Two CAs' halves: each file reads, but the key is not the certificate's.
        Path elsewhere = dir.resolve("other");
        CertificateAuthority.loadOrGenerate(caDir, Clock.systemUTC());
        CertificateAuthority.loadOrGenerate(elsewhere, Clock.systemUTC());
        Files.copy(
                elsewhere.resolve("sluice-ca-key.pem"),
                caDir.resolve("sluice-ca-key.pem"),
                java.nio.file.StandardCopyOption.REPLACE_EXISTING);
        // Interception needs no origin until a request comes through the tunnel: none listens here.
        Sluice sluice = start("""
                upstreams:
                  local: {match: ["https://localhost:4433"], allow_private: true}
                """, SluiceBuilder::new);

        String answer = connectAnswer(sluice, "localhost:4433");
        assertThat(answer).startsWith("HTTP/1.1 502");
        assertThat(answer).contains("interception is unavailable").contains("does not match");
        assertThat(answer).containsIgnoringCase("Proxy-Status: sluice; error=tls");
        HttpResponse<String> pem = get(admin(sluice, "/api/tls/ca.pem")).get(10, TimeUnit.SECONDS);
        assertThat(pem.statusCode()).isEqualTo(503);
        assertThat(pem.body()).contains("does not match");
        assertThat(sluice.certificateAuthority()).isCompletedExceptionally();
    }

    /** Starts Sluice on {@code config} (ports 0, a CA directory of its own), its TLS side held back. */
    private Sluice startHeld(String config) throws IOException {
        return start(
                config,
                cfg -> Sluice.builder(cfg).tlsMakers(task -> {
                    held.add(task);
                    asked.release();
                }));
    }

    private Sluice start(
            String config, java.util.function.Function<io.sluice.config.SluiceConfig, SluiceBuilder> builder)
            throws IOException {
        Sluice sluice =
                builder.apply(new ConfigLoader(Map.of()).load(config(config))).start();
        toClose.add(sluice);
        return sluice;
    }

    private Path config(String rest) throws IOException {
        return Files.writeString(
                dir.resolve("sluice.yaml"),
                "listen: 127.0.0.1:0\nadmin: {listen: 127.0.0.1:0}\ntls: {ca_dir: \"" + dir.resolve("ca") + "\"}\n"
                        + rest);
    }

    /** Runs the TLS side's held work on this thread. */
    private void release() {
        assertThat(held).isNotEmpty();
        held.forEach(Runnable::run);
        held.clear();
    }

    private CompletableFuture<HttpResponse<String>> get(URI uri) {
        return client.sendAsync(HttpRequest.newBuilder(uri).build(), HttpResponse.BodyHandlers.ofString());
    }

    private static URI data(Sluice sluice, String path) {
        return URI.create("http://127.0.0.1:" + sluice.dataAddress().getPort() + path);
    }

    private static URI admin(Sluice sluice, String path) {
        return URI.create("http://127.0.0.1:" + sluice.adminAddress().getPort() + path);
    }

    private <T extends AutoCloseable> T closing(T closeable) {
        toClose.add(closeable);
        return closeable;
    }

    private static String connectAnswer(Sluice sluice, String target) throws IOException {
        try (Socket socket = new Socket("127.0.0.1", sluice.dataAddress().getPort())) {
            socket.setSoTimeout(10_000);
            socket.getOutputStream()
                    .write(("CONNECT " + target + " HTTP/1.1\r\nHost: " + target + "\r\nConnection: close\r\n\r\n")
                            .getBytes(StandardCharsets.US_ASCII));
            InputStream in = socket.getInputStream();
            return new String(in.readAllBytes(), StandardCharsets.UTF_8);
        }
    }

    private static PrintStream print(ByteArrayOutputStream out) {
        return new PrintStream(out, true, StandardCharsets.UTF_8);
    }
}
