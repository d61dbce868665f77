package io.sluice.send;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import io.sluice.testing.LocalPorts;
import io.sluice.testing.RequiredTool;
import io.sluice.testing.SluiceServerExtension;
import io.sluice.testing.TestHttp;
import io.sluice.testing.TlsOrigin;
import java.io.File;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.api.io.TempDir;

/**
 * Against a real nginx HTTP/2 origin, the way nginx ends a connection after {@code keepalive_requests}:
 * a GOAWAY naming the stream that reached the count as the last it processes, which it then answers.
 * Undertow's client alone fails that stream on the GOAWAY, so a POST there was lost ({@code
 * upstream_reset}) though nginx had processed it; a GET was sent twice.
 */
class Http2GoAwayNginxTest {
    private static final Path NGINX = Path.of("/usr/sbin/nginx");

    @RegisterExtension
    final SluiceServerExtension sluice = new SluiceServerExtension();

    @TempDir
    Path dir;

    private final TlsOrigin tls = new TlsOrigin();
    private Process nginx;

    @AfterEach
    void stop() throws InterruptedException {
        if (nginx != null) {
            nginx.destroyForcibly();
            nginx.waitFor(10, TimeUnit.SECONDS);
        }
    }

    @Test
    void everyPostIsAnsweredOnceThoughNginxEndsTheConnectionEveryTwoRequests() throws Exception {
        int port = startNginx(2);
        var running = sluice.start("""
                upstreams:
                  origin:
                    base_url: "https://localhost:%d"
                    allow_private: true
                    retry: {max_attempts: 1}
                    tls: {ca_file: "%s", http2: true}
                """.formatted(port, tls.writeCa(dir)));

        for (int i = 0; i < 6; i++) {
            JsonNode response = TestHttp.batch(running.data("/v1/batch"), """
                            {"requests": [{"method": "POST", "url": "https://localhost:%d/n%d", "body": "x"}]}""".formatted(port, i))
                    .get("responses")
                    .get(0);
            assertThat(response.get("status")).as("POST %d: %s", i, response).isNotNull();
            assertThat(response.get("status").asInt()).isEqualTo(200);
            assertThat(response.get("body").asText()).isEqualTo("/n" + i + "\n");
        }
        // Each POST reached the application behind nginx once: none lost, none repeated.
        assertThat(Files.readAllLines(dir.resolve("nginx/app.log")))
                .containsExactly("POST /n0", "POST /n1", "POST /n2", "POST /n3", "POST /n4", "POST /n5");
    }

    /**
     * nginx with an HTTP/2 TLS server on a free port that ends each connection after {@code perConnection}
     * requests, and reads each request's body before answering (it passes it to a second, cleartext
     * server, which logs the request and answers with its path); returns the TLS port.
     */
    private int startNginx(int perConnection) throws IOException {
        RequiredTool.require(Files.isExecutable(NGINX), "nginx at " + NGINX + " (Debian package nginx-light)");
        Path prefix = Files.createDirectories(dir.resolve("nginx"));
        Files.writeString(prefix.resolve("origin.pem"), tls.leaf.certificatePem() + tls.ca.certificatePem());
        Files.writeString(prefix.resolve("origin.key"), tls.leaf.privateKeyPkcs8Pem());
        int port = LocalPorts.free();
        int app = LocalPorts.free();
        Files.writeString(prefix.resolve("nginx.conf"), """
                daemon off;
                master_process off;
                pid %1$s/nginx.pid;
                error_log %1$s/error.log warn;
                events {}
                http {
                    access_log off;
                    client_body_temp_path %1$s;
                    proxy_temp_path %1$s;
                    fastcgi_temp_path %1$s;
                    uwsgi_temp_path %1$s;
                    scgi_temp_path %1$s;
                    log_format app '$request_method $uri';
                    server {
                        listen 127.0.0.1:%2$d ssl http2;
                        ssl_certificate %1$s/origin.pem;
                        ssl_certificate_key %1$s/origin.key;
                        keepalive_requests %4$d;
                        location / { proxy_pass http://127.0.0.1:%3$d; }
                    }
                    server {
                        listen 127.0.0.1:%3$d;
                        access_log %1$s/app.log app;
                        location / { return 200 "$uri\\n"; }
                    }
                }
                """.formatted(prefix, port, app, perConnection));
        nginx = new ProcessBuilder(
                        NGINX.toString(),
                        "-p",
                        prefix.toString(),
                        "-c",
                        prefix.resolve("nginx.conf").toString())
                .redirectErrorStream(true)
                .redirectOutput(new File("/dev/null"))
                .start();
        LocalPorts.awaitListening(nginx, port, this::startFailure);
        LocalPorts.awaitListening(nginx, app, this::startFailure);
        return port;
    }

    private String startFailure() {
        try {
            Path log = dir.resolve("nginx/error.log");
            return "nginx did not start: " + (Files.exists(log) ? Files.readString(log) : "no error log");
        } catch (IOException e) {
            return "nginx did not start";
        }
    }
}
