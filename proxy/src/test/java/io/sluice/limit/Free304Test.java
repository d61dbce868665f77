package io.sluice.limit;

import static org.assertj.core.api.Assertions.assertThat;

import io.sluice.fetch.Call;
import io.sluice.fetch.ErrorType;
import io.sluice.fetch.FetchListener;
import java.net.InetAddress;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicReference;
import mockwebserver3.Dispatcher;
import mockwebserver3.MockResponse;
import mockwebserver3.MockWebServer;
import mockwebserver3.RecordedRequest;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * {@code free_304}: the cache's revalidations of a stored response go out without a token, within
 * the revalidation allowance, against a real upstream that answers {@code 304} while its
 * representation is unchanged; on fake time.
 */
class Free304Test {
    private final ExecutorService workers = Executors.newFixedThreadPool(4);
    private final MockWebServer server = new MockWebServer();
    private final AtomicReference<String> etag = new AtomicReference<>("\"v1\"");
    private final List<String> conditional = new CopyOnWriteArrayList<>();
    private final AtomicInteger saved = new AtomicInteger();
    private final FetchListener events = new FetchListener() {
        @Override
        public void tokenSaved(Call call) {
            saved.incrementAndGet();
        }
    };

    @BeforeEach
    void startUpstream() throws Exception {
        server.setDispatcher(new Dispatcher() {
            @Override
            public MockResponse dispatch(RecordedRequest request) {
                String asked = request.getHeaders().get("If-None-Match");
                conditional.add(asked == null ? "-" : asked);
                if (etag.get().equals(asked)) {
                    return new MockResponse.Builder()
                            .code(304)
                            .addHeader("ETag", etag.get())
                            .build();
                }
                // Stored, and revalidated on every use (RFC 9111 §5.2.2.4).
                return new MockResponse.Builder()
                        .code(200)
                        .addHeader("ETag", etag.get())
                        .addHeader("Cache-Control", "no-cache")
                        .body("representation " + etag.get())
                        .build();
            }
        });
        server.start(InetAddress.getLoopbackAddress(), 0);
    }

    @AfterEach
    void stop() throws Exception {
        server.close();
        workers.shutdownNow();
    }

    @Test
    void revalidationsSpendNoTokenWithinTheAllowanceAndA200IsChargedAfterTheFact() throws Exception {
        RealUpstream s = new RealUpstream(
                server,
                "limits: [{rate: 1/min, burst: 1}]\nfree_304: true\nmax_wait: 0s\nretry: {max_attempts: 1}",
                true,
                workers,
                events);

        assertThat(s.status("/doc")).as("a miss spends the one token").isEqualTo(200);
        assertThat(s.status("/doc"))
                .as("revalidated for free: 304, full stored response")
                .isEqualTo(200);
        assertThat(saved).hasValue(1);
        assertThat(s.refused("/doc").type())
                .as("the allowance (a tenth of 1/min, at least one token) is spent, and so is the bucket")
                .isEqualTo(ErrorType.RATE_LIMITED);
        assertThat(conditional).containsExactly("-", "\"v1\"");

        s.time.advance(Duration.ofMinutes(10)); // the allowance refills at a tenth of the rate
        assertThat(s.status("/doc")).isEqualTo(200);
        assertThat(saved).hasValue(2);
        assertThat(s.status("/other"))
                .as("the 304 left the bucket's token alone")
                .isEqualTo(200);

        // The representation changes: the revalidation is answered 200 and charged after the fact.
        etag.set("\"v2\"");
        s.time.advance(Duration.ofMinutes(10));
        assertThat(s.status("/doc")).isEqualTo(200);
        assertThat(saved).hasValue(2);
        assertThat(s.refused("/third").retryAfter())
                .as("the 200 took the bucket's token")
                .hasValueSatisfying(wait -> assertThat(wait).isPositive());
        assertThat(conditional).containsExactly("-", "\"v1\"", "\"v1\"", "-", "\"v1\"");
    }

    @Test
    void withoutFree304ARevalidationSpendsAToken() throws Exception {
        RealUpstream s = new RealUpstream(
                server,
                "limits: [{rate: 1/min, burst: 1}]\nmax_wait: 0s\nretry: {max_attempts: 1}",
                true,
                workers,
                events);
        assertThat(s.status("/doc")).isEqualTo(200);
        assertThat(s.refused("/doc").type()).isEqualTo(ErrorType.RATE_LIMITED);
        assertThat(saved).hasValue(0);
    }

    @Test
    void aCharged200DrivesTheBucketIntoDebtThatLaterRequestsWaitOut() throws Exception {
        RealUpstream s = new RealUpstream(
                server,
                "limits: [{rate: 1/min, burst: 1}]\nfree_304: true\nmax_wait: 0s\nretry: {max_attempts: 1}",
                true,
                workers,
                events);
        assertThat(s.status("/doc")).isEqualTo(200); // bucket 0
        etag.set("\"v2\"");
        assertThat(s.status("/doc"))
                .as("free, then charged: the bucket owes one token")
                .isEqualTo(200);
        s.time.advance(Duration.ofMinutes(1));
        assertThat(s.refused("/x").retryAfter())
                .as("a minute pays the debt back, not yet for a new token")
                .hasValue(Duration.ofMinutes(1));
        s.time.advance(Duration.ofMinutes(1));
        assertThat(s.status("/x")).isEqualTo(200);
    }
}
