package io.sluice.passthrough;

import static org.assertj.core.api.Assertions.assertThat;

import com.code_intelligence.jazzer.junit.FuzzTest;
import io.sluice.fetch.ErrorType;
import io.sluice.fetch.FetchException;
import io.sluice.fuzz.FuzzInputs;
import java.util.Locale;

/** The route-form path resolver: a path that stays below the base URL, or {@code invalid_request}. */
class RoutePathFuzzTest {

    @FuzzTest(maxDuration = FuzzInputs.DURATION)
    void resolvesAnyPathBelowTheBaseOrRefusesIt(byte[] input) {
        String rest = "/" + FuzzInputs.latin1(input);
        String resolved;
        try {
            resolved = RoutePath.resolve(rest);
        } catch (FetchException e) {
            assertThat(e.type()).isEqualTo(ErrorType.INVALID_REQUEST);
            return;
        }
        assertThat(resolved).startsWith("/");
        for (String segment : resolved.substring(1).split("/", -1)) {
            String dots = segment.toLowerCase(Locale.ROOT).replace("%2e", ".");
            assertThat(dots).isNotIn(".", "..");
            assertThat(dots).doesNotContain("%2f", "%5c", "\\");
        }
        // Resolving what was resolved changes nothing.
        assertThat(RoutePath.resolve(resolved)).isEqualTo(resolved);
    }
}
