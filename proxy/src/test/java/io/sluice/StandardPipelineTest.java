package io.sluice;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.sluice.cache.CacheStage;
import io.sluice.config.CacheConfig;
import io.sluice.config.DataSize;
import io.sluice.connect.OpenTunnelStage;
import io.sluice.fetch.DeadlineStage;
import io.sluice.fetch.ResolveUpstreamStage;
import io.sluice.fetch.Stage;
import io.sluice.guard.AddressGuard;
import io.sluice.limit.AdmissionStage;
import io.sluice.limit.ConcurrencyStage;
import io.sluice.redirect.RedirectStage;
import io.sluice.retry.RetryStage;
import io.sluice.send.RefuseEarlyStage;
import io.sluice.send.SendStage;
import io.sluice.testing.SluiceServerExtension;
import io.sluice.testing.TestConfig;
import io.sluice.time.FakeTimeSource;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.http.HttpClient;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

class StandardPipelineTest {
    @RegisterExtension
    final SluiceServerExtension sluice = new SluiceServerExtension();

    private final FakeTimeSource time = new FakeTimeSource();
    private final AddressGuard guard = new AddressGuard(Runnable::run);
    private final ResolveUpstreamStage resolve = new ResolveUpstreamStage(
            TestConfig.upstreams("upstreams:\n  example:\n    match: [\"http://api.test\"]\n"));
    private final CacheStage cache =
            new CacheStage(new CacheConfig(DataSize.ofMegabytes(1), DataSize.ofKilobytes(64)), time, Runnable::run);
    private final AdmissionStage admission = AdmissionStage.local(time, Runnable::run);
    private final ConcurrencyStage concurrency = new ConcurrencyStage(time, Runnable::run);
    private final Stage fakeSend = chain -> CompletableFuture.failedFuture(new AssertionError("not run"));

    @Test
    void ordersEveryStageAsTheDevelopmentPageDrawsIt() {
        try (HttpClient client = HttpClient.newHttpClient()) {
            // Given last to first: the order is StandardPipeline's, not the caller's.
            List<Stage> stages = new StandardPipeline()
                    .send(new SendStage(client, guard, Runnable::run, time))
                    .concurrency(concurrency)
                    .admission(admission)
                    .retry(new RetryStage(time, Runnable::run))
                    .cache(cache)
                    .deadline(new DeadlineStage(time))
                    .refuseEarly(new RefuseEarlyStage(guard))
                    .resolve(resolve)
                    .redirect(new RedirectStage())
                    .stages();

            assertThat(names(stages)).containsExactlyElementsOf(drawnOnTheDevelopmentPage());
        }
    }

    @Test
    void aStartedSluiceRunsEveryStageInThatOrder() {
        Sluice running = sluice.start("""
                        upstreams:
                          example:
                            base_url: http://api.test
                        """).sluice();

        assertThat(names(running.pipeline().stages())).containsExactlyElementsOf(drawnOnTheDevelopmentPage());
    }

    @Test
    void leavesOutTheStagesNotGiven() {
        List<Stage> stages = new StandardPipeline()
                .send(fakeSend)
                .cache(cache)
                .resolve(resolve)
                .stages();

        assertThat(stages).containsExactly(resolve, cache, fakeSend);
    }

    @Test
    void tunnelsPassTheSameResolutionAdmissionAndConcurrency() {
        OpenTunnelStage openTunnel = new OpenTunnelStage(guard, null);
        StandardPipeline standard = new StandardPipeline()
                .resolve(resolve)
                .deadline(new DeadlineStage(time))
                .cache(cache)
                .admission(admission)
                .concurrency(concurrency)
                .send(fakeSend);

        assertThat(standard.tunnelStages(openTunnel)).containsExactly(resolve, admission, concurrency, openTunnel);
    }

    @Test
    void cannotBeBuiltWithoutResolutionOrAnEnd() {
        assertThatThrownBy(() -> new StandardPipeline().send(fakeSend).stages())
                .isInstanceOf(IllegalStateException.class)
                .hasMessage("the pipeline needs a resolve stage");
        assertThatThrownBy(() -> new StandardPipeline().resolve(resolve).stages())
                .isInstanceOf(IllegalStateException.class)
                .hasMessage("the pipeline needs a send stage");
    }

    /** Each stage's class name without "Stage", as the development page draws it. */
    private static List<String> names(List<Stage> stages) {
        return stages.stream()
                .map(s -> s.getClass().getSimpleName().replaceFirst("Stage$", ""))
                .toList();
    }

    /** The stage names on the line of docs/development.md's picture that starts {@code ─► Redirect}. */
    private static List<String> drawnOnTheDevelopmentPage() {
        String line = read("docs/development.md")
                .lines()
                .filter(l -> l.strip().startsWith("─► Redirect"))
                .findFirst()
                .orElseThrow(() -> new AssertionError("no pipeline picture in docs/development.md"));
        return Arrays.stream(line.split("─►"))
                .map(String::strip)
                .filter(s -> !s.isEmpty())
                .toList();
    }

    private static String read(String relative) {
        for (Path d = Path.of("").toAbsolutePath(); d != null; d = d.getParent()) {
            Path file = d.resolve(relative);
            if (Files.isRegularFile(file)) {
                try {
                    return Files.readString(file);
                } catch (IOException e) {
                    throw new UncheckedIOException(e);
                }
            }
        }
        throw new IllegalStateException(
                "no " + relative + " above " + Path.of("").toAbsolutePath());
    }
}
