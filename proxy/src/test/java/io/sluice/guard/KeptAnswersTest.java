package io.sluice.guard;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.sluice.time.FakeTimeSource;
import java.net.InetAddress;
import java.net.URI;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.Executor;
import org.junit.jupiter.api.Test;

/** The guard keeps a name's answer for a while, checks it on every admission, and asks DNS again after. */
class KeptAnswersTest {

    private final FakeResolver dns = new FakeResolver();
    private final FakeTimeSource time = new FakeTimeSource();
    /** Runs nothing by itself: a test sees exactly which admissions needed the lookup executor. */
    private final List<Runnable> handedOff = new ArrayList<>();

    private final Executor lookups = handedOff::add;
    private final AddressGuard guard = new AddressGuard(lookups, dns, time, Duration.ofSeconds(30));

    @Test
    void looksUpOnceThenAdmitsOnTheCallersThreadUntilTheAnswerTimeEnds() throws Exception {
        dns.answer("api.example.com", "93.184.216.34").answer("api.example.com", "93.184.216.35");

        CompletableFuture<InetAddress> first = guard.admitDirect(URI.create("https://api.example.com/a"), false);
        assertThat(first).isNotDone();
        runHandedOff();
        assertThat(first.get().getHostAddress()).isEqualTo("93.184.216.34");

        time.advance(Duration.ofSeconds(29));
        CompletableFuture<InetAddress> kept = guard.admitDirect(URI.create("https://API.example.com./b"), false);
        assertThat(kept).isCompleted();
        assertThat(kept.get().getHostAddress()).isEqualTo("93.184.216.34");
        assertThat(handedOff).isEmpty();
        assertThat(dns.lookups()).hasSize(1);

        time.advance(Duration.ofSeconds(1));
        CompletableFuture<InetAddress> fresh = guard.admitDirect(URI.create("https://api.example.com/c"), false);
        assertThat(fresh).isNotDone();
        runHandedOff();
        assertThat(fresh.get().getHostAddress()).isEqualTo("93.184.216.35");
        assertThat(dns.lookups()).hasSize(2);
    }

    @Test
    void aKeptAnswerIsStillCheckedForEachUpstreamsOwnRule() throws Exception {
        dns.answer("internal.example", "10.1.2.3");

        CompletableFuture<InetAddress> allowed = guard.admitDirect(URI.create("http://internal.example/"), true);
        runHandedOff();
        assertThat(allowed.get().getHostAddress()).isEqualTo("10.1.2.3");

        // Same name, kept answer, but an upstream that does not allow private addresses: refused, no lookup.
        CompletableFuture<InetAddress> refused = guard.admitDirect(URI.create("http://internal.example/"), false);
        assertThat(refused).isCompletedExceptionally();
        assertThatThrownBy(refused::get)
                .isInstanceOf(ExecutionException.class)
                .cause()
                .isInstanceOf(BlockedAddressException.class)
                .hasMessageContaining("10.1.2.3");
        assertThat(dns.lookups()).hasSize(1);
    }

    @Test
    void aFailedLookupIsNotKept() {
        CompletableFuture<InetAddress> first = guard.admitDirect(URI.create("https://nowhere.example/"), false);
        runHandedOff();
        assertThat(first).isCompletedExceptionally();

        dns.answer("nowhere.example", "93.184.216.34");
        CompletableFuture<InetAddress> second = guard.admitDirect(URI.create("https://nowhere.example/"), false);
        runHandedOff();
        assertThat(second).isCompletedWithValueMatching(a -> a.getHostAddress().equals("93.184.216.34"));
        assertThat(dns.lookups()).hasSize(2);
    }

    @Test
    void aLiteralNeedsNoLookupAndIsCheckedOnTheCallersThread() {
        assertThat(guard.admitDirect(URI.create("http://127.0.0.1:9/"), false)).isCompletedExceptionally();
        assertThat(guard.admitDirect(URI.create("http://127.0.0.1:9/"), true))
                .isCompletedWithValueMatching(InetAddress::isLoopbackAddress);
        assertThat(handedOff).isEmpty();
        assertThat(dns.lookups()).isEmpty();
    }

    @Test
    void pinnedAdmissionsShareTheKeptAnswer() throws Exception {
        dns.answer("api.example.com", "93.184.216.34");
        FakeResolver jvm = new FakeResolver().answer("api.example.com", "93.184.216.34");
        AddressGuard guard = new AddressGuard(lookups, dns, jvm, time, Duration.ofSeconds(30));
        guard.admitDirect(URI.create("https://api.example.com/"), false);
        runHandedOff();

        CompletableFuture<Pin> pinned = guard.admit(URI.create("https://api.example.com/"), false);
        runHandedOff();
        try (Pin pin = pinned.get()) {
            assertThat(pin.addresses()).isNotEmpty();
        }
        assertThat(dns.lookups()).hasSize(1);
    }

    private void runHandedOff() {
        List<Runnable> tasks = new ArrayList<>(handedOff);
        handedOff.clear();
        tasks.forEach(Runnable::run);
    }
}
