package io.sluice.config;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Map;
import java.util.Optional;
import okhttp3.tls.HeldCertificate;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** {@code connect}, {@code tunnel_idle_timeout} and the two {@code tls:} sections. */
class TlsConfigTest {
    private final ConfigLoader loader = new ConfigLoader(Map.of());

    @TempDir
    Path dir;

    private final HeldCertificate client =
            new HeldCertificate.Builder().commonName("client").build();

    @Test
    void defaultsInterceptCheckEveryCertificateAndKeepTheCaInTheHomeDirectory() {
        SluiceConfig config = loader.defaults();

        assertThat(config.defaults().connect()).isEqualTo(ConnectMode.INTERCEPT);
        assertThat(config.defaults().tunnelIdleTimeout()).isEqualTo(Duration.ofMinutes(5));
        assertThat(config.defaults().tls()).isEqualTo(UpstreamTls.DEFAULT);
        assertThat(config.defaults().tls().protocols()).containsExactly("TLSv1.3", "TLSv1.2");
        assertThat(config.tls().caDir()).isEqualTo(Path.of(System.getProperty("user.home"), ".sluice"));
        assertThat(config.tls().caCert()).isEmpty();
        assertThat(config.tls().caFile()).isEmpty();
        assertThat(config.withTlsCaDir(dir).tls().caDir()).isEqualTo(dir);
    }

    @Test
    void upstreamStatesItsOwnConnectModeTunnelTimeoutAndTls() throws IOException {
        Path ca = write("ca.pem", client.certificatePem());
        Path cert = write("client.pem", client.certificatePem());
        Path key = write("client.key", client.privateKeyPkcs8Pem());

        SluiceConfig config = loader.fromYaml("""
                defaults: {connect: refuse}
                upstreams:
                  internal:
                    match: [internal.example]
                    connect: tunnel
                    tunnel_idle_timeout: 30s
                    tls: {ca_file: "%s", client_cert: "%s", client_key: "%s", min_version: TLSv1.3}
                  other: {match: [other.example]}
                """.formatted(ca, cert, key));

        Policy internal = config.upstreams().get("internal").policy();
        assertThat(internal.connect()).isEqualTo(ConnectMode.TUNNEL);
        assertThat(internal.tunnelIdleTimeout()).isEqualTo(Duration.ofSeconds(30));
        assertThat(internal.tls())
                .isEqualTo(new UpstreamTls(
                        Optional.of(ca),
                        Optional.of(cert),
                        Optional.of(key),
                        "TLSv1.3",
                        false,
                        UpstreamTls.DEFAULT_HTTP2_WINDOW));
        assertThat(internal.tls().protocols()).containsExactly("TLSv1.3");
        assertThat(internal.tls().toString()).doesNotContain("PRIVATE");
        assertThat(config.upstreams().get("other").policy().connect()).isEqualTo(ConnectMode.REFUSE);
    }

    @Test
    void globalMinVersionIsEveryPolicysDefault() {
        SluiceConfig config = loader.fromYaml("""
                tls: {min_version: TLSv1.3}
                upstreams:
                  old: {match: [old.example], tls: {min_version: TLSv1.2}}
                  new: {match: [new.example]}
                """);

        assertThat(config.tls().minVersion()).isEqualTo("TLSv1.3");
        assertThat(config.defaults().tls().minVersion()).isEqualTo("TLSv1.3");
        assertThat(config.upstreams().get("new").policy().tls().minVersion()).isEqualTo("TLSv1.3");
        assertThat(config.upstreams().get("old").policy().tls().minVersion()).isEqualTo("TLSv1.2");
    }

    @Test
    void globalSectionTakesCaDirOperatorCaAndExtraRoots() throws IOException {
        Path caCert = write("sluice-ca.pem", client.certificatePem());
        Path caKey = write("sluice-ca.key", client.privateKeyPkcs8Pem());
        Path roots = write("roots.pem", client.certificatePem());

        TlsConfig tls =
                loader.fromYaml("""
                        tls: {ca_dir: "%s", ca_cert: "%s", ca_key: "%s", ca_file: "%s"}
                        """.formatted(dir, caCert, caKey, roots)).tls();

        assertThat(tls)
                .isEqualTo(new TlsConfig(
                        dir, Optional.of(caCert), Optional.of(caKey), Optional.of(roots), "TLSv1.2", TlsProvider.AUTO));
    }

    @Test
    void providerIsAutoByDefaultAndABadOneNamesTheKey() {
        assertThat(loader.fromYaml("upstreams: {}").tls().provider()).isEqualTo(TlsProvider.AUTO);
        assertThat(loader.fromYaml("tls: {provider: conscrypt}").tls().provider())
                .isEqualTo(TlsProvider.CONSCRYPT);
        assertThat(loader.fromYaml("tls: {provider: jdk}").tls().provider()).isEqualTo(TlsProvider.JDK);
        assertThatThrownBy(() -> loader.fromYaml("tls: {provider: openssl}"))
                .hasMessage("tls.provider: expected one of [jdk, conscrypt, auto], got \"openssl\"");
    }

    @Test
    void badConnectModeAndMinVersionNameTheKey() {
        assertThatThrownBy(() -> loader.fromYaml("upstreams: {x: {match: [x.io], connect: mitm}}"))
                .hasMessage("upstreams.x.connect: expected one of [intercept, tunnel, refuse], got \"mitm\"");
        assertThatThrownBy(() -> loader.fromYaml("upstreams: {x: {match: [x.io], tls: {min_version: TLSv1.1}}}"))
                .hasMessage("upstreams.x.tls.min_version: expected TLSv1.2 or TLSv1.3, got \"TLSv1.1\"");
        assertThatThrownBy(() -> loader.fromYaml("tls: {min_version: SSLv3}"))
                .hasMessage("tls.min_version: expected TLSv1.2 or TLSv1.3, got \"SSLv3\"");
        assertThatThrownBy(() -> loader.fromYaml("defaults: {tunnel_idle_timeout: 0s}"))
                .hasMessageStartingWith("defaults: tunnel_idle_timeout must be positive");
        assertThatThrownBy(() -> loader.fromYaml("defaults: {tls: {verify: false}}"))
                .hasMessageStartingWith("defaults.tls.verify: unknown key");
        assertThatThrownBy(() -> loader.fromYaml("upstreams: {x: {match: [x.io], tls: {http2_window: 16MB}}}"))
                .hasMessage("upstreams.x.tls.http2_window: expected 64KB to 8MB, got 16MB");
        assertThatThrownBy(() -> loader.fromYaml("upstreams: {x: {match: [x.io], tls: {http2_window: 1000}}}"))
                .hasMessage("upstreams.x.tls.http2_window: expected 64KB to 8MB, got 1000B");
        assertThatThrownBy(() -> loader.fromYaml("upstreams: {x: {match: [x.io], tls: {http2_window: lots}}}"))
                .hasMessageStartingWith("upstreams.x.tls.http2_window: invalid size \"lots\"");
    }

    @Test
    void http2WindowIsAMebibyteUnlessThePolicySaysAndTravelsThroughTheAdminShape() {
        SluiceConfig config = loader.fromYaml("""
                upstreams:
                  far: {match: [far.example], tls: {http2: true, http2_window: 4MB}}
                  near: {match: [near.example], tls: {http2: true}}
                """);

        UpstreamTls far = config.upstreams().get("far").policy().tls();
        assertThat(far.http2WindowBytes()).isEqualTo(4 << 20);
        assertThat(config.upstreams().get("near").policy().tls().http2WindowBytes())
                .isEqualTo(1 << 20);
        // One TLS context and HTTP/1.1 pool serve both: the window is HTTP/2's alone.
        assertThat(far.withoutHttp2()).isEqualTo(UpstreamTls.DEFAULT);
        assertThat(PolicyCodec.write(config.upstreams().get("far").policy())
                        .get("tls")
                        .get("http2_window")
                        .asText())
                .isEqualTo("4MB");
    }

    @Test
    void missingFileNamesTheKey() {
        Path missing = dir.resolve("nope.pem");

        assertThatThrownBy(() ->
                        loader.fromYaml("upstreams: {internal: {match: [i.io], tls: {ca_file: \"" + missing + "\"}}}"))
                .hasMessage("upstreams.internal.tls.ca_file: file not found: " + missing);
        assertThatThrownBy(() -> loader.fromYaml("tls: {ca_file: \"" + missing + "\"}"))
                .hasMessage("tls.ca_file: file not found: " + missing);
        assertThatThrownBy(() -> loader.fromYaml("tls: {ca_cert: \"" + missing + "\", ca_key: \"" + missing + "\"}"))
                .hasMessage("tls.ca_cert: file not found: " + missing);
    }

    @Test
    void certificateWithoutKeyNamesTheMissingKey() throws IOException {
        Path cert = write("client.pem", client.certificatePem());

        assertThatThrownBy(() ->
                        loader.fromYaml("upstreams: {internal: {match: [i.io], tls: {client_cert: \"" + cert + "\"}}}"))
                .hasMessage("upstreams.internal.tls.client_key: required with client_cert (" + cert + ")");
        assertThatThrownBy(() ->
                        loader.fromYaml("upstreams: {internal: {match: [i.io], tls: {client_key: \"" + cert + "\"}}}"))
                .hasMessageStartingWith("upstreams.internal.tls.client_cert: required with client_key");
        assertThatThrownBy(() -> loader.fromYaml("tls: {ca_cert: \"" + cert + "\"}"))
                .hasMessageStartingWith("tls.ca_key: required with ca_cert");
    }

    @Test
    void badPemNamesTheKeyButNotTheContents() throws IOException {
        Path garbage = write("garbage.pem", "hello, not a certificate");
        Path cert = write("client.pem", client.certificatePem());
        String keyPem = client.privateKeyPkcs8Pem();
        Path key = write("client.key", keyPem);
        Path otherKey = write("other.key", new HeldCertificate.Builder().build().privateKeyPkcs8Pem());
        Path rsaKey = write(
                "rsa.key",
                "-----BEGIN RSA PRIVATE KEY-----\nMIIBOgIBAAJBAKj34GkxFhD9\n-----END RSA PRIVATE KEY-----\n");

        assertThatThrownBy(() ->
                        loader.fromYaml("upstreams: {internal: {match: [i.io], tls: {ca_file: \"" + garbage + "\"}}}"))
                .hasMessage("upstreams.internal.tls.ca_file: no PEM certificate (-----BEGIN CERTIFICATE-----) in "
                        + garbage);
        assertThatThrownBy(() -> loader.fromYaml(mtls(cert, garbage)))
                .hasMessage("upstreams.internal.tls.client_key: no PEM private key (-----BEGIN PRIVATE KEY-----) in "
                        + garbage);
        assertThatThrownBy(() -> loader.fromYaml(mtls(key, key)))
                .hasMessageStartingWith("upstreams.internal.tls.client_cert: no PEM certificate");
        assertThatThrownBy(() -> loader.fromYaml(mtls(cert, rsaKey)))
                .hasMessageStartingWith("upstreams.internal.tls.client_key: RSA PRIVATE KEY in " + rsaKey)
                .hasMessageContaining("convert with openssl pkcs8 -topk8 -nocrypt");
        assertThatThrownBy(() -> loader.fromYaml(mtls(cert, otherKey)))
                .hasMessageStartingWith(
                        "upstreams.internal.tls.client_key: the key in " + otherKey + " does not match the certificate")
                .satisfies(e -> assertThat(e.getMessage())
                        .doesNotContain(keyPem.lines().skip(1).findFirst().orElseThrow()));
    }

    private static String mtls(Path cert, Path key) {
        return "upstreams: {internal: {match: [i.io], tls: {client_cert: \"" + cert + "\", client_key: \"" + key
                + "\"}}}";
    }

    private Path write(String name, String text) throws IOException {
        return Files.writeString(dir.resolve(name), text);
    }
}
