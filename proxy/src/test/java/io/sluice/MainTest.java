package io.sluice;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The command line Sluice accepts: three options, help and version. */
class MainTest {

    @Test
    void readsEachOptionAsSeparateWordOrAfterAnEqualsSign() throws Exception {
        var run = (Main.Run)
                Main.parse(new String[] {"--config", "a.yaml", "--listen=127.0.0.1:1", "--admin-listen", "[::1]:2"});
        assertThat(run.main().config).isEqualTo(Path.of("a.yaml"));
        assertThat(run.main().listen).isEqualTo("127.0.0.1:1");
        assertThat(run.main().adminListen).isEqualTo("[::1]:2");
    }

    @Test
    void noArgumentsRunsWithTheBuiltInDefaults() throws Exception {
        var run = (Main.Run) Main.parse(new String[0]);
        assertThat(run.main().config).isNull();
        assertThat(run.main().listen).isNull();
        assertThat(run.main().adminListen).isNull();
    }

    @Test
    void helpAndVersionWinOverEverythingElse() throws Exception {
        assertThat(Main.parse(new String[] {"--config", "a.yaml", "-h"})).isInstanceOf(Main.Help.class);
        assertThat(Main.parse(new String[] {"--help"})).isInstanceOf(Main.Help.class);
        assertThat(Main.parse(new String[] {"-V"})).isInstanceOf(Main.ShowVersion.class);
        assertThat(Main.parse(new String[] {"--version"})).isInstanceOf(Main.ShowVersion.class);
    }

    @Test
    void refusesUnknownOptionsStrayWordsMissingValuesAndRepeats() {
        assertThatThrownBy(() -> Main.parse(new String[] {"--bogus"}))
                .isInstanceOf(Main.UsageException.class)
                .hasMessage("Unknown option: '--bogus'");
        assertThatThrownBy(() -> Main.parse(new String[] {"extra"}))
                .hasMessage("Unmatched argument at index 0: 'extra'");
        assertThatThrownBy(() -> Main.parse(new String[] {"--listen"}))
                .hasMessage("Missing required parameter for option '--listen'");
        assertThatThrownBy(() -> Main.parse(new String[] {"--config", "a", "--config=b"}))
                .hasMessage("option '--config' should be specified only once");
    }

    @Test
    void badUsageExitsWithTwoAndPrintsTheUsageToStandardError() {
        var out = new ByteArrayOutputStream();
        var err = new ByteArrayOutputStream();
        int code = Main.run(new String[] {"--bogus"}, print(out), print(err));
        assertThat(code).isEqualTo(2);
        assertThat(out.toString(StandardCharsets.UTF_8)).isEmpty();
        assertThat(err.toString(StandardCharsets.UTF_8))
                .startsWith("Unknown option: '--bogus'\nUsage: sluice [-hV] [--config=FILE]")
                .contains("--admin-listen=HOST:PORT");
    }

    @Test
    void helpAndVersionPrintToStandardOutputAndExitWithZero() {
        var out = new ByteArrayOutputStream();
        assertThat(Main.run(new String[] {"--help"}, print(out), print(new ByteArrayOutputStream())))
                .isZero();
        assertThat(out.toString(StandardCharsets.UTF_8))
                .startsWith("Usage: sluice")
                .contains("--config=FILE");
        out.reset();
        assertThat(Main.run(new String[] {"--version"}, print(out), print(new ByteArrayOutputStream())))
                .isZero();
        assertThat(out.toString(StandardCharsets.UTF_8)).startsWith("sluice ").contains("Java " + Runtime.version());
    }

    @Test
    void aBadListenAddressIsAConfigErrorNamingTheOption() {
        var err = new ByteArrayOutputStream();
        int code = Main.run(new String[] {"--listen", "nonsense"}, print(new ByteArrayOutputStream()), print(err));
        assertThat(code).isEqualTo(2);
        assertThat(err.toString(StandardCharsets.UTF_8)).contains("--listen");
    }

    @Test
    void aCaThatCannotBeMadeAtStartIsAConfigErrorNamingTheKey(@TempDir Path dir) throws Exception {
        // The CA is made on a thread of its own beside the rest of the start: its failure is still
        // the start's, with the key named, and nothing listens.
        Path notADirectory = Files.writeString(dir.resolve("file"), "x");
        Path config = Files.writeString(
                dir.resolve("sluice.yaml"),
                "listen: 127.0.0.1:0\nadmin:\n  listen: 127.0.0.1:0\ntls:\n  ca_dir: " + notADirectory.resolve("ca")
                        + "\n");
        var out = new ByteArrayOutputStream();
        var err = new ByteArrayOutputStream();
        int code = Main.run(new String[] {"--config", config.toString()}, print(out), print(err));
        assertThat(code).isEqualTo(2);
        assertThat(err.toString(StandardCharsets.UTF_8)).startsWith("sluice: config error: tls.ca_dir");
        assertThat(out.toString(StandardCharsets.UTF_8)).doesNotContain("listening");
    }

    @Test
    void anOperatorCaWhoseKeyDoesNotMatchIsAConfigErrorNamingTheKey(@TempDir Path dir) throws Exception {
        var first = io.sluice.tls.CertificateAuthority.loadOrGenerate(dir.resolve("a"), java.time.Clock.systemUTC());
        io.sluice.tls.CertificateAuthority.loadOrGenerate(dir.resolve("b"), java.time.Clock.systemUTC());
        Path config = Files.writeString(
                dir.resolve("sluice.yaml"),
                "listen: 127.0.0.1:0\nadmin:\n  listen: 127.0.0.1:0\ntls:\n  ca_cert: "
                        + first.certificateFile().orElseThrow() + "\n  ca_key: "
                        + dir.resolve("b").resolve("sluice-ca-key.pem") + "\n");
        var out = new ByteArrayOutputStream();
        var err = new ByteArrayOutputStream();
        int code = Main.run(new String[] {"--config", config.toString()}, print(out), print(err));
        assertThat(code).isEqualTo(2);
        assertThat(err.toString(StandardCharsets.UTF_8)).startsWith("sluice: config error: tls.ca_cert");
        assertThat(out.toString(StandardCharsets.UTF_8)).doesNotContain("listening");
    }

    private static PrintStream print(ByteArrayOutputStream bytes) {
        return new PrintStream(bytes, true, StandardCharsets.UTF_8);
    }
}
