package io.sluice.limit;

import io.sluice.fetch.Call;
import io.sluice.fetch.FetchRequest;
import io.sluice.fetch.FetchResponse;
import io.sluice.fetch.Fields;
import io.sluice.fetch.ResponseBody;
import io.sluice.fetch.Stage;
import io.sluice.time.TimeSource;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentLinkedDeque;
import java.util.concurrent.atomic.AtomicBoolean;

/**
 * The pipeline's last stage, standing in for {@code SendStage}: answers from a script (then 200s),
 * counts the attempt as {@code SendStage} does, and records when each request reached it and whether
 * each response body was finished (read or discarded).
 */
public final class FakeUpstream implements Stage {
    private final TimeSource time;
    private final ConcurrentLinkedDeque<Object> script = new ConcurrentLinkedDeque<>();
    private final List<Long> sentAt = new ArrayList<>();
    private final List<FetchRequest> requests = new ArrayList<>();
    private final List<AtomicBoolean> finished = new ArrayList<>();

    public FakeUpstream(TimeSource time) {
        this.time = time;
    }

    /** Answers the next request with {@code status} and header name/value pairs. */
    public FakeUpstream enqueue(int status, String... headerPairs) {
        Map<String, List<String>> headers = new LinkedHashMap<>();
        for (int i = 0; i < headerPairs.length; i += 2) headers.put(headerPairs[i], List.of(headerPairs[i + 1]));
        script.add(new Answer(status, Fields.of(headers)));
        return this;
    }

    /** Fails the next request with {@code error}. */
    public FakeUpstream fail(Throwable error) {
        script.add(error);
        return this;
    }

    @Override
    public CompletableFuture<FetchResponse> apply(Chain chain) {
        Call call = chain.call();
        call.trace().countAttempt();
        Object next = script.poll();
        AtomicBoolean done = new AtomicBoolean();
        synchronized (this) {
            sentAt.add(time.nanoTime());
            requests.add(chain.request());
            finished.add(done);
        }
        if (next instanceof Throwable error) return CompletableFuture.failedFuture(error);
        Answer answer = next == null ? new Answer(200, Fields.of(Map.of())) : (Answer) next;
        ResponseBody body = ResponseBody.of(("answer " + answer.status).getBytes());
        body.onFinish(() -> done.set(true));
        return CompletableFuture.completedFuture(new FetchResponse(answer.status, answer.headers, body, call.trace()));
    }

    /** When each request arrived, in nanoseconds of the time source. */
    public synchronized List<Long> sentAt() {
        return List.copyOf(sentAt);
    }

    public synchronized List<FetchRequest> requests() {
        return List.copyOf(requests);
    }

    public synchronized List<String> paths() {
        return requests.stream().map(r -> r.uri().getPath()).toList();
    }

    /** Whether response {@code index}'s body was finished (read to the end, or discarded). */
    public synchronized boolean bodyFinished(int index) {
        return finished.get(index).get();
    }

    public synchronized int count() {
        return sentAt.size();
    }

    private record Answer(int status, Fields headers) {}

    @Override
    public String toString() {
        return "FakeUpstream";
    }
}
