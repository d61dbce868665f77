package io.sluice.guard;

import static io.sluice.guard.Addresses.admitted;
import static io.sluice.guard.Addresses.blocked;
import static io.sluice.guard.Addresses.texts;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.net.InetAddress;
import java.net.URI;
import java.net.UnknownHostException;
import java.net.spi.InetAddressResolver;
import java.net.spi.InetAddressResolver.LookupPolicy;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;

class PinningTest {

    private static final LookupPolicy BOTH = LookupPolicy.of(LookupPolicy.IPV4 | LookupPolicy.IPV6);

    private final FakeResolver dns = new FakeResolver();
    private final AddressGuard guard = new AddressGuard(Runnable::run, dns);

    /** The resolver as the JDK gets it, over a built-in resolver whose answers the test chooses. */
    private final InetAddressResolver jdkResolver = new PinnedResolver(
            PinTable.GLOBAL,
            new BuiltinStandIn(Map.of(
                    "rebind.pinning.test", "127.0.0.1",
                    "open-close.pinning.test", "198.51.100.20",
                    "counted.pinning.test", "198.51.100.21",
                    "redis.internal", "10.0.0.7")));

    @Test
    void theJdkLoadsThePinningProviderFromTheServicesFile() throws Exception {
        InetAddress.getAllByName("localhost"); // the JDK loads its resolver on the first name lookup

        assertThat(SystemResolver.pinningInstalled()).isTrue();
        assertThat(AddressGuard.Resolver.system().lookup("localhost"))
                .isNotEmpty()
                .allSatisfy(address -> assertThat(address.isLoopbackAddress()).isTrue());
    }

    @Test
    void pinsCheckedAddressAgainstRebinding() throws Exception {
        dns.answer("rebind.pinning.test", "93.184.216.34").answer("rebind.pinning.test", "127.0.0.1");

        try (Pin pin = admitted(guard.admit(URI.create("http://rebind.pinning.test/"), false))) {
            assertThat(texts(pin.addresses())).containsExactly("93.184.216.34");
            assertThat(texts(dns.lookup("rebind.pinning.test")))
                    .as("DNS has rebound")
                    .containsExactly("127.0.0.1");

            // Still, the JDK, and so the HttpClient, resolves the name to what was checked.
            assertThat(InetAddress.getAllByName("rebind.pinning.test"))
                    .extracting(InetAddress::getHostAddress)
                    .containsExactly("93.184.216.34");
            assertThat(jdkResolver.lookupByName("rebind.pinning.test", BOTH))
                    .extracting(InetAddress::getHostAddress)
                    .containsExactly("93.184.216.34");

            // A new request looks the name up afresh rather than trusting the pin, and is refused.
            assertThat(blocked(guard.admit(URI.create("http://rebind.pinning.test/"), false)))
                    .hasMessageStartingWith("\"rebind.pinning.test\" resolves to 127.0.0.1, which is loopback");
        }
    }

    @Test
    void servesPinnedAnswerOnlyWhilePinIsOpen() throws Exception {
        dns.answer("open-close.pinning.test", "93.184.216.34");

        Pin pin = admitted(guard.admit(URI.create("http://open-close.pinning.test/"), false));
        assertThat(texts(jdkResolver
                        .lookupByName("open-close.pinning.test", BOTH)
                        .toList()))
                .containsExactly("93.184.216.34");

        pin.close();
        assertThat(texts(jdkResolver
                        .lookupByName("open-close.pinning.test", BOTH)
                        .toList()))
                .as("after close, the built-in resolver answers")
                .containsExactly("198.51.100.20");
    }

    @Test
    void pinsAreReferenceCountedPerHost() throws Exception {
        dns.answer("counted.pinning.test", "93.184.216.34");
        Pin first = admitted(guard.admit(URI.create("http://counted.pinning.test/a"), false));
        Pin second = admitted(guard.admit(URI.create("https://counted.pinning.test/b"), false));

        first.close();
        first.close(); // idempotent: must not release the second holder's share
        assertThat(texts(jdkResolver.lookupByName("counted.pinning.test", BOTH).toList()))
                .containsExactly("93.184.216.34");

        second.close();
        assertThat(texts(jdkResolver.lookupByName("counted.pinning.test", BOTH).toList()))
                .containsExactly("198.51.100.21");
        assertThat(PinTable.GLOBAL.pinned("counted.pinning.test")).isNull();
    }

    @Test
    void releasesHostOnceConcurrentHoldersHaveAllClosed() throws Exception {
        dns.answer("busy.pinning.test", "93.184.216.34");
        ExecutorService requests = Executors.newFixedThreadPool(8);
        try {
            List<Future<?>> done = new ArrayList<>();
            for (int i = 0; i < 2_000; i++) {
                boolean allowPrivate = i % 2 == 0;
                done.add(requests.submit(() -> {
                    try (Pin pin = admitted(guard.admit(URI.create("http://busy.pinning.test/"), allowPrivate))) {
                        assertThat(texts(pin.addresses())).containsExactly("93.184.216.34");
                    }
                    return null;
                }));
            }
            for (Future<?> request : done) {
                request.get(10, TimeUnit.SECONDS);
            }
        } finally {
            requests.shutdownNow();
        }
        assertThat(PinTable.GLOBAL.pinned("busy.pinning.test")).isNull();
    }

    @Test
    void newerCheckedAnswerReplacesThePin() throws Exception {
        dns.answer("fresh.pinning.test", "93.184.216.34").answer("fresh.pinning.test", "93.184.216.35");

        Pin older = admitted(guard.admit(URI.create("http://fresh.pinning.test/"), false));
        Pin newer = admitted(guard.admit(URI.create("http://fresh.pinning.test/"), false));
        try {
            assertThat(texts(PinTable.GLOBAL.pinned("fresh.pinning.test"))).containsExactly("93.184.216.35");
        } finally {
            older.close();
            newer.close();
        }
    }

    @Test
    void privateAnswerDoesNotDisplacePinHeldWithoutOptIn() throws Exception {
        dns.answer("shared.pinning.test", "93.184.216.34").answer("shared.pinning.test", "10.0.0.5");

        try (Pin strict = admitted(guard.admit(URI.create("https://shared.pinning.test/"), false))) {
            try (Pin lenient = admitted(guard.admit(URI.create("https://shared.pinning.test:8443/"), true))) {
                // The lenient request accepts any address, so it shares the one the strict request may use.
                assertThat(texts(PinTable.GLOBAL.pinned("shared.pinning.test"))).containsExactly("93.184.216.34");
                assertThat(lenient.addresses()).isEqualTo(strict.addresses());
            }
        }
        Pin lenient = admitted(guard.admit(URI.create("https://shared.pinning.test:8443/"), true));
        try {
            assertThat(texts(PinTable.GLOBAL.pinned("shared.pinning.test"))).containsExactly("10.0.0.5");
        } finally {
            lenient.close();
        }
    }

    @Test
    void matchesHostNamesCaseInsensitively() throws Exception {
        dns.answer("Case.Pinning.TEST", "93.184.216.34");

        try (Pin pin = admitted(guard.admit(URI.create("http://Case.Pinning.TEST/"), false))) {
            assertThat(jdkResolver.lookupByName("case.pinning.test", BOTH).toList())
                    .isEqualTo(pin.addresses());
        }
    }

    @Test
    void leavesUnpinnedHostsToTheBuiltinResolverWithoutRefusingAnything() throws Exception {
        assertThat(texts(jdkResolver.lookupByName("redis.internal", BOTH).toList()))
                .containsExactly("10.0.0.7");
        assertThat(jdkResolver.lookupByAddress(new byte[] {10, 0, 0, 7})).isEqualTo("redis.internal");
    }

    @Test
    void servesPinnedAddressesOfTheFamilyAndOrderTheJdkAsksFor() throws Exception {
        dns.answer("dual.pinning.test", "93.184.216.34", "2606:2800:220:1::1", "93.184.216.35");
        dns.answer("v4only.pinning.test", "93.184.216.34");

        Pin dual = admitted(guard.admit(URI.create("http://dual.pinning.test/"), false));
        Pin v4only = admitted(guard.admit(URI.create("http://v4only.pinning.test/"), false));
        try {
            assertThat(texts(jdkResolver
                            .lookupByName("dual.pinning.test", LookupPolicy.of(LookupPolicy.IPV4))
                            .toList()))
                    .containsExactly("93.184.216.34", "93.184.216.35");
            assertThat(texts(jdkResolver
                            .lookupByName("dual.pinning.test", LookupPolicy.of(LookupPolicy.IPV6))
                            .toList()))
                    .containsExactly("2606:2800:220:1:0:0:0:1");
            assertThat(texts(jdkResolver
                            .lookupByName(
                                    "dual.pinning.test",
                                    LookupPolicy.of(LookupPolicy.IPV4 | LookupPolicy.IPV6 | LookupPolicy.IPV6_FIRST))
                            .toList()))
                    .containsExactly("2606:2800:220:1:0:0:0:1", "93.184.216.34", "93.184.216.35");
            assertThatThrownBy(
                            () -> jdkResolver.lookupByName("v4only.pinning.test", LookupPolicy.of(LookupPolicy.IPV6)))
                    .isInstanceOf(UnknownHostException.class);
        } finally {
            dual.close();
            v4only.close();
        }
    }

    /** Stands in for the JDK's built-in resolver, which the provider receives from the JDK. */
    private record BuiltinStandIn(Map<String, String> answers) implements InetAddressResolver {
        @Override
        public Stream<InetAddress> lookupByName(String host, LookupPolicy policy) throws UnknownHostException {
            String answer = answers.get(host);
            if (answer == null) {
                throw new UnknownHostException(host);
            }
            return Stream.of(Addresses.of(answer));
        }

        @Override
        public String lookupByAddress(byte[] address) throws UnknownHostException {
            InetAddress wanted = InetAddress.getByAddress(address);
            return answers.entrySet().stream()
                    .filter(entry -> Addresses.of(entry.getValue()).equals(wanted))
                    .map(Map.Entry::getKey)
                    .findFirst()
                    .orElseThrow(() -> new UnknownHostException(wanted.getHostAddress()));
        }
    }
}
