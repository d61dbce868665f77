package io.sluice.fetch;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.List;
import java.util.Map;
import java.util.Set;
import org.junit.jupiter.api.Test;

class HopByHopTest {
    private static final List<String> HOP_BY_HOP = List.of(
            "Connection",
            "Keep-Alive",
            "Proxy-Connection",
            "TE",
            "Trailer",
            "Transfer-Encoding",
            "Upgrade",
            "Proxy-Authorization",
            "Proxy-Authenticate",
            "HTTP2-Settings");

    @Test
    void dropsEveryHopByHopFieldWhateverItsCase() {
        for (String name : HOP_BY_HOP) {
            for (String spelled : List.of(name, name.toLowerCase(), name.toUpperCase())) {
                assertThat(HopByHop.isEndToEnd(spelled, Set.of())).as(spelled).isFalse();
            }
        }
        for (String name : List.of("Content-Type", "Tea", "Trailers", "Upgraded", "X-Connection", "ETag", "T")) {
            assertThat(HopByHop.isEndToEnd(name, Set.of())).as(name).isTrue();
        }
        assertThat(HopByHop.isEndToEnd(":authority", Set.of())).isFalse();
    }

    @Test
    void dropsTheFieldsConnectionNames() {
        Set<String> named = HopByHop.connectionNamed(List.of("keep-alive, X-Secret", "x-other"));

        assertThat(HopByHop.isEndToEnd("x-secret", named)).isFalse();
        assertThat(HopByHop.isEndToEnd("X-OTHER", named)).isFalse();
        assertThat(HopByHop.isEndToEnd("X-Kept", named)).isTrue();
    }

    @Test
    void connectionNamingOnlyHopByHopFieldsNamesNothingMore() {
        assertThat(HopByHop.connectionNamed(List.of("keep-alive"))).isEmpty();
        assertThat(HopByHop.connectionNamed(List.of("Keep-Alive, Upgrade", " TE ")))
                .isEmpty();
        assertThat(HopByHop.connectionNamed(List.of())).isEmpty();
        assertThat(HopByHop.connectionNamed(List.of("close"))).containsExactly("close");
    }

    @Test
    void readsEveryCommaSeparatedTokenWhateverTheSpacingAndEmptyElements() {
        assertThat(HopByHop.connectionNamed(List.of(",X-A,, x-b ,\tX-C\t,", "", "x-d")))
                .containsExactlyInAnyOrder("X-A", "x-b", "X-C", "x-d");
        assertThat(HopByHop.connectionNamed(List.of(" , ,"))).isEmpty();
    }

    @Test
    void forwardsNeitherWhatTheClientLibrarySetsNorSluicesOwnControls() {
        Fields request = Fields.of(Map.of(
                "Host", List.of("example.test"),
                "Content-Length", List.of("3"),
                "Sluice-Max-Wait", List.of("100"),
                "Connection", List.of("X-Hop"),
                "X-Hop", List.of("1"),
                "Accept", List.of("application/json")));

        assertThat(HopByHop.forwardable(request)).containsOnlyKeys("Accept");
        assertThat(HopByHop.endToEnd(request.map()))
                .containsOnlyKeys("Host", "Content-Length", "Sluice-Max-Wait", "Accept");
    }

    @Test
    void viaAppendsSluiceToWhatTheMessageCarried() {
        assertThat(HopByHop.via(Fields.EMPTY)).isEqualTo("1.1 sluice");
        assertThat(HopByHop.via(Fields.of(Map.of("Via", List.of("1.1 cdn"))))).isEqualTo("1.1 cdn, 1.1 sluice");
    }
}
