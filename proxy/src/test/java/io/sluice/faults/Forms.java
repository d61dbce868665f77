package io.sluice.faults;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import io.sluice.testing.SluiceServerExtension;
import io.sluice.testing.TestHttp;
import java.net.URI;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;

/**
 * One request to a faulty upstream through each of Sluice's front doors (a batch item, the route
 * form {@code /name/path} and the forward form with an absolute URI), each ended as the typed
 * error a client reads: {@code error.type} and message, and for passthrough the status and
 * {@code Proxy-Status}.
 */
final class Forms {
    private Forms() {}

    /** What a client saw: the error type and message, the HTTP status and Proxy-Status (passthrough only). */
    record Seen(String form, String type, String message, int status, String proxyStatus, Duration took) {}

    static Seen batch(SluiceServerExtension.Running running, String url) {
        long start = System.nanoTime();
        JsonNode item = TestHttp.batch(running.data("/v1/batch"), """
                        {"requests": [{"id": "a", "url": "%s"}]}""".formatted(url))
                .get("responses")
                .get(0);
        Duration took = Duration.ofNanos(System.nanoTime() - start);
        JsonNode error = item.get("error");
        String shown = item.toString();
        assertThat(error)
                .as("batch item %s", shown.length() > 500 ? shown.substring(0, 500) + "…" : shown)
                .isNotNull();
        return new Seen(
                "batch",
                error.get("type").asText(),
                error.get("message").asText(),
                item.path("status").asInt(),
                null,
                took);
    }

    static Seen route(SluiceServerExtension.Running running, String path) {
        long start = System.nanoTime();
        HttpResponse<String> response = TestHttp.get(running.data(path));
        return passthrough("route", response, start);
    }

    static Seen forward(SluiceServerExtension.Running running, String url) throws Exception {
        long start = System.nanoTime();
        HttpResponse<String> response = TestHttp.viaProxy(running.dataPort())
                .send(HttpRequest.newBuilder(URI.create(url)).build(), HttpResponse.BodyHandlers.ofString());
        return passthrough("forward", response, start);
    }

    private static Seen passthrough(String form, HttpResponse<String> response, long start) {
        Duration took = Duration.ofNanos(System.nanoTime() - start);
        JsonNode error;
        try {
            error = TestHttp.JSON.readTree(response.body()).get("error");
        } catch (Exception e) {
            throw new AssertionError(form + ": not a JSON error: " + response.statusCode() + " "
                    + response.headers().map().size() + " headers, body " + response.body());
        }
        assertThat(error)
                .as("%s answer %s %s", form, response.statusCode(), response.body())
                .isNotNull();
        return new Seen(
                form,
                error.get("type").asText(),
                error.get("message").asText(),
                response.statusCode(),
                response.headers().firstValue("Proxy-Status").orElse(null),
                took);
    }
}
