package io.sluice.guard;

import static org.assertj.core.api.Assertions.assertThat;

import com.code_intelligence.jazzer.junit.FuzzTest;
import io.sluice.fuzz.FuzzInputs;
import java.net.Inet4Address;
import java.net.Inet6Address;
import java.net.InetAddress;
import java.net.URI;
import java.net.URISyntaxException;
import java.net.UnknownHostException;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.CompletionException;

/**
 * The address guard: the classifier over every address, and admission of any URL. No DNS is ever
 * asked: names get a fake answer built from the input's bytes, and IP literals need no lookup.
 */
class AddressGuardFuzzTest {

    /** 4 bytes are an IPv4 address, 16 an IPv6 one (any other length: the first 16, or 4, of them). */
    @FuzzTest(maxDuration = FuzzInputs.DURATION)
    void classifiesEveryAddressStably(byte[] input) throws UnknownHostException {
        if (input.length < 4) return;
        byte[] bytes = Arrays.copyOf(input, input.length >= 16 ? 16 : 4);
        InetAddress address = InetAddress.getByAddress(bytes);
        var classification = AddressClassifier.classify(address);
        assertThat(classification.addressClass()).isNotNull();
        assertThat(classification.description()).isNotBlank();
        assertThat(AddressClassifier.classify(InetAddress.getByAddress(bytes.clone())))
                .isEqualTo(classification);

        // The address as text reads back as the same address, without a lookup (a literal).
        String text = AddressText.of(address);
        InetAddress reread = InetAddress.getByName(text.indexOf(':') >= 0 ? "[" + text + "]" : text);
        assertThat(sixteen(reread.getAddress())).isEqualTo(sixteen(address.getAddress()));

        if (address instanceof Inet4Address) {
            // An IPv4 address written IPv4-mapped is that address, and classed as it is.
            byte[] mapped = sixteen(bytes);
            assertThat(AddressClassifier.classify(Inet6Address.getByAddress(null, mapped, -1))
                            .addressClass())
                    .isEqualTo(classification.addressClass());
        }
    }

    /**
     * First line: a URL. The bytes after it: the fake DNS answer for its host, 16 bytes per address
     * (IPv4-mapped ones stand for IPv4). Admission pins addresses or refuses with a typed error; with
     * private addresses not allowed, every pinned address is public.
     */
    @FuzzTest(maxDuration = FuzzInputs.DURATION)
    void admitsOnlyPublicAddressesOrRefusesWithATypedError(byte[] input) {
        String text = FuzzInputs.latin1(input);
        int newline = text.indexOf('\n');
        String url = newline < 0 ? text : text.substring(0, newline);
        byte[] answer = newline < 0 ? new byte[0] : Arrays.copyOfRange(input, newline + 1, input.length);
        URI uri;
        try {
            uri = new URI(url);
        } catch (URISyntaxException notAUri) {
            return;
        }
        List<InetAddress> addresses = new ArrayList<>();
        for (int i = 0; i + 16 <= answer.length && addresses.size() < 8; i += 16) {
            try {
                addresses.add(InetAddress.getByAddress(Arrays.copyOfRange(answer, i, i + 16)));
            } catch (UnknownHostException impossible) {
                throw new AssertionError(impossible);
            }
        }
        AddressGuard.Resolver dns = host -> {
            if (addresses.isEmpty()) throw new UnknownHostException(host);
            return List.copyOf(addresses);
        };
        AddressGuard guard = new AddressGuard(Runnable::run, dns, dns);
        for (boolean allowPrivate : new boolean[] {false, true}) {
            Pin pin;
            try {
                pin = guard.admit(uri, allowPrivate).join();
            } catch (CompletionException e) {
                assertThat(e.getCause()).isInstanceOfAny(BlockedAddressException.class, UnknownHostException.class);
                continue;
            }
            try (pin) {
                assertThat(pin.addresses()).isNotEmpty();
                if (!allowPrivate) {
                    pin.addresses()
                            .forEach(a -> assertThat(AddressGuard.classify(a).allowedWithoutOptIn())
                                    .as("%s admitted for %s", a, uri)
                                    .isTrue());
                }
            }
        }
    }

    private static byte[] sixteen(byte[] address) {
        if (address.length == 16) return address;
        byte[] mapped = new byte[16];
        mapped[10] = (byte) 0xff;
        mapped[11] = (byte) 0xff;
        System.arraycopy(address, 0, mapped, 12, 4);
        return mapped;
    }
}
