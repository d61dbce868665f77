package io.sluice.testing;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.junit.platform.engine.TestExecutionResult;
import org.junit.platform.launcher.TestExecutionListener;
import org.junit.platform.launcher.TestIdentifier;
import org.junit.platform.launcher.TestPlan;

/**
 * Ends the test run with a list no one can miss of what was skipped and why (registered through
 * {@code META-INF/services}): a test that needs a tool this machine lacks says so, with the one
 * command that installs them all. Surefire sends test output to files, so the list is written to
 * {@code target/skipped-tests.txt}, which {@code ./sluice test} prints after the build.
 */
public final class SkipSummary implements TestExecutionListener {
    static final Path REPORT = Path.of("target", "skipped-tests.txt");

    private final List<String> skipped = new ArrayList<>();

    @Override
    public void testPlanExecutionStarted(TestPlan plan) {
        try {
            Files.deleteIfExists(REPORT);
        } catch (IOException e) {
            // A stale report is only confusing, never wrong about this run's failures.
        }
    }

    @Override
    public synchronized void executionSkipped(TestIdentifier test, String reason) {
        skipped.add(test.getDisplayName() + ": " + reason);
    }

    @Override
    public synchronized void executionFinished(TestIdentifier test, TestExecutionResult result) {
        if (result.getStatus() == TestExecutionResult.Status.ABORTED) {
            String reason = result.getThrowable()
                    .map(Throwable::getMessage)
                    .map(m -> m.replaceFirst("^Assumption failed: ", ""))
                    .orElse("aborted");
            skipped.add(name(test) + ": " + reason);
        }
    }

    @Override
    public synchronized void testPlanExecutionFinished(TestPlan plan) {
        if (skipped.isEmpty()) return;
        StringBuilder out = new StringBuilder("\n==== ")
                .append(skipped.size())
                .append(skipped.size() == 1 ? " test was" : " tests were")
                .append(" SKIPPED ====\n");
        skipped.forEach(line -> out.append("  - ").append(line).append('\n'));
        if (skipped.stream().anyMatch(line -> line.contains("needs "))) {
            out.append("Install what they need: ")
                    .append(RequiredTool.INSTALL_ALL)
                    .append('\n');
        }
        out.append("(Tests that need a Docker engine stay skipped on machines without one.)\n");
        try {
            Files.createDirectories(REPORT.getParent());
            Files.writeString(REPORT, out.toString());
        } catch (IOException e) {
            System.err.print(out);
        }
    }

    private static String name(TestIdentifier test) {
        String id = test.getUniqueId();
        int cls = id.indexOf("[class:");
        String owner =
                cls < 0 ? "" : id.substring(cls + 7, id.indexOf(']', cls)).replaceFirst("^.*\\.", "") + ".";
        return owner + test.getDisplayName();
    }
}
