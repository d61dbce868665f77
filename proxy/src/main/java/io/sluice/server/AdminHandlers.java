package io.sluice.server;

import io.undertow.Handlers;
import io.undertow.server.HttpHandler;
import io.undertow.server.handlers.resource.ClassPathResourceManager;
import io.undertow.util.Headers;
import java.util.concurrent.atomic.AtomicBoolean;

/** The admin port: health, readiness, and the admin UI's static assets. */
public final class AdminHandlers {
    private final AtomicBoolean ready;

    public AdminHandlers(AtomicBoolean ready) {
        this.ready = ready;
    }

    public HttpHandler handler() {
        var ui = Handlers.resource(new ClassPathResourceManager(AdminHandlers.class.getClassLoader(), "sluice-admin"))
                .setWelcomeFiles("index.html")
                .setDirectoryListingEnabled(false);
        return Handlers.path(ui)
                .addExactPath("/healthz", exchange -> text(exchange, 200, "ok"))
                .addExactPath("/openapi.yaml", new OpenApiHandler())
                .addExactPath("/readyz", exchange -> {
                    if (ready.get()) text(exchange, 200, "ready");
                    else text(exchange, 503, "draining");
                });
    }

    private static void text(io.undertow.server.HttpServerExchange exchange, int status, String body) {
        exchange.setStatusCode(status);
        exchange.getResponseHeaders().put(Headers.CONTENT_TYPE, "text/plain; charset=utf-8");
        exchange.getResponseHeaders().put(Headers.CACHE_CONTROL, "no-store");
        exchange.getResponseSender().send(body + "\n");
    }
}
