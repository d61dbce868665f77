package io.sluice.limit;

import static org.assertj.core.api.Assertions.assertThat;

import io.sluice.StandardPipeline;
import io.sluice.cache.CacheStage;
import io.sluice.config.ConfigLoader;
import io.sluice.fetch.DeadlineStage;
import io.sluice.fetch.FetchFailure;
import io.sluice.fetch.FetchListener;
import io.sluice.fetch.FetchOutcome;
import io.sluice.fetch.FetchRequest;
import io.sluice.fetch.FetchResponse;
import io.sluice.fetch.Pipeline;
import io.sluice.fetch.ResolveUpstreamStage;
import io.sluice.guard.AddressGuard;
import io.sluice.send.SendStage;
import io.sluice.time.FakeTimeSource;
import io.sluice.upstream.Upstreams;
import java.net.URI;
import java.net.http.HttpClient;
import java.util.Map;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.TimeUnit;
import mockwebserver3.MockWebServer;

/**
 * The real pipeline on fake time in front of a real HTTP upstream (a MockWebServer on port 0): time
 * only moves when a test advances it, so buckets and allowances are exact, while every request
 * really crosses a socket.
 */
final class RealUpstream {
    final FakeTimeSource time = new FakeTimeSource();
    final Pipeline pipeline;
    final AdmissionStage admission;
    private final MockWebServer server;

    RealUpstream(MockWebServer server, String policy, boolean cache, ExecutorService workers, FetchListener events) {
        this.server = server;
        String origin = "http://127.0.0.1:" + server.getPort();
        Upstreams upstreams = Harness.upstreams(policy + "\nallow_private: true", origin);
        HttpClient client = HttpClient.newBuilder()
                .executor(workers)
                .proxy(HttpClient.Builder.NO_PROXY)
                .build();
        this.admission = AdmissionStage.local(time, workers);
        StandardPipeline stages = new StandardPipeline()
                .resolve(new ResolveUpstreamStage(upstreams))
                .deadline(new DeadlineStage(time))
                .admission(admission)
                .concurrency(new ConcurrencyStage(time, workers))
                .send(new SendStage(client, new AddressGuard(workers), workers, time));
        if (cache)
            stages.cache(new CacheStage(new ConfigLoader(Map.of()).defaults().cache(), time, workers));
        this.pipeline = new Pipeline(stages.stages(), time, events);
    }

    FetchOutcome get(String path) throws Exception {
        FetchRequest request = FetchRequest.get(URI.create("http://127.0.0.1:" + server.getPort() + path));
        FetchOutcome outcome = pipeline.newCall(request).execute().get(10, TimeUnit.SECONDS);
        // Read to the end, as a client would: a body thrown away half-read is not stored by the cache.
        if (outcome instanceof FetchResponse response)
            response.body().collect(1 << 20).get(10, TimeUnit.SECONDS);
        return outcome;
    }

    int status(String path) throws Exception {
        FetchOutcome outcome = get(path);
        assertThat(outcome).as("%s", outcome).isInstanceOf(FetchResponse.class);
        return ((FetchResponse) outcome).status();
    }

    /** The failure of a request that must fail. */
    FetchFailure refused(String path) throws Exception {
        FetchOutcome outcome = get(path);
        assertThat(outcome).as("%s", outcome).isInstanceOf(FetchFailure.class);
        return (FetchFailure) outcome;
    }
}
