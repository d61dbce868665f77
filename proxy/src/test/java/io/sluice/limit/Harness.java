package io.sluice.limit;

import io.sluice.fetch.Call;
import io.sluice.fetch.DeadlineStage;
import io.sluice.fetch.FetchOutcome;
import io.sluice.fetch.FetchRequest;
import io.sluice.fetch.Fields;
import io.sluice.fetch.Pipeline;
import io.sluice.fetch.RequestBody;
import io.sluice.fetch.ResolveUpstreamStage;
import io.sluice.fetch.Stage;
import io.sluice.testing.TestConfig;
import io.sluice.time.FakeTimeSource;
import io.sluice.upstream.Upstreams;
import java.net.URI;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;

/**
 * A real {@link Pipeline} on fake time: the two stages that compute what the chain carries
 * (resolve, deadline), then the stages under test in the order the test gives them (test doubles
 * among them), then a {@link FakeUpstream}. The upstream {@code example} governs
 * {@code http://api.test} with the policy given as YAML. Tests of the standard order use
 * {@link io.sluice.StandardPipeline} instead.
 */
public final class Harness {
    public final FakeTimeSource time;
    public final FakeUpstream upstream;
    public final Upstreams upstreams;
    public final Pipeline pipeline;

    private Harness(FakeTimeSource time, String policyYaml, List<Stage> stages) {
        this.time = time;
        this.upstream = new FakeUpstream(time);
        this.upstreams = upstreams(policyYaml);
        List<Stage> all = new ArrayList<>();
        all.add(new ResolveUpstreamStage(upstreams));
        all.add(new DeadlineStage(time));
        all.addAll(stages);
        all.add(upstream);
        this.pipeline = new Pipeline(all, time);
    }

    public static Harness of(FakeTimeSource time, String policyYaml, Stage... stages) {
        return new Harness(time, policyYaml, List.of(stages));
    }

    /** The upstreams of a config whose upstream {@code example} has the policy {@code policyYaml}. */
    public static Upstreams upstreams(String policyYaml) {
        return upstreams(policyYaml, "http://api.test");
    }

    /** The same, with upstream {@code example} governing {@code origin}. */
    public static Upstreams upstreams(String policyYaml, String origin) {
        return TestConfig.upstreams("upstreams:\n  example:\n    match: [\"" + origin + "\"]\n"
                + policyYaml.lines().map(l -> "    " + l + "\n").reduce("", String::concat));
    }

    public static FetchRequest get(String path) {
        return FetchRequest.get(URI.create("http://api.test" + path));
    }

    public static FetchRequest request(String method, String path, RequestBody body, String... headerPairs) {
        Map<String, List<String>> headers = new java.util.LinkedHashMap<>();
        for (int i = 0; i < headerPairs.length; i += 2) headers.put(headerPairs[i], List.of(headerPairs[i + 1]));
        return FetchRequest.builder(method, URI.create("http://api.test" + path))
                .headers(Fields.of(headers))
                .body(body)
                .build();
    }

    public static FetchRequest withMaxWait(FetchRequest r, Duration maxWait) {
        return r.toBuilder().maxWait(Optional.of(maxWait)).build();
    }

    public CompletableFuture<FetchOutcome> execute(FetchRequest request) {
        Call call = pipeline.newCall(request);
        return call.execute();
    }

    public CompletableFuture<FetchOutcome> get(String path, Duration maxWait) {
        return execute(withMaxWait(get(path), maxWait));
    }

    public void advance(Duration d) {
        time.advance(d);
    }
}
