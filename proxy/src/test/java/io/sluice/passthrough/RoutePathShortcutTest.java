package io.sluice.passthrough;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.Random;
import org.junit.jupiter.api.Test;

/** The shortcut for already-resolved paths gives what resolving segment by segment gives. */
class RoutePathShortcutTest {
    private static final String[] PARTS = {"a", "b", "v1", "", "x;y", "a.b", ".hidden", "..x", "x..", "~", "-", "é"};

    @Test
    void pathsWithoutDotSegmentsEncodingOrBackslashesComeBackAsTheyAre() {
        Random random = new Random(42);
        int shortcut = 0;
        for (int i = 0; i < 20_000; i++) {
            StringBuilder path = new StringBuilder();
            int segments = 1 + random.nextInt(6);
            for (int s = 0; s < segments; s++) path.append('/').append(PARTS[random.nextInt(PARTS.length)]);
            String rest = path.toString();
            if (rest.contains("/.")) {
                continue; // the long way only: a segment may be a dot-segment
            }
            shortcut++;
            assertThat(RoutePath.resolve(rest)).as(rest).isEqualTo(rest).isEqualTo(RoutePath.bySegments(rest));
        }
        assertThat(shortcut).isGreaterThan(5_000);
    }

    @Test
    void dotSegmentsStillTakeTheLongWay() {
        assertThat(RoutePath.resolve("/a/./b")).isEqualTo("/a/b");
        assertThat(RoutePath.resolve("/a/b/..")).isEqualTo("/a/");
        assertThat(RoutePath.resolve("/a/%2E%2E/b")).isEqualTo("/b");
    }
}
