package io.sluice.batch;

import com.fasterxml.jackson.databind.node.ObjectNode;
import io.sluice.config.ServerConfig;
import io.sluice.fetch.Call;
import io.sluice.fetch.ErrorType;
import io.sluice.fetch.Failures;
import io.sluice.fetch.FetchException;
import io.sluice.fetch.FetchFailure;
import io.sluice.fetch.FetchRequest;
import io.sluice.fetch.FetchResponse;
import io.sluice.fetch.Fields;
import io.sluice.fetch.Pipeline;
import io.sluice.server.ClientDisconnect;
import io.sluice.server.Json;
import io.sluice.time.TimeSource;
import io.undertow.server.HttpHandler;
import io.undertow.server.HttpServerExchange;
import io.undertow.server.RequestTooBigException;
import io.undertow.util.Headers;
import io.undertow.util.SameThreadExecutor;
import java.time.Duration;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.Executor;
import java.util.concurrent.atomic.AtomicBoolean;

/** {@code POST /v1/batch}: reads the document, runs its items through the pipeline, writes the results. */
public final class BatchHandler implements HttpHandler {
    private final Pipeline pipeline;
    private final ServerConfig limits;
    private final TimeSource time;
    /** Made by the first batch (see {@link #codec}). */
    private volatile Codec codec;

    private final Executor executor;

    public BatchHandler(Pipeline pipeline, ServerConfig limits, TimeSource time, Executor executor) {
        this.pipeline = pipeline;
        this.executor = executor;
        this.limits = limits;
        this.time = time;
    }

    /** The batch document's reader and the results' writer, both over {@link Json#MAPPER}. */
    private record Codec(BatchParser parser, ResultRenderer renderer) {}

    /**
     * Made on first use rather than at start: Jackson's {@code ObjectMapper} is some hundreds of
     * classes that a start which reads no JSON need not load (docs/performance.md, "Start time and
     * footprint").
     */
    private Codec codec() {
        Codec made = codec;
        if (made == null) {
            synchronized (this) {
                made = codec;
                if (made == null) {
                    made = new Codec(
                            new BatchParser(
                                    Json.MAPPER,
                                    limits.maxBatchItems(),
                                    limits.maxBatchBytes().bytes(),
                                    limits.maxHeaderSize().bytes(),
                                    limits.maxRequestBody().bytes()),
                            new ResultRenderer(Json.MAPPER));
                    codec = made;
                }
            }
        }
        return made;
    }

    private ResultRenderer renderer() {
        return codec().renderer();
    }

    @Override
    public void handleRequest(HttpServerExchange exchange) {
        long maxBytes = limits.maxBatchBytes().bytes();
        if (exchange.getRequestContentLength() > maxBytes) {
            Json.send(
                    exchange,
                    400,
                    Json.error(
                            "invalid_request",
                            "batch body of " + exchange.getRequestContentLength() + " bytes exceeds " + maxBytes
                                    + " (server.max_batch_bytes)"));
            return;
        }
        exchange.setMaxEntitySize(maxBytes);
        exchange.getRequestReceiver()
                .receiveFullBytes(
                        (ex, bytes) -> start(ex, bytes),
                        (ex, error) -> Json.send(
                                ex,
                                400,
                                Json.error(
                                        "invalid_request",
                                        error instanceof RequestTooBigException
                                                ? "batch body exceeds " + maxBytes + " bytes (server.max_batch_bytes)"
                                                : "cannot read the batch body: " + error.getMessage())));
    }

    private void start(HttpServerExchange exchange, byte[] document) {
        BatchParser.Batch batch;
        try {
            batch = codec().parser().parse(document);
        } catch (BatchParser.BadBatch e) {
            Json.send(exchange, 400, Json.error("invalid_request", e.getMessage()));
            return;
        }
        String accept = exchange.getRequestHeaders().getFirst(Headers.ACCEPT);
        boolean ndjson = accept != null && accept.contains("application/x-ndjson");
        ResultSink sink = ndjson
                ? new NdjsonSink(exchange)
                : new DocumentSink(exchange, batch.items().size());
        int concurrency = Math.min(batch.concurrency(), limits.maxBatchConcurrency());
        long deadline = batch.timeout().map(t -> time.nanoTime() + t.toNanos()).orElse(Long.MAX_VALUE);
        Run run = new Run(batch.items(), sink, deadline, concurrency, traceContext(exchange));
        ClientDisconnect.whileInProgress(exchange, run::cancel);
        exchange.dispatch(SameThreadExecutor.INSTANCE, run::begin);
    }

    /** One batch in progress: hands out items to at most {@code concurrency} workers. */
    /**
     * The batch request's W3C trace context ({@code traceparent}, {@code tracestate}): each item's
     * span continues it unless the item's own headers carry a {@code traceparent}.
     */
    private static Fields traceContext(HttpServerExchange exchange) {
        Fields.Builder context = Fields.builder(2);
        for (String name : List.of("traceparent", "tracestate")) {
            var values = exchange.getRequestHeaders().get(name);
            if (values != null) context.add(name, values);
        }
        return context.build();
    }

    /**
     * One batch in progress. At most {@code concurrency} items run at once, and a new one starts
     * only while the sink has room: a finished item or a drained sink refills up to that bound.
     */
    private final class Run {
        private final List<BatchItem> items;
        private final ResultSink sink;
        private final long deadline;
        private final int concurrency;
        private final AtomicBoolean cancelled = new AtomicBoolean();
        private final java.util.concurrent.ConcurrentLinkedQueue<Call> active =
                new java.util.concurrent.ConcurrentLinkedQueue<>();
        private final Fields traceContext;
        private int next;
        private int running;
        private int finished;

        Run(List<BatchItem> items, ResultSink sink, long deadline, int concurrency, Fields traceContext) {
            this.traceContext = traceContext;
            this.items = items;
            this.sink = sink;
            this.deadline = deadline;
            this.concurrency = concurrency;
        }

        void begin() {
            if (items.isEmpty()) {
                sink.close();
                return;
            }
            sink.onWritable(this::fill);
            fill();
        }

        /** Starts items until {@code concurrency} run, the items run out, or the sink is full. */
        private void fill() {
            while (true) {
                BatchItem item;
                synchronized (this) {
                    if (running >= concurrency || next >= items.size() || !sink.hasRoom()) return;
                    item = items.get(next);
                    items.set(next, null); // results and calls hold what is needed; free the request
                    next++;
                    running++;
                }
                launch(item);
            }
        }

        private void launch(BatchItem item) {
            // Async: an item that completes at once (an invalid one) must not recurse into the next.
            runItem(item)
                    .whenCompleteAsync(
                            (result, error) -> {
                                ObjectNode line = result != null
                                        ? result
                                        : renderer().error(item, Failures.classify(error), null, 0);
                                // Into the sink before it counts as finished: otherwise the last item
                                // could close the sink while an earlier one was still on its way in,
                                // leaving a null in the document (seen under a stream of batches).
                                sink.accept(item.index(), line);
                                boolean last;
                                synchronized (this) {
                                    running--;
                                    finished++;
                                    last = finished == items.size();
                                }
                                if (last) {
                                    sink.close();
                                } else {
                                    fill();
                                }
                            },
                            executor);
        }

        private CompletableFuture<ObjectNode> runItem(BatchItem item) {
            long start = time.nanoTime();
            if (item.invalid().isPresent()) {
                return CompletableFuture.completedFuture(renderer()
                        .error(item, ErrorType.INVALID_REQUEST, item.invalid().get(), Optional.empty(), null, 0));
            }
            if (cancelled.get()) {
                return CompletableFuture.completedFuture(renderer()
                        .error(
                                item,
                                ErrorType.CANCELLED,
                                "the client closed the connection",
                                Optional.empty(),
                                null,
                                0));
            }
            long left = deadline - start;
            if (left <= 0) {
                return CompletableFuture.completedFuture(renderer()
                        .error(
                                item,
                                ErrorType.TIMEOUT,
                                "the batch's timeout_ms passed before this item started",
                                Optional.empty(),
                                null,
                                0));
            }
            FetchRequest request = item.request().get();
            if (deadline != Long.MAX_VALUE) {
                request = request.toBuilder()
                        .timeout(Optional.of(request.timeoutWithin(Duration.ofNanos(left))))
                        .build();
            }
            Call call = pipeline.newCall(request);
            call.parentHeaders(traceContext);
            active.add(call);
            return call.execute()
                    .thenCompose(outcome -> switch (outcome) {
                        case FetchFailure f ->
                            CompletableFuture.completedFuture(renderer()
                                    .error(
                                            item,
                                            f.type(),
                                            f.message(),
                                            f.retryAfter(),
                                            f.trace(),
                                            time.nanoTime() - start));
                        case FetchResponse r ->
                            r.body()
                                    .collect(limits.maxItemResponseBytes().bytes())
                                    .handle((bytes, error) -> {
                                        long elapsed = time.nanoTime() - start;
                                        return error == null
                                                ? renderer()
                                                        .response(
                                                                item,
                                                                r.status(),
                                                                r.headers(),
                                                                r.interim(),
                                                                bytes,
                                                                r.trace(),
                                                                elapsed)
                                                : renderer().error(item, Failures.classify(error), r.trace(), elapsed);
                                    });
                    })
                    .whenComplete((r, e) -> active.remove(call));
        }

        void cancel() {
            if (!cancelled.compareAndSet(false, true)) return;
            FetchException reason = new FetchException(ErrorType.CANCELLED, "the client closed the connection");
            active.forEach(call -> call.cancel(reason));
        }
    }

    @Override
    public String toString() {
        return "BatchHandler";
    }
}
