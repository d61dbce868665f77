package io.sluice.guard;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.net.InetAddress;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;

/** IPv4 literals: the usual dotted quad read without splitting, every other form as before. */
class HostLiteralTest {

    @Test
    void readsEveryDottedQuadAsTheJdkDoes() throws Exception {
        SplittableRandom random = new SplittableRandom(7);
        for (int i = 0; i < 5_000; i++) {
            String host = random.nextInt(256) + "." + random.nextInt(256) + "." + random.nextInt(256) + "."
                    + random.nextInt(256);
            // A literal: the JDK parses it and never asks a resolver.
            assertThat(HostLiteral.parse(host)).as(host).isEqualTo(InetAddress.getByName(host));
        }
        assertThat(HostLiteral.parse("0.0.0.0")).isEqualTo(InetAddress.getByName("0.0.0.0"));
        assertThat(HostLiteral.parse("255.255.255.255")).isEqualTo(InetAddress.getByName("255.255.255.255"));
    }

    @Test
    void leavesTheOtherFormsToTheFullReading() throws Exception {
        // Shorter forms as the JDK reads them, names as names, and what is ambiguous or invalid refused.
        assertThat(HostLiteral.parse("2130706433")).isEqualTo(InetAddress.getByName("127.0.0.1"));
        assertThat(HostLiteral.parse("10.1")).isEqualTo(InetAddress.getByName("10.0.0.1"));
        assertThat(HostLiteral.parse("1.2.3.4.example")).isNull();
        assertThat(HostLiteral.parse("cafe.be")).isNull();
        assertThatThrownBy(() -> HostLiteral.parse("127.0.0.01"))
                .isInstanceOf(BlockedAddressException.class)
                .hasMessageStartingWith("ambiguous IPv4 literal");
        assertThatThrownBy(() -> HostLiteral.parse("0x7f.0.0.1")).isInstanceOf(BlockedAddressException.class);
        assertThatThrownBy(() -> HostLiteral.parse("256.1.1.1"))
                .isInstanceOf(BlockedAddressException.class)
                .hasMessageContaining("not a valid IPv4 address");
        assertThatThrownBy(() -> HostLiteral.parse("1.2.3.4.5")).isInstanceOf(BlockedAddressException.class);
    }
}
