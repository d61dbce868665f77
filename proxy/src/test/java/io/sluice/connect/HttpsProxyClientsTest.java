package io.sluice.connect;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import io.sluice.testing.SluiceServerExtension;
import io.sluice.testing.TestHttp;
import io.sluice.testing.TlsOrigin;
import java.io.IOException;
import java.io.InputStream;
import java.net.URISyntaxException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import mockwebserver3.Dispatcher;
import mockwebserver3.MockResponse;
import mockwebserver3.MockWebServer;
import mockwebserver3.RecordedRequest;
import okhttp3.tls.HeldCertificate;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code HTTPS_PROXY} pointed at Sluice by real clients in other languages (curl, Python
 * {@code requests}, Node's undici), each trusting Sluice's CA the way its users would: the request
 * reaches a real TLS upstream whose private CA only Sluice trusts ({@code tls.ca_file}), and a client
 * that was not given Sluice's CA fails its own verification before anything is sent upstream.
 *
 * <p>A client missing from the machine skips its tests locally; under CI ({@code CI=true}) it fails
 * them, since {@code .ci/run} installs every one.
 */
class HttpsProxyClientsTest {
    private static final Duration CLIENT_TIMEOUT = Duration.ofSeconds(60);
    private static final Path PYTHON = Path.of("/usr/bin/python3");

    @RegisterExtension
    final SluiceServerExtension sluice = new SluiceServerExtension().tlsProvider(tlsProvider());

    /** Whose TLS engine Sluice uses; the Conscrypt variant of this test overrides it. */
    io.sluice.config.TlsProvider tlsProvider() {
        return io.sluice.config.TlsProvider.JDK;
    }

    @TempDir
    Path dir;

    private final TlsOrigin origin = new TlsOrigin();
    private final HeldCertificate originCa = origin.ca;
    private final MockWebServer upstream = new MockWebServer();
    private SluiceServerExtension.Running running;

    @BeforeEach
    void startTlsUpstreamAndSluice() throws Exception {
        upstream.setDispatcher(new Dispatcher() {
            @Override
            public MockResponse dispatch(RecordedRequest request) {
                return new MockResponse.Builder()
                        .body("hello " + request.getTarget())
                        .build();
            }
        });
        origin.start(upstream);

        Path originCaFile = Files.writeString(dir.resolve("origin-ca.pem"), originCa.certificatePem());
        running = sluice.start("""
                tls: {ca_dir: "%s", ca_file: "%s"}
                upstreams:
                  origin:
                    match: ["https://localhost:%d"]
                    allow_private: true
                    retry: {max_attempts: 1}
                """.formatted(dir.resolve("ca"), originCaFile, upstream.getPort()));
    }

    @AfterEach
    void stopUpstream() {
        upstream.close();
    }

    // --- curl

    @Test
    void curlWithSluicesCaFetchesThroughTheProxy() throws Exception {
        require(ClientProcess.available("curl", "--version"), "curl (apt-get install curl)");

        ClientProcess curl = run(
                List.of(
                        "curl",
                        "-sS",
                        "-v",
                        "-i",
                        "-x",
                        proxy(),
                        "--cacert",
                        sluiceCa().toString(),
                        url("/curl?x=1")),
                Map.of());

        assertThat(curl.exitCode()).as("%s", curl).isZero();
        assertThat(curl.stdout()).as("%s", curl).startsWith("HTTP/1.1 200").endsWith("hello /curl?x=1");
        assertThat(header(curl.stdout(), "cache-status")).as("%s", curl).startsWith("sluice");
        assertThat(header(curl.stdout(), "server-timing")).as("%s", curl).isNotEmpty();
        // The CONNECT answer as curl saw it: a 200 it accepted, then its own verified TLS handshake.
        assertThat(curl.stderr())
                .as("%s", curl)
                .contains("CONNECT localhost:" + upstream.getPort())
                .containsPattern("< HTTP/1\\.[01] 200")
                .contains("SSL certificate verify ok");
        assertReachedUpstreamOverTls("/curl?x=1");
    }

    @Test
    void curlWithoutSluicesCaFailsVerificationAndNothingIsSent() throws Exception {
        require(ClientProcess.available("curl", "--version"), "curl (apt-get install curl)");

        ClientProcess curl = run(List.of("curl", "-sS", "-x", proxy(), url("/never")), Map.of());

        assertThat(curl.exitCode()).as("%s", curl).isEqualTo(60); // CURLE_PEER_FAILED_VERIFICATION
        assertThat(curl.stderr()).as("%s", curl).contains("certificate");
        assertThat(upstream.getRequestCount()).isZero();
    }

    // --- Python requests

    @Test
    void pythonRequestsSessionSendsSeveralRequestsThroughOneTunnel() throws Exception {
        require(pythonWithRequests(), "/usr/bin/python3 with requests (apt-get install python3-requests)");

        ClientProcess python = run(
                List.of(
                        PYTHON.toString(),
                        script("/python/https_proxy_client.py"),
                        url("/py/1"),
                        url("/py/2"),
                        url("/py/3")),
                Map.of("HTTPS_PROXY", proxy(), "REQUESTS_CA_BUNDLE", sluiceCa().toString()));

        JsonNode out = json(python);
        assertThat(out.has("error")).as("%s", python).isFalse();
        assertResponses(out, python, "/py/1", "/py/2", "/py/3");
        // http.client sends CONNECT as HTTP/1.0; the tunnel it opened served all three requests.
        assertThat(out.path("connections").asInt()).as("%s", python).isEqualTo(1);
        for (String path : List.of("/py/1", "/py/2", "/py/3")) assertReachedUpstreamOverTls(path);
    }

    @Test
    void pythonRequestsWithoutSluicesCaFailsVerificationAndNothingIsSent() throws Exception {
        require(pythonWithRequests(), "/usr/bin/python3 with requests (apt-get install python3-requests)");

        ClientProcess python = run(
                List.of(PYTHON.toString(), script("/python/https_proxy_client.py"), url("/never")),
                Map.of("HTTPS_PROXY", proxy()));

        JsonNode out = json(python);
        assertThat(out.path("error").asText()).as("%s", python).isEqualTo("ssl");
        assertThat(out.path("message").asText()).as("%s", python).contains("CERTIFICATE_VERIFY_FAILED");
        assertThat(upstream.getRequestCount()).isZero();
    }

    // --- Node with undici

    @Test
    void nodeUndiciEnvHttpProxyAgentFetchesThroughTheProxy() throws Exception {
        Path node = nodeClient();

        ClientProcess client = run(
                List.of("node", node.resolve("client.mjs").toString(), url("/node/1"), url("/node/2")),
                Map.of("HTTPS_PROXY", proxy(), "NODE_EXTRA_CA_CERTS", sluiceCa().toString()));

        JsonNode out = json(client);
        assertThat(out.has("error")).as("%s", client).isFalse();
        assertResponses(out, client, "/node/1", "/node/2");
        assertReachedUpstreamOverTls("/node/1");
        assertReachedUpstreamOverTls("/node/2");
    }

    @Test
    void nodeUndiciWithoutSluicesCaFailsVerificationAndNothingIsSent() throws Exception {
        Path node = nodeClient();

        ClientProcess client = run(
                List.of("node", node.resolve("client.mjs").toString(), url("/never")), Map.of("HTTPS_PROXY", proxy()));

        JsonNode out = json(client);
        // OpenSSL's verdict on a chain ending in a CA it does not know, whichever way it is sent.
        assertThat(out.path("error").asText())
                .as("%s", client)
                .isIn(
                        "UNABLE_TO_VERIFY_LEAF_SIGNATURE",
                        "UNABLE_TO_GET_ISSUER_CERT_LOCALLY",
                        "SELF_SIGNED_CERT_IN_CHAIN");
        assertThat(upstream.getRequestCount()).isZero();
    }

    // --- helpers

    private String proxy() {
        return "http://127.0.0.1:" + running.dataPort();
    }

    private String url(String path) {
        return "https://localhost:" + upstream.getPort() + path;
    }

    /** The CA certificate Sluice wrote in {@code tls.ca_dir}: the file an operator hands to clients. */
    private Path sluiceCa() throws Exception {
        Path file = dir.resolve("ca").resolve("sluice-ca.pem");
        assertThat(Files.readString(file))
                .isEqualTo(TestHttp.get(running.admin("/api/tls/ca.pem")).body());
        return file;
    }

    private ClientProcess run(List<String> command, Map<String, String> env) throws Exception {
        return ClientProcess.run(command, env, dir, CLIENT_TIMEOUT);
    }

    private void assertReachedUpstreamOverTls(String target) throws InterruptedException {
        RecordedRequest request = upstream.takeRequest(5, TimeUnit.SECONDS);
        assertThat(request).as("upstream request for %s", target).isNotNull();
        assertThat(request.getTarget()).isEqualTo(target);
        assertThat(request.getHandshake()).as("TLS handshake of %s", target).isNotNull();
    }

    private static void assertResponses(JsonNode out, ClientProcess client, String... paths) {
        JsonNode responses = out.path("responses");
        assertThat(responses.size()).as("%s", client).isEqualTo(paths.length);
        for (int i = 0; i < paths.length; i++) {
            JsonNode r = responses.get(i);
            assertThat(r.path("status").asInt()).as("%s", client).isEqualTo(200);
            assertThat(r.path("body").asText()).as("%s", client).isEqualTo("hello " + paths[i]);
            assertThat(r.path("cache_status").asText()).as("%s", client).startsWith("sluice");
            assertThat(r.path("server_timing").asText()).as("%s", client).isNotEmpty();
        }
    }

    private static JsonNode json(ClientProcess client) {
        assertThat(client.exitCode()).as("%s", client).isZero();
        try {
            return TestHttp.JSON.readTree(client.stdout());
        } catch (IOException e) {
            throw new AssertionError("not JSON: " + client, e);
        }
    }

    /** The value of the first {@code name} header in curl's {@code -i} output, or "". */
    private static String header(String response, String name) {
        return response.lines()
                .filter(l -> l.regionMatches(true, 0, name + ":", 0, name.length() + 1))
                .map(l -> l.substring(name.length() + 1).strip())
                .findFirst()
                .orElse("");
    }

    private String script(String resource) throws IOException {
        Path file = dir.resolve(Path.of(resource).getFileName().toString());
        try (InputStream in = HttpsProxyClientsTest.class.getResourceAsStream(resource)) {
            Files.copy(in, file, StandardCopyOption.REPLACE_EXISTING);
        }
        return file.toString();
    }

    /** Locally a missing client skips its test; under CI it fails it, since .ci/run installs it. */
    private static void require(boolean present, String what) {
        io.sluice.testing.RequiredTool.require(present, what);
    }

    private static boolean pythonWithRequests() {
        return Files.isExecutable(PYTHON) && ClientProcess.available(PYTHON.toString(), "-c", "import requests");
    }

    /**
     * The Node client with undici installed from the committed lock file, in {@code target/} beside
     * the test classes; installed once and reused while the lock file is unchanged.
     */
    private static synchronized Path nodeClient() throws Exception {
        require(
                ClientProcess.available("node", "--version") && ClientProcess.available("npm", "--version"),
                "node >= 18.17 and npm (apt-get install nodejs npm)");
        Path resources = resourceDir("/node/package.json");
        Path target = resources.getParent().getParent().resolve("node-clients");
        Files.createDirectories(target);
        byte[] lock = Files.readAllBytes(resources.resolve("package-lock.json"));
        Path installedLock = target.resolve("node_modules").resolve(".sluice-installed-lock.json");
        boolean installed = Files.exists(installedLock) && Arrays.equals(Files.readAllBytes(installedLock), lock);
        for (String file : List.of("package.json", "package-lock.json", "client.mjs")) {
            Files.copy(resources.resolve(file), target.resolve(file), StandardCopyOption.REPLACE_EXISTING);
        }
        if (!installed) {
            List<String> npm = new ArrayList<>(List.of("npm", "ci", "--no-audit", "--no-fund", "--ignore-scripts"));
            ClientProcess install = ClientProcess.run(npm, Map.of(), target, Duration.ofMinutes(3));
            assertThat(install.exitCode()).as("npm ci of undici: %s", install).isZero();
            Files.write(installedLock, lock);
        }
        return target;
    }

    private static Path resourceDir(String resource) throws URISyntaxException {
        return Path.of(HttpsProxyClientsTest.class.getResource(resource).toURI())
                .getParent();
    }
}
