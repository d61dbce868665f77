package io.sluice.batch;

import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.sluice.server.Json;
import io.undertow.server.HttpServerExchange;

/** Collects results in request order and answers with one JSON document when all are in. */
final class DocumentSink implements ResultSink {
    private final HttpServerExchange exchange;
    private final ObjectNode[] results;

    DocumentSink(HttpServerExchange exchange, int size) {
        this.exchange = exchange;
        this.results = new ObjectNode[size];
    }

    @Override
    public void accept(int index, ObjectNode result) {
        result.remove("index");
        synchronized (results) {
            results[index] = result;
        }
    }

    @Override
    public boolean hasRoom() {
        return true;
    }

    @Override
    public void onWritable(Runnable listener) {}

    @Override
    public void close() {
        ObjectNode root = Json.MAPPER.createObjectNode();
        ArrayNode responses = root.putArray("responses");
        synchronized (results) {
            for (ObjectNode result : results) responses.add(result);
        }
        exchange.getIoThread().execute(() -> Json.send(exchange, 200, root));
    }
}
