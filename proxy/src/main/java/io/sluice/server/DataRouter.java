package io.sluice.server;

import io.undertow.server.HttpHandler;
import io.undertow.server.HttpServerExchange;
import io.undertow.util.Methods;

/**
 * The data port's front: {@code POST /v1/batch} to the batch handler, every other request
 * (route form {@code /{upstream}/...} and absolute-form proxy requests) to passthrough. {@code v1}
 * is reserved, so it cannot name an upstream. {@code CONNECT} goes to the connect handler (intercept,
 * tunnel or refuse, per upstream); requests read inside an intercepted tunnel are all passthrough,
 * whatever their path: {@code /v1/batch} on {@code api.example.com} is that API's path, not Sluice's.
 */
public final class DataRouter implements HttpHandler {
    private final HttpHandler batch;
    private final HttpHandler passthrough;
    private final HttpHandler connect;

    public DataRouter(HttpHandler batch, HttpHandler passthrough, HttpHandler connect) {
        this.batch = batch;
        this.passthrough = passthrough;
        this.connect = connect;
    }

    @Override
    public void handleRequest(HttpServerExchange exchange) throws Exception {
        boolean intercepted = exchange.getAttachment(Intercepted.ORIGIN) != null;
        if (exchange.getRequestMethod().equals(Methods.CONNECT)) {
            if (intercepted) {
                Json.send(exchange, 405, Json.error("invalid_request", "CONNECT inside an intercepted tunnel"));
                return;
            }
            connect.handleRequest(exchange);
            return;
        }
        if (intercepted) {
            passthrough.handleRequest(exchange);
            return;
        }
        if (!exchange.isHostIncludedInRequestURI()) {
            String path = exchange.getRequestPath();
            if (path.equals("/v1/batch")) {
                if (!exchange.getRequestMethod().equals(Methods.POST)) {
                    exchange.getResponseHeaders().put(io.undertow.util.Headers.ALLOW, "POST");
                    Json.send(exchange, 405, Json.error("invalid_request", "use POST for /v1/batch"));
                    return;
                }
                batch.handleRequest(exchange);
                return;
            }
            if (path.equals("/") || path.startsWith("/v1/") || path.equals("/v1")) {
                Json.send(
                        exchange,
                        404,
                        Json.error(
                                "invalid_request",
                                "no such endpoint: POST /v1/batch, or /{upstream}/{path} for passthrough"));
                return;
            }
        }
        passthrough.handleRequest(exchange);
    }

    @Override
    public String toString() {
        return "DataRouter";
    }
}
