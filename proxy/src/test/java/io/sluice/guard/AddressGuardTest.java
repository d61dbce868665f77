package io.sluice.guard;

import static io.sluice.guard.Addresses.admitted;
import static io.sluice.guard.Addresses.blocked;
import static io.sluice.guard.Addresses.failure;
import static io.sluice.guard.Addresses.texts;
import static org.assertj.core.api.Assertions.assertThat;

import java.net.InetAddress;
import java.net.URI;
import java.net.UnknownHostException;
import java.util.ArrayDeque;
import java.util.List;
import java.util.Queue;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.Executor;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.junit.jupiter.params.provider.ValueSource;

class AddressGuardTest {

    private static final Executor DIRECT = Runnable::run;

    private final FakeResolver dns = new FakeResolver();
    private final AddressGuard guard = new AddressGuard(DIRECT, dns);

    @ParameterizedTest(name = "{0} is {1}")
    @CsvSource({
        "http://127.0.0.1/, LOOPBACK",
        "http://127.0.0.2:8080/, LOOPBACK",
        "http://[::1]:8080/, LOOPBACK",
        "http://169.254.169.254/latest/meta-data/, METADATA",
        "http://[fd00:ec2::254]/latest/meta-data/, METADATA",
        "http://169.254.10.10/, LINK_LOCAL",
        "http://[fe80::1]/, LINK_LOCAL",
        "http://10.0.0.1/, PRIVATE",
        "https://192.168.0.1/, PRIVATE",
        "http://100.64.0.1/, CGNAT",
        "http://[fd12:3456::1]/, UNIQUE_LOCAL",
        "http://0.0.0.0:7600/, UNSPECIFIED",
        "http://[::]:7600/, UNSPECIFIED",
        "http://224.0.0.251/, MULTICAST",
        "http://192.0.2.1/, RESERVED",
        "http://2130706433/, LOOPBACK",
        "http://2852039166/, METADATA",
        "http://[::ffff:127.0.0.1]/, LOOPBACK",
        "http://[::ffff:a9fe:a9fe]/, METADATA",
        "http://[64:ff9b::a9fe:a9fe]/, IPV4_EMBEDDED",
        "http://[2002:c0a8:101::1]/, IPV4_EMBEDDED",
        "http://[::7f00:1]/, IPV4_EMBEDDED",
    })
    void refusesForbiddenAddressLiteral(String uri, AddressClass expected) throws Exception {
        BlockedAddressException refusal = blocked(guard.admit(URI.create(uri), false));

        assertThat(refusal.addressClass()).contains(expected);
        assertThat(dns.lookups()).as("literals are never looked up").isEmpty();
    }

    @Test
    void refusesCloudMetadataAddress() throws Exception {
        BlockedAddressException refusal = blocked(guard.admit(URI.create("http://169.254.169.254/latest/"), false));

        assertThat(refusal)
                .hasMessage("169.254.169.254 is link-local (cloud metadata); the upstream does not allow private"
                        + " addresses");
        assertThat(refusal.host()).contains("169.254.169.254");
        assertThat(refusal.address()).contains(Addresses.of("169.254.169.254"));
        assertThat(refusal.addressClass()).contains(AddressClass.METADATA);
    }

    @Test
    void namesTheAddressAnOddLiteralStandsFor() throws Exception {
        assertThat(blocked(guard.admit(URI.create("http://2130706433/"), false)))
                .hasMessage("\"2130706433\" is 127.0.0.1, which is loopback; the upstream does not allow private"
                        + " addresses");
        assertThat(blocked(guard.admit(URI.create("http://[0:0:0:0:0:ffff:7f00:1]/"), false)))
                .hasMessageStartingWith("\"[0:0:0:0:0:ffff:7f00:1]\" is 127.0.0.1, which is loopback");
        assertThat(blocked(guard.admit(URI.create("http://[fd00:ec2:0:0:0:0:0:254]/"), false)))
                .hasMessageStartingWith("\"[fd00:ec2:0:0:0:0:0:254]\" is fd00:ec2::254, which is unique local (AWS"
                        + " instance metadata)");
    }

    @ParameterizedTest
    @ValueSource(strings = {"http://0177.0.0.1/", "http://0x7f000001/", "http://017700000001/", "http://127.0.0.01/"})
    void refusesAmbiguousNumericHostEvenWhenPrivateIsAllowed(String uri) throws Exception {
        assertThat(blocked(guard.admit(URI.create(uri), true))).hasMessageStartingWith("ambiguous IPv4 literal");
        assertThat(dns.lookups()).isEmpty();
    }

    @ParameterizedTest
    @ValueSource(
            strings = {
                "http://169.254.169.254/latest/",
                "http://2130706433/",
                "http://[::ffff:a9fe:a9fe]/",
                "http://10.0.0.1:8080/",
                "http://0177.0.0.1/",
                "http://127.1/"
            })
    void refusalDecidesALiteralAsAdmitDoesWithoutALookup(String uri) throws Exception {
        var refused = guard.refusal(URI.create(uri), false);

        assertThat(refused)
                .isNotNull()
                .hasMessage(blocked(guard.admit(URI.create(uri), false)).getMessage());
        assertThat(dns.lookups()).isEmpty();
    }

    @Test
    void refusalLeavesANameAndAnAllowedLiteralToTheSend() {
        assertThat(guard.refusal(URI.create("http://api.example.com/"), false)).isNull();
        assertThat(guard.refusal(URI.create("http://127.0.0.1:8080/"), true)).isNull();
        assertThat(guard.refusal(URI.create("http://93.184.216.34/"), false)).isNull();
        assertThat(dns.lookups())
                .as("a name is looked up by the send, not here")
                .isEmpty();
    }

    @ParameterizedTest
    @ValueSource(strings = {"http://0x7f.1/", "http://127.1/", "http://exa_mple.com/", "http:///etc/passwd"})
    void refusesUriWithoutParsableHost(String uri) throws Exception {
        assertThat(blocked(guard.admit(URI.create(uri), true))).hasMessage("missing host");
    }

    @Test
    void refusesUnsupportedScheme() throws Exception {
        assertThat(blocked(guard.admit(URI.create("file:///etc/passwd"), true)))
                .hasMessage("unsupported scheme \"file\"");
        assertThat(blocked(guard.admit(URI.create("gopher://127.0.0.1:6379/_INFO"), true)))
                .hasMessage("unsupported scheme \"gopher\"");
        assertThat(blocked(guard.admit(URI.create("/relative/path"), true))).hasMessage("missing scheme");
    }

    @Test
    void admitsPublicAddressLiteral() throws Exception {
        try (Pin pin = admitted(guard.admit(URI.create("https://93.184.216.34/index.html"), false))) {
            assertThat(texts(pin.addresses())).containsExactly("93.184.216.34");
        }
        try (Pin pin = admitted(guard.admit(URI.create("HTTP://[2606:4700:4700::1111]:8443/"), false))) {
            assertThat(pin.addresses()).containsExactly(Addresses.of("2606:4700:4700::1111"));
        }
    }

    @Test
    void admitsPrivateAddressWhenUpstreamAllowsIt() throws Exception {
        try (Pin pin = admitted(guard.admit(URI.create("http://127.0.0.1:9000/"), true))) {
            assertThat(texts(pin.addresses())).containsExactly("127.0.0.1");
        }
        try (Pin pin = admitted(guard.admit(URI.create("http://169.254.169.254/"), true))) {
            assertThat(texts(pin.addresses())).containsExactly("169.254.169.254");
        }
    }

    @Test
    void refusesNameThatResolvesToCloudMetadata() throws Exception {
        dns.answer("metadata.guard.test", "169.254.169.254");

        BlockedAddressException refusal = blocked(guard.admit(URI.create("http://metadata.guard.test/"), false));

        assertThat(refusal)
                .hasMessage("\"metadata.guard.test\" resolves to 169.254.169.254, which is link-local (cloud"
                        + " metadata); the upstream does not allow private addresses");
        assertThat(refusal.host()).contains("metadata.guard.test");
        assertThat(refusal.addressClass()).contains(AddressClass.METADATA);
        assertThat(PinTable.GLOBAL.pinned("metadata.guard.test"))
                .as("nothing pinned")
                .isNull();
    }

    @Test
    void refusesNameWhenAnyOfItsAddressesIsForbidden() throws Exception {
        dns.answer("mixed.guard.test", "93.184.216.34", "2606:4700::1", "fd00::5");

        BlockedAddressException refusal = blocked(guard.admit(URI.create("https://mixed.guard.test/"), false));

        assertThat(refusal.address()).contains(Addresses.of("fd00::5"));
        assertThat(refusal.addressClass()).contains(AddressClass.UNIQUE_LOCAL);
    }

    @Test
    void admitsNameWithPublicAddresses() throws Exception {
        dns.answer("public.guard.test", "93.184.216.34", "2606:2800:220:1:248:1893:25c8:1946");

        try (Pin pin = admitted(guard.admit(URI.create("https://public.guard.test/"), false))) {
            assertThat(pin.addresses())
                    .containsExactlyInAnyOrderElementsOf(
                            Addresses.list("93.184.216.34", "2606:2800:220:1:248:1893:25c8:1946"));
            assertThat(pin.addresses())
                    .allSatisfy(address -> assertThat(address.getHostName())
                            .as("named after the host, never reverse-resolved")
                            .isEqualTo("public.guard.test"));
        }
    }

    @Test
    void admitsNameResolvingToPrivateAddressWhenUpstreamAllowsIt() throws Exception {
        dns.answer("internal.guard.test", "10.1.2.3");

        try (Pin pin = admitted(guard.admit(URI.create("http://internal.guard.test:9000/"), true))) {
            assertThat(texts(pin.addresses())).containsExactly("10.1.2.3");
        }
    }

    @Test
    void failsWithUnknownHostWhenNameDoesNotResolve() throws Exception {
        Throwable failure = failure(guard.admit(URI.create("https://nxdomain.guard.test/"), false));

        assertThat(failure).isInstanceOf(UnknownHostException.class).hasMessageContaining("nxdomain.guard.test");
        assertThat(PinTable.GLOBAL.pinned("nxdomain.guard.test")).isNull();
    }

    @Test
    void failsWithUnknownHostForInvalidNameWithoutAskingDns() throws Exception {
        AddressGuard real = new AddressGuard(DIRECT);

        assertThat(failure(real.admit(URI.create("https://nothing-here.invalid/"), true)))
                .isInstanceOf(UnknownHostException.class)
                .hasMessageContaining("nothing-here.invalid");
        assertThat(failure(guard.admit(URI.create("https://also.INVALID./"), true)))
                .isInstanceOf(UnknownHostException.class);
        assertThat(dns.lookups()).isEmpty();
    }

    @Test
    void refusesLocalhost() throws Exception {
        AddressGuard real = new AddressGuard(DIRECT);

        BlockedAddressException refusal = blocked(real.admit(URI.create("http://localhost:7601/api/upstreams"), false));

        assertThat(refusal).hasMessageStartingWith("\"localhost\" resolves to ");
        assertThat(refusal.addressClass()).contains(AddressClass.LOOPBACK);
    }

    @Test
    void refusesWhenTheJvmWouldConnectSomewhereElse() throws Exception {
        // As if the JVM's address cache still held an older answer, or the pinning provider were missing.
        dns.answer("stale.guard.test", "93.184.216.34");
        AddressGuard.Resolver jvm = host -> Addresses.list("127.0.0.1");
        AddressGuard staleGuard = new AddressGuard(DIRECT, dns, jvm);

        BlockedAddressException refusal = blocked(staleGuard.admit(URI.create("http://stale.guard.test/"), false));

        assertThat(refusal)
                .hasMessageStartingWith(
                        "\"stale.guard.test\" resolves, as the JVM sees it, to 127.0.0.1, which is loopback");
        assertThat(PinTable.GLOBAL.pinned("stale.guard.test"))
                .as("pin released")
                .isNull();
    }

    @Test
    void looksNamesUpOnTheLookupExecutor() throws Exception {
        ExecutorService lookups = Executors.newSingleThreadExecutor(task -> new Thread(task, "dns-lookups"));
        try {
            dns.answer("threaded.guard.test", "93.184.216.34");
            AddressGuard threaded = new AddressGuard(lookups, dns);

            try (Pin pin = admitted(threaded.admit(URI.create("http://threaded.guard.test/"), false))) {
                assertThat(texts(pin.addresses())).containsExactly("93.184.216.34");
            }
            assertThat(dns.threads()).extracting(Thread::getName).containsExactly("dns-lookups");
        } finally {
            lookups.shutdownNow();
        }
    }

    @Test
    void doesNotLookUpForCallerThatAlreadyGaveUp() {
        Queue<Runnable> queued = new ArrayDeque<>();
        AddressGuard queuedGuard = new AddressGuard(queued::add, dns);
        dns.answer("abandoned.guard.test", "93.184.216.34");

        CompletableFuture<Pin> admission = queuedGuard.admit(URI.create("http://abandoned.guard.test/"), false);
        assertThat(admission).isNotDone();
        admission.cancel(false);
        queued.forEach(Runnable::run);

        assertThat(dns.lookups()).isEmpty();
        assertThat(PinTable.GLOBAL.pinned("abandoned.guard.test")).isNull();
    }

    @Test
    void releasesPinWhenCallerGivesUpDuringLookup() {
        AtomicReference<CompletableFuture<Pin>> admission = new AtomicReference<>();
        Queue<Runnable> queued = new ArrayDeque<>();
        AddressGuard.Resolver slowDns = host -> {
            admission.get().cancel(false); // the caller's deadline passes while DNS is answering
            return Addresses.list("93.184.216.34");
        };
        AddressGuard slowGuard = new AddressGuard(queued::add, slowDns);

        admission.set(slowGuard.admit(URI.create("http://slow.guard.test/"), false));
        queued.forEach(Runnable::run);

        assertThat(admission.get()).isCancelled();
        assertThat(PinTable.GLOBAL.pinned("slow.guard.test")).as("pin released").isNull();
    }

    @Test
    void failsWhenTheLookupExecutorRefusesWork() throws Exception {
        AddressGuard saturated = new AddressGuard(
                task -> {
                    throw new java.util.concurrent.RejectedExecutionException("lookup pool saturated");
                },
                dns);

        assertThat(failure(saturated.admit(URI.create("http://any.guard.test/"), false)))
                .isInstanceOf(java.util.concurrent.RejectedExecutionException.class);
    }

    @Test
    void pinAddressesAreImmutable() throws Exception {
        try (Pin pin = admitted(guard.admit(URI.create("http://93.184.216.34/"), false))) {
            List<InetAddress> addresses = pin.addresses();
            assertThat(addresses).isUnmodifiable();
        }
    }
}
