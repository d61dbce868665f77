package io.sluice.cache;

import io.sluice.fetch.FetchException;
import io.sluice.fetch.FetchRequest;
import io.sluice.fetch.FetchResponse;
import io.sluice.fetch.Fields;
import io.sluice.fetch.ResponseBody;
import io.sluice.fetch.Stage;
import java.nio.charset.StandardCharsets;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Deque;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.CompletableFuture;
import java.util.function.Function;

/**
 * The pipeline's last stage in stage-level tests: answers from a script (the last answer repeats),
 * records each request it receives, and can hold an answer until the test releases it.
 */
final class FakeOrigin implements Stage {
    private final List<FetchRequest> received = new ArrayList<>();
    private final Deque<Function<Chain, CompletableFuture<FetchResponse>>> script = new ArrayDeque<>();
    private Function<Chain, CompletableFuture<FetchResponse>> last =
            chain -> CompletableFuture.completedFuture(new FetchResponse(
                    200, Fields.of(Map.of()), ResponseBody.empty(), chain.call().trace()));

    @Override
    public synchronized CompletableFuture<FetchResponse> apply(Chain chain) {
        received.add(chain.request());
        chain.call().trace().countAttempt();
        Function<Chain, CompletableFuture<FetchResponse>> next = script.isEmpty() ? last : script.poll();
        if (script.isEmpty()) last = next;
        return next.apply(chain);
    }

    /** The next answer: {@code status}, {@code body}, and fields as name/value pairs. */
    synchronized FakeOrigin respond(int status, String body, String... fields) {
        byte[] bytes = body.getBytes(StandardCharsets.UTF_8);
        script.add(chain -> CompletableFuture.completedFuture(new FetchResponse(
                status,
                headers(bytes.length, fields),
                ResponseBody.of(bytes),
                chain.call().trace())));
        return this;
    }

    /** The next answer streams {@code chunks} with no Content-Length. */
    synchronized FakeOrigin respondStreaming(int status, List<String> chunks, String... fields) {
        script.add(chain -> CompletableFuture.completedFuture(new FetchResponse(
                status,
                headers(-1, fields),
                Bodies.chunked(chunks),
                chain.call().trace())));
        return this;
    }

    synchronized FakeOrigin fail(FetchException error) {
        script.add(chain -> CompletableFuture.failedFuture(error));
        return this;
    }

    /** The next answer waits for the returned future; complete it with {@link #response}. */
    synchronized Held hold() {
        Held held = new Held();
        script.add(chain -> {
            held.chain = chain;
            return held.future;
        });
        return held;
    }

    static final class Held {
        final CompletableFuture<FetchResponse> future = new CompletableFuture<>();
        volatile Chain chain;

        void answer(int status, String body, String... fields) {
            byte[] bytes = body.getBytes(StandardCharsets.UTF_8);
            future.complete(new FetchResponse(
                    status,
                    headers(bytes.length, fields),
                    ResponseBody.of(bytes),
                    chain.call().trace()));
        }

        void fail(Throwable error) {
            future.completeExceptionally(error);
        }
    }

    synchronized int requestCount() {
        return received.size();
    }

    synchronized FetchRequest request(int index) {
        return received.get(index);
    }

    synchronized FetchRequest lastRequest() {
        return received.get(received.size() - 1);
    }

    static io.sluice.fetch.Fields headers(long length, String... fields) {
        Map<String, List<String>> map = new TreeMap<>(String.CASE_INSENSITIVE_ORDER);
        if (length >= 0) map.put("Content-Length", List.of(Long.toString(length)));
        for (int i = 0; i < fields.length; i += 2) {
            map.computeIfAbsent(fields[i], k -> new ArrayList<>()).add(fields[i + 1]);
        }
        return Fields.of(map);
    }
}
