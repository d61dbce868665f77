package io.sluice.admin;

import com.fasterxml.jackson.databind.JsonNode;
import io.sluice.testing.SluiceServerExtension.Running;
import io.sluice.testing.TestHttp;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.URI;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;

/** Talks to a running Sluice's admin port the way an operator's script would. */
final class Admin {
    private final URI base;
    private final String token;

    Admin(URI base, String token) {
        this.base = base;
        this.token = token;
    }

    static Admin of(Running running, String token) {
        return new Admin(running.admin(""), token);
    }

    static Admin of(int port, String token) {
        return new Admin(URI.create("http://127.0.0.1:" + port), token);
    }

    HttpResponse<String> get(String path) {
        return TestHttp.get(URI.create(base + path));
    }

    JsonNode getJson(String path) {
        HttpResponse<String> response = get(path);
        if (response.statusCode() != 200)
            throw new AssertionError(path + " answered " + response.statusCode() + ": " + response.body());
        return json(response);
    }

    HttpResponse<String> put(String path, String json) {
        return send("PUT", path, "application/json", json);
    }

    HttpResponse<String> post(String path, String json) {
        return send("POST", path, "application/json", json);
    }

    HttpResponse<String> delete(String path) {
        return send("DELETE", path, null, null);
    }

    HttpResponse<String> send(String method, String path, String contentType, String body) {
        HttpRequest.Builder request = HttpRequest.newBuilder(URI.create(base + path))
                .method(
                        method,
                        body == null ? HttpRequest.BodyPublishers.noBody() : HttpRequest.BodyPublishers.ofString(body));
        if (contentType != null) request.header("Content-Type", contentType);
        if (token != null) request.header("Authorization", "Bearer " + token);
        return TestHttp.send(request.build());
    }

    Admin withToken(String other) {
        return new Admin(base, other);
    }

    static JsonNode json(HttpResponse<String> response) {
        try {
            return TestHttp.JSON.readTree(response.body());
        } catch (IOException e) {
            throw new UncheckedIOException("not JSON: " + response.body(), e);
        }
    }
}
