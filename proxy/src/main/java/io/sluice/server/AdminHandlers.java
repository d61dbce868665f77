package io.sluice.server;

import io.undertow.Handlers;
import io.undertow.server.HttpHandler;
import io.undertow.server.HttpServerExchange;
import io.undertow.server.handlers.resource.ClassPathResourceManager;
import io.undertow.util.Headers;
import io.undertow.util.HttpString;
import io.undertow.util.SameThreadExecutor;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.function.BooleanSupplier;
import java.util.function.Consumer;
import java.util.function.Supplier;

/**
 * The admin port: health, readiness, {@code /metrics}, the admin API under {@code /api}, and the
 * admin UI's static assets (with Chart.js from its WebJar under {@code /webjars}).
 */
public final class AdminHandlers {
    /** The UI loads nothing from elsewhere, and no other site may frame it. */
    private static final String CSP = "default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline';"
            + " img-src 'self' data:; connect-src 'self'; frame-ancestors 'none'; base-uri 'none'; form-action 'self'";

    private final BooleanSupplier ready;
    private final HttpHandler api;
    private final HttpHandler metrics;
    private final Supplier<CompletableFuture<String>> caCertificatePem;
    private final Supplier<CompletableFuture<Object>> tlsStatus;

    /**
     * {@code caCertificatePem} is served at {@code /api/tls/ca.pem} and {@code tlsStatus} (the CA's
     * subject, fingerprint and validity, open tunnels) at {@code /api/tls}: public, so no token is
     * needed. Both may still be being made (Sluice's TLS side is made once its ports listen): a
     * request waits for them without blocking the IO thread, and gets {@code 503} if they cannot be.
     */
    public AdminHandlers(
            BooleanSupplier ready,
            HttpHandler api,
            HttpHandler metrics,
            Supplier<CompletableFuture<String>> caCertificatePem,
            Supplier<CompletableFuture<Object>> tlsStatus) {
        this.ready = ready;
        this.api = api;
        this.metrics = metrics;
        this.caCertificatePem = caCertificatePem;
        this.tlsStatus = tlsStatus;
    }

    public HttpHandler handler() {
        ClassLoader loader = AdminHandlers.class.getClassLoader();
        var ui = Handlers.resource(new ClassPathResourceManager(loader, "sluice-admin"))
                .setWelcomeFiles("index.html")
                .setDirectoryListingEnabled(false);
        var webjars = Handlers.resource(new ClassPathResourceManager(loader, "META-INF/resources/webjars"))
                .setDirectoryListingEnabled(false);
        return Handlers.path(withUiHeaders(ui))
                .addPrefixPath("/webjars", withUiHeaders(webjars))
                .addExactPath("/api/tls/ca.pem", this::caCertificate)
                .addExactPath(
                        "/api/tls",
                        exchange -> whenMade(exchange, tlsStatus.get(), status -> {
                            exchange.getResponseHeaders().put(Headers.CACHE_CONTROL, "no-store");
                            Json.send(exchange, 200, status);
                        }))
                .addPrefixPath("/api", api)
                .addExactPath("/metrics", metrics)
                .addExactPath("/healthz", exchange -> text(exchange, 200, "ok"))
                .addExactPath("/openapi.yaml", new OpenApiHandler())
                .addExactPath("/readyz", exchange -> {
                    if (ready.getAsBoolean()) text(exchange, 200, "ready");
                    else text(exchange, 503, "draining");
                });
    }

    /** Sluice's CA certificate, for clients to trust when they send HTTPS through the data port. */
    private void caCertificate(HttpServerExchange exchange) {
        if (!exchange.getRequestMethod().equalToString("GET")
                && !exchange.getRequestMethod().equalToString("HEAD")) {
            exchange.getResponseHeaders().put(Headers.ALLOW, "GET, HEAD");
            text(exchange, 405, "use GET");
            return;
        }
        whenMade(exchange, caCertificatePem.get(), pem -> {
            exchange.setStatusCode(200);
            exchange.getResponseHeaders().put(Headers.CONTENT_TYPE, "application/x-pem-file");
            exchange.getResponseHeaders().put(Headers.CONTENT_DISPOSITION, "attachment; filename=\"sluice-ca.pem\"");
            exchange.getResponseSender().send(pem);
        });
    }

    /**
     * Answers with {@code answer} once {@code value} is made, on the exchange's IO thread; at once when
     * it is already. {@code 503} when it cannot be made (the CA's problem was logged when it was found).
     */
    private static <T> void whenMade(HttpServerExchange exchange, CompletableFuture<T> value, Consumer<T> answer) {
        if (value.isDone() && !value.isCompletedExceptionally()) {
            answer.accept(value.join());
            return;
        }
        exchange.dispatch(
                SameThreadExecutor.INSTANCE,
                () -> value.whenComplete((made, error) -> exchange.getIoThread().execute(() -> {
                    if (error == null) {
                        answer.accept(made);
                    } else {
                        Throwable cause = error instanceof CompletionException && error.getCause() != null
                                ? error.getCause()
                                : error;
                        text(exchange, 503, "Sluice's CA is not available: " + cause.getMessage());
                    }
                })));
    }

    private static HttpHandler withUiHeaders(HttpHandler next) {
        return exchange -> {
            var headers = exchange.getResponseHeaders();
            headers.put(new HttpString("Content-Security-Policy"), CSP);
            headers.put(new HttpString("X-Content-Type-Options"), "nosniff");
            headers.put(new HttpString("Referrer-Policy"), "no-referrer");
            next.handleRequest(exchange);
        };
    }

    private static void text(HttpServerExchange exchange, int status, String body) {
        exchange.setStatusCode(status);
        exchange.getResponseHeaders().put(Headers.CONTENT_TYPE, "text/plain; charset=utf-8");
        exchange.getResponseHeaders().put(Headers.CACHE_CONTROL, "no-store");
        exchange.getResponseSender().send(body + "\n");
    }
}
