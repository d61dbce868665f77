package io.sluice.trace;

import com.sun.net.httpserver.HttpServer;
import io.opentelemetry.proto.collector.trace.v1.ExportTraceServiceRequest;
import io.opentelemetry.proto.trace.v1.Span;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.function.Predicate;

/**
 * A real OTLP/HTTP receiver on a loopback port 0: accepts {@code POST /v1/traces} with an
 * {@code application/x-protobuf} body, as a collector would, and keeps every span and every byte.
 */
final class OtlpReceiver implements AutoCloseable {
    private final HttpServer server;
    private final List<Span> spans = new ArrayList<>();
    private final ByteArrayOutputStream raw = new ByteArrayOutputStream();
    private final List<String> resourceServiceNames = new ArrayList<>();

    OtlpReceiver() {
        try {
            server = HttpServer.create(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0), 0);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        server.createContext("/v1/traces", exchange -> {
            byte[] body;
            try (InputStream in = exchange.getRequestBody()) {
                body = in.readAllBytes();
            }
            int status = 200;
            if (!exchange.getRequestMethod().equals("POST")
                    || !"application/x-protobuf"
                            .equals(exchange.getRequestHeaders().getFirst("Content-Type"))) {
                status = 415;
            } else {
                var request = ExportTraceServiceRequest.parseFrom(body);
                synchronized (this) {
                    raw.writeBytes(body);
                    for (var resource : request.getResourceSpansList()) {
                        resource.getResource().getAttributesList().stream()
                                .filter(a -> a.getKey().equals("service.name"))
                                .forEach(a ->
                                        resourceServiceNames.add(a.getValue().getStringValue()));
                        for (var scope : resource.getScopeSpansList()) spans.addAll(scope.getSpansList());
                    }
                    notifyAll();
                }
            }
            // An empty ExportTraceServiceResponse is an empty protobuf message.
            exchange.getResponseHeaders().set("Content-Type", "application/x-protobuf");
            exchange.sendResponseHeaders(status, -1);
            exchange.close();
        });
        server.start();
    }

    /** The collector's base URL, as {@code tracing.otlp_endpoint} takes it. */
    String endpoint() {
        return "http://127.0.0.1:" + server.getAddress().getPort();
    }

    /** Waits (at most {@code timeout}) until the spans received satisfy {@code ready}; returns them all. */
    synchronized List<Span> await(Predicate<List<Span>> ready, Duration timeout) throws InterruptedException {
        long end = System.nanoTime() + timeout.toNanos();
        while (!ready.test(spans)) {
            long left = end - System.nanoTime();
            if (left <= 0) throw new AssertionError("spans not received within " + timeout + ": " + names(spans));
            wait(Math.max(1, left / 1_000_000));
        }
        return List.copyOf(spans);
    }

    synchronized byte[] rawBytes() {
        return raw.toByteArray();
    }

    synchronized List<String> serviceNames() {
        return List.copyOf(resourceServiceNames);
    }

    private static List<String> names(List<Span> spans) {
        return spans.stream().map(s -> s.getName() + "/" + s.getKind()).toList();
    }

    @Override
    public void close() {
        server.stop(0);
    }
}
