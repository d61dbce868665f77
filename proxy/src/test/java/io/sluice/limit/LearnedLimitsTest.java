package io.sluice.limit;

import static org.assertj.core.api.Assertions.assertThat;

import io.sluice.fetch.ErrorType;
import io.sluice.fetch.FetchListener;
import java.net.InetAddress;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.AtomicReference;
import java.util.function.Function;
import mockwebserver3.Dispatcher;
import mockwebserver3.MockResponse;
import mockwebserver3.MockWebServer;
import mockwebserver3.RecordedRequest;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * {@code learn}: limits adopted from what a real upstream announces, on fake time. The upstream
 * states its policy on every response and changes it mid-test; Sluice follows it, never past a
 * configured limit.
 */
class LearnedLimitsTest {
    private final ExecutorService workers = Executors.newFixedThreadPool(4);
    private final MockWebServer server = new MockWebServer();
    /** The headers the upstream answers with, given the request. */
    private final AtomicReference<Function<RealUpstream, String[]>> announce =
            new AtomicReference<>(u -> new String[0]);
    /** When set, the headers answered depend on the request itself (a per-token count). */
    private final AtomicReference<Function<RecordedRequest, String[]>> byRequest = new AtomicReference<>();

    private final List<String> changes = new CopyOnWriteArrayList<>();
    private final FetchListener events = new FetchListener() {
        @Override
        public void learnedLimits(String upstream, String change) {
            changes.add(upstream + ":" + change);
        }
    };
    private RealUpstream sluice;
    private int seen;

    @BeforeEach
    void startUpstream() throws Exception {
        server.setDispatcher(new Dispatcher() {
            @Override
            public MockResponse dispatch(RecordedRequest request) {
                synchronized (LearnedLimitsTest.this) {
                    seen++;
                }
                Function<RecordedRequest, String[]> counting = byRequest.get();
                String[] headers = counting != null
                        ? counting.apply(request)
                        : announce.get().apply(sluice);
                MockResponse.Builder response =
                        new MockResponse.Builder().code(200).body("ok");
                for (int i = 0; i < headers.length; i += 2) response.addHeader(headers[i], headers[i + 1]);
                return response.build();
            }
        });
        server.start(InetAddress.getLoopbackAddress(), 0);
    }

    @AfterEach
    void stop() throws Exception {
        server.close();
        workers.shutdownNow();
    }

    private RealUpstream start(String policy) {
        sluice = new RealUpstream(server, policy + "\nmax_wait: 0s\nretry: {max_attempts: 1}", false, workers, events);
        return sluice;
    }

    private synchronized int seen() {
        return seen;
    }

    private void announcing(String... headers) {
        announce.set(u -> headers);
    }

    @Test
    void adoptsTheAnnouncedPolicyAndFollowsItsChange() throws Exception {
        RealUpstream s = start("limits: learn");
        announcing("RateLimit-Policy", "\"default\";q=3;w=60");

        assertThat(s.status("/1")).as("nothing learned yet: admitted").isEqualTo(200);
        assertThat(changes).containsExactly("example:adopted");
        for (int i = 2; i <= 4; i++) assertThat(s.status("/" + i)).isEqualTo(200);
        var refused = s.refused("/5");
        assertThat(refused.type()).isEqualTo(ErrorType.RATE_LIMITED);
        assertThat(refused.retryAfter()).hasValue(Duration.ofSeconds(20)); // 3 per minute
        assertThat(seen()).isEqualTo(4);

        // The upstream tightens its policy; the next answer says so.
        announcing("RateLimit-Policy", "\"default\";q=1;w=60");
        s.time.advance(Duration.ofMinutes(1));
        assertThat(s.status("/6")).isEqualTo(200);
        assertThat(s.status("/7"))
                .as("the bucket keeps its tokens, capped at the new burst")
                .isEqualTo(200);
        assertThat(s.refused("/8").retryAfter()).hasValue(Duration.ofMinutes(1));
        assertThat(seen()).isEqualTo(6);
    }

    @Test
    void neverLoosensAConfiguredLimit() throws Exception {
        RealUpstream s = start("limits: [{rate: 10/min}]\nlearn: true");
        announcing("RateLimit-Policy", "\"default\";q=100;w=60");
        for (int i = 0; i < 10; i++) assertThat(s.status("/" + i)).isEqualTo(200);
        assertThat(s.refused("/over").retryAfter())
                .as("the configured 10/min still holds beside a learned 100/min")
                .hasValue(Duration.ofSeconds(6));

        announcing("RateLimit-Policy", "\"default\";q=2;w=60");
        s.time.advance(Duration.ofMinutes(1));
        assertThat(s.status("/a")).isEqualTo(200); // admitted under 100/min; its answer says 2/min
        assertThat(s.status("/b")).isEqualTo(200);
        assertThat(s.status("/c")).isEqualTo(200);
        assertThat(s.refused("/d").retryAfter())
                .as("the learned 2/min is now the stricter")
                .hasValue(Duration.ofSeconds(30));
    }

    @Test
    void learnsGithubStyleLimitAndResetAsAnHourlyWindow() throws Exception {
        RealUpstream s = start("limits: learn");
        announce.set(u -> new String[] {
            "X-RateLimit-Limit",
            "60", // no Remaining: what is left is the subject of the tests below
            "X-RateLimit-Reset",
            Long.toString(u.time.clock().instant().plusSeconds(3000).getEpochSecond())
        });
        assertThat(s.status("/first")).isEqualTo(200);
        for (int i = 0; i < 60; i++) assertThat(s.status("/" + i)).isEqualTo(200);
        assertThat(s.refused("/over").retryAfter())
                .as("60 per hour: 3000 s to the reset lies within an hour's window")
                .hasValue(Duration.ofMinutes(1));
        assertThat(s.admission.learnedView("example").orElseThrow().field()).isEqualTo("X-RateLimit-Limit");
    }

    @Test
    void appliesLearnedLimitsPerKeyWhenThePolicyHasOne() throws Exception {
        RealUpstream s = start("limits: learn\nkey: query:token");
        announcing("RateLimit-Policy", "\"default\";q=1;w=60");
        assertThat(s.status("/first")).isEqualTo(200);
        assertThat(s.status("/a?token=alice")).isEqualTo(200);
        assertThat(s.status("/b?token=bob")).as("bob's own bucket").isEqualTo(200);
        assertThat(s.refused("/a2?token=alice").retryAfter()).hasValue(Duration.ofMinutes(1));
    }

    @Test
    void ignoresAndCountsNonsenseAndFloorsHostileValues() throws Exception {
        RealUpstream s = start("limits: learn");
        for (String nonsense :
                new String[] {"\"d\";q=-1;w=60", "\"d\";q=10;w=0", "\"d\";q=99999999999;w=60", "\"d\";w=60", "\"open"
                }) {
            announcing("RateLimit-Policy", nonsense);
            assertThat(s.status("/n")).isEqualTo(200);
        }
        assertThat(changes)
                .containsExactly(
                        "example:rejected",
                        "example:rejected",
                        "example:rejected",
                        "example:rejected",
                        "example:rejected");
        assertThat(s.admission.learnedView("example").orElseThrow().rejected()).isEqualTo(5);

        // One request a day would stall the upstream: never slower than one a minute.
        announcing("RateLimit-Policy", "\"d\";q=1;w=86400");
        assertThat(s.status("/floor")).isEqualTo(200);
        assertThat(s.status("/next")).isEqualTo(200);
        assertThat(s.refused("/again").retryAfter()).hasValue(Duration.ofMinutes(1));
    }

    @Test
    void pinKeepsAndResetForgetsWhatWasLearned() throws Exception {
        RealUpstream s = start("limits: learn");
        announcing("RateLimit-Policy", "\"d\";q=5;w=60");
        s.status("/1");
        s.admission.pin("example");
        announcing("RateLimit-Policy", "\"d\";q=1;w=60");
        s.status("/2");
        var view = s.admission.learnedView("example").orElseThrow();
        assertThat(view.pinned()).isTrue();
        assertThat(view.limits())
                .singleElement()
                .satisfies(l -> assertThat(l.tokens()).isEqualTo(5));

        s.admission.reset("example");
        assertThat(s.admission.learnedView("example"))
                .satisfies(v -> assertThat(v.map(l -> l.limits().isEmpty()).orElse(true))
                        .isTrue());
        s.status("/3");
        assertThat(s.admission.learnedView("example").orElseThrow().limits())
                .singleElement()
                .satisfies(l -> assertThat(l.tokens()).isEqualTo(1));
    }

    @Test
    void newlyLearnedBucketStartsFromWhatTheUpstreamSaysIsLeft() throws Exception {
        RealUpstream s = start("limits: learn");
        AtomicLong left = new AtomicLong(3); // others have spent 57 of this hour's 60
        byRequest.set(r -> new String[] {
            "RateLimit-Policy",
            "\"hourly\";q=60;w=3600",
            "RateLimit-Remaining",
            Long.toString(Math.max(0, left.decrementAndGet()))
        });

        assertThat(s.status("/1")).isEqualTo(200);
        assertThat(s.status("/2"))
                .as("the learned bucket starts with the 2 said to be left")
                .isEqualTo(200);
        assertThat(s.status("/3")).isEqualTo(200);
        assertThat(s.refused("/4").retryAfter())
                .as("not a fresh burst of 60: the next token is a minute away (60 per hour)")
                .hasValue(Duration.ofMinutes(1));
        assertThat(seen()).isEqualTo(3);
    }

    @Test
    void tightensToWhatIsLeftWhenOthersSpendTheQuotaAndNeverAddsTokens() throws Exception {
        RealUpstream s = start("limits: learn");
        AtomicLong left = new AtomicLong(10);
        byRequest.set(r -> new String[] {
            "RateLimit-Policy",
            "\"default\";q=10;w=60",
            "RateLimit-Remaining",
            Long.toString(Math.max(0, left.decrementAndGet()))
        });
        assertThat(s.status("/1")).isEqualTo(200); // learns 10/min, 9 left
        assertThat(s.status("/2")).isEqualTo(200); // 8 left, as the bucket counts too

        left.set(2); // another client of the same account spends 6 meanwhile
        assertThat(s.status("/3")).as("answered: 1 left").isEqualTo(200);
        assertThat(s.status("/4")).isEqualTo(200);
        assertThat(s.refused("/5").retryAfter())
                .as("6 tokens were still in the bucket; the upstream's count won")
                .hasValue(Duration.ofSeconds(6));
        assertThat(seen()).isEqualTo(4);

        // The upstream's window resets and it says 10 are left: the bucket refills at its own pace.
        s.time.advance(Duration.ofSeconds(6));
        left.set(11);
        assertThat(s.status("/6")).isEqualTo(200);
        assertThat(s.refused("/7").retryAfter())
                .as("a higher count never adds tokens")
                .hasValue(Duration.ofSeconds(6));
    }

    @Test
    void perKeyLearnedBucketsStartFromEachKeysOwnCount() throws Exception {
        RealUpstream s = start("limits: learn\nkey: query:token");
        Map<String, AtomicLong> left =
                new ConcurrentHashMap<>(Map.of("alice", new AtomicLong(3), "bob", new AtomicLong(50)));
        Map<String, AtomicLong> served = new ConcurrentHashMap<>();
        byRequest.set(r -> {
            String token = r.getUrl().queryParameter("token");
            served.computeIfAbsent(token, t -> new AtomicLong()).incrementAndGet();
            return new String[] {
                "RateLimit-Policy",
                "\"hourly\";q=100;w=3600",
                "RateLimit-Remaining",
                Long.toString(Math.max(0, left.get(token).decrementAndGet()))
            };
        });

        for (int i = 1; i <= 3; i++)
            assertThat(s.status("/a" + i + "?token=alice")).isEqualTo(200);
        assertThat(s.refused("/a4?token=alice").retryAfter())
                .as("alice's own count, 3 left, not a fresh burst of 100")
                .hasValue(Duration.ofSeconds(36));
        for (int i = 1; i <= 5; i++)
            assertThat(s.status("/b" + i + "?token=bob"))
                    .as("bob's learned bucket is his own")
                    .isEqualTo(200);
        assertThat(served.get("alice")).hasValue(3);
        assertThat(served.get("bob")).hasValue(5);
    }

    @Test
    void tighteningLeavesTheConfiguredLimitsTokensAlone() throws Exception {
        RealUpstream s = start("limits: [{rate: 5/min}]\nlearn: true");
        AtomicLong left = new AtomicLong(1);
        byRequest.set(r -> new String[] {
            "RateLimit-Policy", "\"burst\";q=100;w=1", "RateLimit-Remaining", Long.toString(left.getAndSet(100))
        });
        assertThat(s.status("/1")).isEqualTo(200); // the learned 100/s is capped at 1 left; 5/min keeps 4

        s.time.advance(Duration.ofSeconds(1)); // the learned limit refills; the configured one hardly
        for (int i = 2; i <= 5; i++) assertThat(s.status("/" + i)).isEqualTo(200);
        assertThat(s.refused("/6").retryAfter())
                .as("the configured 5/min spent its own 5, no more and no fewer")
                .hasValue(Duration.ofSeconds(11));
        assertThat(seen()).isEqualTo(5);
    }
}
