package io.sluice.tls;

import static org.assertj.core.api.Assertions.assertThat;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

class ServerNameTest {

    @Test
    void normalisesCaseAndTrailingDot() {
        assertThat(ServerName.parse("API.Example.COM.")).contains(new ServerName("api.example.com", false));
        assertThat(ServerName.parse("localhost")).contains(new ServerName("localhost", false));
        assertThat(ServerName.parse("my_host.internal")).contains(new ServerName("my_host.internal", false));
    }

    @Test
    void readsIpLiteralsInCanonicalForm() {
        assertThat(ServerName.parse("10.1.2.3")).contains(new ServerName("10.1.2.3", true));
        assertThat(ServerName.parse("[::1]")).contains(new ServerName("0:0:0:0:0:0:0:1", true));
        assertThat(ServerName.parse("2001:DB8::1")).contains(new ServerName("2001:db8:0:0:0:0:0:1", true));
    }

    @ParameterizedTest
    @ValueSource(
            strings = {
                "",
                ".",
                "*.example.com",
                "exa mple.com",
                "a..b",
                "example.com..",
                "-bad.example",
                "bad-.example",
                "999.1.1.1",
                "1.2.3",
                "example.com/evil",
                "ex\u00e4mple.com",
                "0123456789012345678901234567890123456789012345678901234567890123.example"
            })
    void refusesNamesThatAreNeitherDnsNamesNorIpLiterals(String garbage) {
        assertThat(ServerName.parse(garbage)).isEmpty();
    }
}
