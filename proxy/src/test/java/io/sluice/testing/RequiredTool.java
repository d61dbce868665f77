package io.sluice.testing;

import static org.junit.jupiter.api.Assertions.fail;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

/**
 * A test's need for a program from outside the JVM. Where it is missing the test is skipped, with
 * the package that provides it — except under CI ({@code CI=true}, which {@code .ci/run} sets), where
 * {@code .ci/run} installs every such package, so a missing one fails the test: a skip is never
 * silently a pass. {@link SkipSummary} lists the skips at the end of the run.
 */
public final class RequiredTool {
    /** Every Debian package the suite can use, as {@code .ci/run} installs them. */
    public static final String INSTALL_ALL =
            "apt-get install -y redis-server redis-tools python3-requests chromium chromium-driver nodejs npm nginx-light";

    private RequiredTool() {}

    /** Skips (locally) or fails (under CI) unless {@code present}; {@code what} names the tool and its package. */
    public static void require(boolean present, String what) {
        if (present) return;
        if ("true".equals(System.getenv("CI"))) {
            fail("CI must provide " + what + " (.ci/run installs it)");
        }
        assumeTrue(false, "needs " + what);
    }
}
