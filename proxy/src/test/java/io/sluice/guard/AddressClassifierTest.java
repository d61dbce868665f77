package io.sluice.guard;

import static org.assertj.core.api.Assertions.assertThat;

import java.net.Inet6Address;
import java.net.InetAddress;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

class AddressClassifierTest {

    @ParameterizedTest(name = "{0} is {1}")
    @CsvSource({
        // IPv4
        "8.8.8.8, PUBLIC",
        "93.184.216.34, PUBLIC",
        "172.32.0.1, PUBLIC",
        "100.63.255.255, PUBLIC",
        "100.128.0.0, PUBLIC",
        "192.31.196.1, PUBLIC",
        "223.255.255.255, PUBLIC",
        "127.0.0.1, LOOPBACK",
        "127.255.255.254, LOOPBACK",
        "10.0.0.1, PRIVATE",
        "10.255.255.255, PRIVATE",
        "172.16.0.1, PRIVATE",
        "172.31.255.255, PRIVATE",
        "192.168.1.1, PRIVATE",
        "169.254.1.1, LINK_LOCAL",
        "169.254.169.253, LINK_LOCAL",
        "169.254.169.254, METADATA",
        "169.254.170.2, METADATA",
        "169.254.170.23, METADATA",
        "100.100.100.200, METADATA",
        "100.64.0.1, CGNAT",
        "100.127.255.255, CGNAT",
        "0.0.0.0, UNSPECIFIED",
        "0.1.2.3, UNSPECIFIED",
        "224.0.0.1, MULTICAST",
        "239.255.255.250, MULTICAST",
        "240.0.0.1, RESERVED",
        "255.255.255.255, RESERVED",
        "192.0.0.8, RESERVED",
        "192.0.2.1, RESERVED",
        "198.18.0.1, RESERVED",
        "198.19.255.255, RESERVED",
        "198.51.100.7, RESERVED",
        "203.0.113.9, RESERVED",
        "192.88.99.1, RESERVED",
        // IPv6
        "2606:4700:4700::1111, PUBLIC",
        "2001:4860:4860::8888, PUBLIC",
        "::1, LOOPBACK",
        "::, UNSPECIFIED",
        "fe80::1, LINK_LOCAL",
        "febf:ffff::1, LINK_LOCAL",
        "fec0::1, PRIVATE",
        "fc00::1, UNIQUE_LOCAL",
        "fd12:3456:789a::1, UNIQUE_LOCAL",
        "fd00:ec2::254, METADATA",
        "fd00:ec2::23, METADATA",
        "ff02::1, MULTICAST",
        "ff05::fb, MULTICAST",
        "2001:db8::1, RESERVED",
        "3fff::1, RESERVED",
        "2001:2::1, RESERVED",
        "5f00::1, RESERVED",
        "100::1, RESERVED",
        "4000::1, RESERVED",
        "::2, IPV4_EMBEDDED",
        // IPv4 embedded in IPv6: classified by the IPv4 address inside
        "64:ff9b::7f00:1, IPV4_EMBEDDED",
        "64:ff9b::a9fe:a9fe, IPV4_EMBEDDED",
        "64:ff9b::a00:1, IPV4_EMBEDDED",
        "64:ff9b::808:808, PUBLIC",
        "64:ff9b:1::808:808, IPV4_EMBEDDED",
        "2002:7f00:1::, IPV4_EMBEDDED",
        "2002:c0a8:101::1, IPV4_EMBEDDED",
        "2002:6440:1::1, IPV4_EMBEDDED",
        "2002:808:808::1, PUBLIC",
        // Teredo: server 65.54.227.120, client stored inverted (80ff:fffe is 127.0.0.1, f7f7:f7f7 is 8.8.8.8)
        "2001:0:4136:e378:8000:63bf:80ff:fffe, IPV4_EMBEDDED",
        "2001:0:4136:e378:8000:63bf:f7f7:f7f7, PUBLIC",
        "2001:0:a00:1:8000:63bf:f7f7:f7f7, IPV4_EMBEDDED",
        "::7f00:1, IPV4_EMBEDDED",
        "::a9fe:a9fe, IPV4_EMBEDDED",
        "::808:808, RESERVED",
        // The JDK turns IPv4-mapped literals into plain IPv4 addresses, as the socket layer does.
        "::ffff:127.0.0.1, LOOPBACK",
        "::ffff:a9fe:a9fe, METADATA",
        "::ffff:808:808, PUBLIC",
    })
    void classifiesAddress(String literal, AddressClass expected) {
        assertThat(AddressGuard.classify(Addresses.of(literal))).isEqualTo(expected);
    }

    @Test
    void classifiesIpv4MappedInet6AddressByTheAddressItMaps() throws Exception {
        byte[] mapped = {
            0, 0, 0, 0, 0, 0, 0, 0, 0, 0, (byte) 0xff, (byte) 0xff, (byte) 169, (byte) 254, (byte) 169, (byte) 254
        };
        InetAddress address = Inet6Address.getByAddress(null, mapped, -1);

        assertThat(address).isInstanceOf(Inet6Address.class);
        assertThat(AddressClassifier.classify(address))
                .isEqualTo(new AddressClassifier.Classification(
                        AddressClass.METADATA, "IPv4-mapped 169.254.169.254, which is link-local (cloud metadata)"));
    }

    @Test
    void onlyPublicAddressesNeedNoOptIn() {
        for (AddressClass addressClass : AddressClass.values()) {
            assertThat(addressClass.allowedWithoutOptIn())
                    .as(addressClass.name())
                    .isEqualTo(addressClass == AddressClass.PUBLIC);
        }
    }

    @Test
    void describesTheEmbeddedAddressOfTranslatedForms() {
        assertThat(AddressClassifier.classify(Addresses.of("64:ff9b::7f00:1")).description())
                .isEqualTo("IPv4-embedding (NAT64 of 127.0.0.1, which is loopback)");
        assertThat(AddressClassifier.classify(Addresses.of("2002:a9fe:a9fe::")).description())
                .isEqualTo("IPv4-embedding (6to4 of 169.254.169.254, which is link-local (cloud metadata))");
        assertThat(AddressClassifier.classify(Addresses.of("2001:0:4136:e378:8000:63bf:80ff:fffe"))
                        .description())
                .isEqualTo("IPv4-embedding (Teredo client 127.0.0.1, which is loopback)");
    }

    @ParameterizedTest(name = "{0} is written {1}")
    @CsvSource({
        "169.254.169.254, 169.254.169.254",
        "0:0:0:0:0:0:0:1, ::1",
        "0:0:0:0:0:0:0:0, ::",
        "fd00:ec2:0:0:0:0:0:254, fd00:ec2::254",
        "fe80:0:0:0:0:0:0:0, fe80::",
        "2001:db8:0:1:0:0:0:1, 2001:db8:0:1::1",
        "2001:db8:0:0:1:0:0:1, 2001:db8::1:0:0:1",
        "2001:db8:1:1:1:1:1:1, 2001:db8:1:1:1:1:1:1",
    })
    void writesAddressesInCanonicalForm(String literal, String expected) {
        assertThat(AddressText.of(Addresses.of(literal))).isEqualTo(expected);
    }
}
