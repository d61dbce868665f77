package io.sluice.http;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.List;
import org.junit.jupiter.api.Test;

class VaryTest {
    @Test
    void listsTheFieldNamesOfEveryLineLowerCased() {
        assertThat(Vary.fieldNames(List.of("Accept-Language, ACCEPT", " , Origin ,")))
                .contains(List.of("accept-language", "accept", "origin"));
        assertThat(Vary.fieldNames(List.of())).contains(List.of());
    }

    @Test
    void aStarAnywhereMatchesNoLaterRequest() {
        // RFC 9111 §4.1: "*" always fails to match, whatever else the field lists.
        assertThat(Vary.fieldNames(List.of("Accept", "Origin, *"))).isEmpty();
    }
}
