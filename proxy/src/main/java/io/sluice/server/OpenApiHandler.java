package io.sluice.server;

import io.undertow.server.HttpHandler;
import io.undertow.server.HttpServerExchange;
import io.undertow.util.Headers;
import io.undertow.util.Methods;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.ByteBuffer;

/**
 * {@code GET /openapi.yaml} on the admin port: the OpenAPI 3.1 description of both ports, from
 * {@code openapi/sluice.yaml} on the classpath, for client generators. No token needed.
 */
final class OpenApiHandler implements HttpHandler {
    static final String RESOURCE = "openapi/sluice.yaml";

    private final byte[] document;

    OpenApiHandler() {
        try (InputStream in = OpenApiHandler.class.getClassLoader().getResourceAsStream(RESOURCE)) {
            if (in == null) throw new IllegalStateException(RESOURCE + " is missing from the classpath");
            this.document = in.readAllBytes();
        } catch (IOException e) {
            throw new UncheckedIOException("cannot read " + RESOURCE, e);
        }
    }

    @Override
    public void handleRequest(HttpServerExchange exchange) {
        if (!exchange.getRequestMethod().equals(Methods.GET)
                && !exchange.getRequestMethod().equals(Methods.HEAD)) {
            exchange.setStatusCode(405);
            exchange.getResponseHeaders().put(Headers.ALLOW, "GET, HEAD");
            exchange.endExchange();
            return;
        }
        // application/yaml is the registered type (RFC 9512).
        exchange.getResponseHeaders().put(Headers.CONTENT_TYPE, "application/yaml");
        exchange.getResponseHeaders().put(Headers.CONTENT_LENGTH, document.length);
        exchange.getResponseSender().send(ByteBuffer.wrap(document));
    }

    @Override
    public String toString() {
        return "OpenApiHandler";
    }
}
