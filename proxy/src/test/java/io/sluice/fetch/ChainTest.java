package io.sluice.fetch;

import static org.assertj.core.api.Assertions.assertThat;

import io.sluice.testing.TestConfig;
import io.sluice.time.FakeTimeSource;
import io.sluice.upstream.Upstream;
import io.sluice.upstream.Upstreams;
import java.net.URI;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

/** What the chain hands down: the upstream resolved once, the deadline armed once, typed failures. */
class ChainTest {
    private final FakeTimeSource time = new FakeTimeSource();
    private final Upstreams upstreams = upstreams();

    @Test
    void handsTheResolvedUpstreamToEveryLaterStageAndNotToEarlierOnes() throws Exception {
        List<String> seen = new ArrayList<>();
        Stage before = chain -> {
            seen.add("before: " + name(chain.upstream()));
            return chain.proceed(chain.request());
        };
        Stage after = chain -> {
            seen.add("after: " + name(chain.upstream()) + ", trace: "
                    + chain.call().trace().upstream());
            return chain.proceed(chain.request());
        };
        Pipeline pipeline = new Pipeline(List.of(before, new ResolveUpstreamStage(upstreams), after, ok()), time);

        FetchOutcome outcome = run(pipeline, FetchRequest.get(URI.create("http://slow.test/a")));

        assertThat(outcome).isInstanceOf(FetchResponse.class);
        assertThat(seen).containsExactly("before: none", "after: slow, trace: slow");
    }

    @Test
    void resolvesEachHopAgain() throws Exception {
        List<String> seen = new ArrayList<>();
        // A stage above resolution that proceeds twice, as RedirectStage does for a hop to another origin.
        Stage twice = chain -> chain.proceed(chain.request())
                .thenCompose(first -> chain.proceed(chain.request().toBuilder()
                        .uri(URI.create("http://other.test/b"))
                        .build()));
        Stage record = chain -> {
            seen.add(name(chain.upstream()));
            return chain.proceed(chain.request());
        };
        Pipeline pipeline = new Pipeline(List.of(twice, new ResolveUpstreamStage(upstreams), record, ok()), time);

        run(pipeline, FetchRequest.get(URI.create("http://slow.test/a")));

        assertThat(seen).containsExactly("slow", "default");
    }

    @Test
    void anUpstreamTheRequestCarriesGovernsAsItsFrontDoorFoundIt() throws Exception {
        // The route form looked "slow" up for its base_url; the name is not looked up a second time.
        Upstream named = upstreams.get("slow").orElseThrow();
        upstreams.remove("slow");
        List<Upstream> seen = new ArrayList<>();
        Stage record = chain -> {
            seen.add(chain.upstream());
            return chain.proceed(chain.request());
        };
        Pipeline pipeline = new Pipeline(List.of(new ResolveUpstreamStage(upstreams), record, ok()), time);

        run(
                pipeline,
                FetchRequest.builder("GET", URI.create("http://elsewhere.test/a"))
                        .upstream(Optional.of(named))
                        .build());

        assertThat(seen).singleElement().isSameAs(named);
    }

    @Test
    void theDeadlineIsTheShorterOfTheRequestsTimeoutAndThePolicysTotal() throws Exception {
        List<Long> deadlines = new ArrayList<>();
        Stage record = chain -> {
            deadlines.add(chain.call().deadlineNanos() - chain.call().startNanos());
            return chain.proceed(chain.request());
        };
        Pipeline pipeline =
                new Pipeline(List.of(new ResolveUpstreamStage(upstreams), new DeadlineStage(time), record, ok()), time);
        FetchRequest request = FetchRequest.get(URI.create("http://slow.test/a"));

        run(pipeline, request);
        run(
                pipeline,
                request.toBuilder().timeout(Optional.of(Duration.ofSeconds(2))).build());
        run(
                pipeline,
                request.toBuilder().timeout(Optional.of(Duration.ofSeconds(9))).build());

        assertThat(deadlines)
                .containsExactly(
                        Duration.ofSeconds(5).toNanos(),
                        Duration.ofSeconds(2).toNanos(),
                        Duration.ofSeconds(5).toNanos());
    }

    @Test
    void aRequestsTimeoutCountsOnlyWhenShorterThanTheLimit() {
        FetchRequest request = FetchRequest.get(URI.create("http://slow.test/a"));

        assertThat(request.timeoutWithin(Duration.ofSeconds(5))).isEqualTo(Duration.ofSeconds(5));
        assertThat(request.toBuilder()
                        .timeout(Optional.of(Duration.ofSeconds(1)))
                        .build()
                        .timeoutWithin(Duration.ofSeconds(5)))
                .isEqualTo(Duration.ofSeconds(1));
        assertThat(request.toBuilder()
                        .timeout(Optional.of(Duration.ofSeconds(7)))
                        .build()
                        .timeoutWithin(Duration.ofSeconds(5)))
                .isEqualTo(Duration.ofSeconds(5));
    }

    @Test
    void theFrontDoorsThreadReachesTheCallUnread() {
        Pipeline pipeline = new Pipeline(List.of(ok()), time);
        java.util.concurrent.Executor ioThread = Runnable::run;

        assertThat(pipeline.newCall(FetchRequest.get(URI.create("http://slow.test/")), ioThread)
                        .affinity())
                .isSameAs(ioThread);
        assertThat(pipeline.newCall(FetchRequest.get(URI.create("http://slow.test/")))
                        .affinity())
                .isNull();
    }

    private static Stage ok() {
        return chain -> CompletableFuture.completedFuture(new FetchResponse(
                200, Fields.EMPTY, ResponseBody.empty(), chain.call().trace()));
    }

    private static FetchOutcome run(Pipeline pipeline, FetchRequest request) throws Exception {
        FetchOutcome outcome = pipeline.newCall(request).execute().get(5, TimeUnit.SECONDS);
        if (outcome instanceof FetchResponse response) response.body().discard();
        return outcome;
    }

    private static String name(Upstream upstream) {
        return upstream == null ? "none" : upstream.name();
    }

    private static Upstreams upstreams() {
        return TestConfig.upstreams("""
                upstreams:
                  slow:
                    match: ["http://slow.test"]
                    timeouts: {connect: 1s, response: 5s, total: 5s}
                """);
    }
}
