package io.sluice.guard;

import static io.sluice.guard.Addresses.admitted;
import static io.sluice.guard.Addresses.blocked;
import static io.sluice.guard.Addresses.texts;
import static org.assertj.core.api.Assertions.assertThat;

import com.sun.net.httpserver.HttpServer;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/** A real server on loopback, reached (or not) the way Sluice's shared HttpClient reaches upstreams. */
class RealSocketTest {

    private HttpServer server;
    private HttpClient client;

    @BeforeEach
    void startServer() throws Exception {
        server = HttpServer.create(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0), 0);
        server.createContext("/", exchange -> {
            byte[] body = ("hello from "
                            + exchange.getLocalAddress().getAddress().getHostAddress())
                    .getBytes(StandardCharsets.UTF_8);
            exchange.sendResponseHeaders(200, body.length);
            exchange.getResponseBody().write(body);
            exchange.close();
        });
        server.start();
        client = HttpClient.newBuilder()
                .followRedirects(HttpClient.Redirect.NEVER)
                .proxy(HttpClient.Builder.NO_PROXY)
                .connectTimeout(Duration.ofSeconds(5))
                .build();
    }

    @AfterEach
    void stopServer() {
        client.close();
        server.stop(0);
    }

    @Test
    void refusesLoopbackServerUnlessUpstreamAllowsPrivate() throws Exception {
        URI uri = URI.create("http://127.0.0.1:" + server.getAddress().getPort() + "/");
        AddressGuard guard = new AddressGuard(Runnable::run);

        assertThat(blocked(guard.admit(uri, false)).addressClass()).contains(AddressClass.LOOPBACK);

        try (Pin pin = admitted(guard.admit(uri, true))) {
            assertThat(texts(pin.addresses())).containsExactly("127.0.0.1");
            HttpResponse<String> response =
                    client.send(HttpRequest.newBuilder(uri).build(), HttpResponse.BodyHandlers.ofString());
            assertThat(response.statusCode()).isEqualTo(200);
        }
    }

    @Test
    void httpClientConnectsToThePinnedAddress() throws Exception {
        // No DNS server knows this name; only the pin, through the JDK resolver, can take the client there.
        URI uri = URI.create("http://app.realsocket.test:" + server.getAddress().getPort() + "/");
        FakeResolver dns = new FakeResolver().answer("app.realsocket.test", "127.0.0.1");
        AddressGuard guard = new AddressGuard(Runnable::run, dns);

        assertThat(blocked(guard.admit(uri, false)).addressClass()).contains(AddressClass.LOOPBACK);

        try (Pin pin = admitted(guard.admit(uri, true))) {
            assertThat(texts(pin.addresses())).containsExactly("127.0.0.1");
            HttpResponse<String> response =
                    client.send(HttpRequest.newBuilder(uri).build(), HttpResponse.BodyHandlers.ofString());

            assertThat(response.statusCode()).isEqualTo(200);
            assertThat(response.body()).isEqualTo("hello from 127.0.0.1");
        }
    }
}
