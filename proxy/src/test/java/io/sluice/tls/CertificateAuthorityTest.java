package io.sluice.tls;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.sluice.time.FakeTimeSource;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.security.cert.X509Certificate;
import java.security.interfaces.ECPrivateKey;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Base64;
import java.util.List;
import java.util.logging.Handler;
import java.util.logging.Level;
import java.util.logging.LogRecord;
import java.util.logging.Logger;
import okhttp3.tls.HeldCertificate;
import org.bouncycastle.asn1.ASN1ObjectIdentifier;
import org.bouncycastle.asn1.x509.SubjectPublicKeyInfo;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class CertificateAuthorityTest {
    private static final Instant START = Instant.parse("2026-01-01T00:00:00Z");
    private final FakeTimeSource time = new FakeTimeSource(START);

    @TempDir
    Path tmp;

    @Test
    void generatesCaOnFirstStartWithOwnerOnlyKeyAndDirectory() throws Exception {
        Path dir = tmp.resolve("ca");

        CertificateAuthority ca = CertificateAuthority.loadOrGenerate(dir, time.clock());

        assertThat(PosixFilePermissions.toString(Files.getPosixFilePermissions(dir)))
                .isEqualTo("rwx------");
        assertThat(PosixFilePermissions.toString(Files.getPosixFilePermissions(dir.resolve("sluice-ca-key.pem"))))
                .isEqualTo("rw-------");
        assertThat(PosixFilePermissions.toString(Files.getPosixFilePermissions(dir.resolve("sluice-ca.pem"))))
                .isEqualTo("rw-r--r--");
        try (var files = Files.list(dir)) {
            assertThat(files.map(p -> p.getFileName().toString()))
                    .containsExactlyInAnyOrder("sluice-ca.pem", "sluice-ca-key.pem");
        }
        assertThat(ca.certificateFile()).contains(dir.resolve("sluice-ca.pem"));
        assertThat(Files.readString(dir.resolve("sluice-ca.pem"))).isEqualTo(ca.certificatePem());
    }

    @Test
    void generatedCaIsAnEcP256SelfSignedCaForTenYearsFromTheClock() throws Exception {
        X509Certificate cert = CertificateAuthority.loadOrGenerate(tmp.resolve("ca"), time.clock())
                .certificate();

        assertThat(cert.getPublicKey().getAlgorithm()).isEqualTo("EC");
        assertThat(cert.getSigAlgName()).isEqualTo("SHA256withECDSA");
        assertThat(cert.getSubjectX500Principal().getName()).matches("CN=Sluice CA \\(.*\\) 2026-01-01,O=Sluice");
        assertThat(cert.getIssuerX500Principal()).isEqualTo(cert.getSubjectX500Principal());
        cert.verify(cert.getPublicKey());
        assertThat(cert.getBasicConstraints()).isZero(); // CA with pathLen 0
        assertThat(cert.getCriticalExtensionOIDs()).contains("2.5.29.19", "2.5.29.15");
        boolean[] keyUsage = cert.getKeyUsage();
        assertThat(keyUsage[5]).as("keyCertSign").isTrue();
        assertThat(keyUsage[6]).as("cRLSign").isTrue();
        assertThat(keyUsage[0]).as("digitalSignature").isFalse();
        assertThat(cert.getExtensionValue("2.5.29.14"))
                .as("subjectKeyIdentifier")
                .isNotNull();
        assertThat(cert.getNotBefore().toInstant()).isEqualTo(START.minus(Duration.ofHours(1)));
        assertThat(cert.getNotAfter().toInstant()).isEqualTo(START.plus(Duration.ofDays(3650)));
    }

    @Test
    void reloadReturnsTheSameCertificate() {
        Path dir = tmp.resolve("ca");
        CertificateAuthority first = CertificateAuthority.loadOrGenerate(dir, time.clock());
        time.advance(Duration.ofDays(30));

        CertificateAuthority second = CertificateAuthority.loadOrGenerate(dir, time.clock());

        assertThat(second.certificate()).isEqualTo(first.certificate());
        assertThat(second.privateKey()).isEqualTo(first.privateKey());
    }

    @Test
    void toStringNamesSubjectAndFingerprintButNoKeyMaterial() throws Exception {
        Path dir = tmp.resolve("ca");
        CertificateAuthority ca = CertificateAuthority.loadOrGenerate(dir, time.clock());

        assertThat(ca.toString())
                .startsWith("CertificateAuthority[CN=Sluice CA")
                .contains("sha256=" + CertificateAuthority.fingerprint(ca.certificate()));
        assertNoKeyMaterial(ca.toString(), Files.readString(dir.resolve("sluice-ca-key.pem")));
    }

    @Test
    void refusesDirectoryWithOnlyTheKeyNamingTheMissingCertificate() throws Exception {
        Path dir = tmp.resolve("ca");
        CertificateAuthority.loadOrGenerate(dir, time.clock());
        String keyPem = Files.readString(dir.resolve("sluice-ca-key.pem"));
        Files.delete(dir.resolve("sluice-ca.pem"));

        assertThatThrownBy(() -> CertificateAuthority.loadOrGenerate(dir, time.clock()))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining(dir.resolve("sluice-ca.pem").toString())
                .satisfies(e -> assertNoKeyMaterial(e.getMessage(), keyPem));
    }

    @Test
    void refusesDirectoryWithOnlyTheCertificateNamingTheMissingKey() throws Exception {
        Path dir = tmp.resolve("ca");
        CertificateAuthority.loadOrGenerate(dir, time.clock());
        Files.delete(dir.resolve("sluice-ca-key.pem"));

        assertThatThrownBy(() -> CertificateAuthority.loadOrGenerate(dir, time.clock()))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining(dir.resolve("sluice-ca-key.pem").toString());
    }

    @Test
    void refusesCorruptKeyWithoutQuotingIt() throws Exception {
        Path dir = tmp.resolve("ca");
        CertificateAuthority.loadOrGenerate(dir, time.clock());
        Path keyFile = dir.resolve("sluice-ca-key.pem");
        String keyPem = Files.readString(keyFile);
        // Truncated mid-body, as a half-copied secret would be.
        String corrupt = keyPem.substring(0, keyPem.length() / 2) + "\n-----END PRIVATE KEY-----\n";
        Files.writeString(keyFile, corrupt);

        assertThatThrownBy(() -> CertificateAuthority.loadOrGenerate(dir, time.clock()))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining(keyFile.toString())
                .hasNoCause()
                .satisfies(e -> assertNoKeyMaterial(e.getMessage(), keyPem));
    }

    @Test
    void refusesCorruptCertificateNamingIt() throws Exception {
        Path dir = tmp.resolve("ca");
        CertificateAuthority.loadOrGenerate(dir, time.clock());
        Files.writeString(dir.resolve("sluice-ca.pem"), "not a certificate\n");

        assertThatThrownBy(() -> CertificateAuthority.loadOrGenerate(dir, time.clock()))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining(dir.resolve("sluice-ca.pem").toString());
    }

    @Test
    void refusesCaDirectoryThatCannotBeCreated() throws Exception {
        Path file = Files.writeString(tmp.resolve("plain-file"), "x");

        assertThatThrownBy(() -> CertificateAuthority.loadOrGenerate(file.resolve("ca"), time.clock()))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining(file.resolve("ca").toString());
    }

    @Test
    void warnsOnceButLoadsWhenExistingKeyIsReadableByOthers() throws Exception {
        Path dir = tmp.resolve("ca");
        CertificateAuthority generated = CertificateAuthority.loadOrGenerate(dir, time.clock());
        Path keyFile = dir.resolve("sluice-ca-key.pem");
        Files.setPosixFilePermissions(keyFile, PosixFilePermissions.fromString("rw-r--r--"));
        List<LogRecord> warnings = new ArrayList<>();
        Logger logger = Logger.getLogger(CertificateAuthority.class.getName());
        Handler handler = new Handler() {
            @Override
            public void publish(LogRecord record) {
                if (record.getLevel().intValue() >= Level.WARNING.intValue()) {
                    warnings.add(record);
                }
            }

            @Override
            public void flush() {}

            @Override
            public void close() {}
        };
        logger.addHandler(handler);
        try {
            CertificateAuthority reloaded = CertificateAuthority.loadOrGenerate(dir, time.clock());

            assertThat(reloaded.certificate()).isEqualTo(generated.certificate());
        } finally {
            logger.removeHandler(handler);
        }
        assertThat(warnings).hasSize(1);
        assertThat(warnings.get(0).getParameters()).contains(keyFile, "rw-r--r--");
    }

    @Test
    void loadsOperatorEcCaWithPkcs8OrTraditionalKey() throws Exception {
        HeldCertificate operator = new HeldCertificate.Builder()
                .commonName("Operator EC CA")
                .certificateAuthority(0)
                .ecdsa256()
                .build();
        Path cert = Files.writeString(tmp.resolve("ca.pem"), operator.certificatePem());
        Path pkcs8 = Files.writeString(tmp.resolve("pkcs8.pem"), operator.privateKeyPkcs8Pem());
        // openssl ecparam -genkey style: EC PARAMETERS, then a SEC 1 EC PRIVATE KEY with curve and public key
        var sec1 = new org.bouncycastle.asn1.sec.ECPrivateKey(
                256,
                ((ECPrivateKey) operator.keyPair().getPrivate()).getS(),
                SubjectPublicKeyInfo.getInstance(operator.keyPair().getPublic().getEncoded())
                        .getPublicKeyData(),
                new ASN1ObjectIdentifier("1.2.840.10045.3.1.7"));
        Path traditional = Files.writeString(
                tmp.resolve("traditional.pem"),
                "-----BEGIN EC PARAMETERS-----\nBggqhkjOPQMBBw==\n-----END EC PARAMETERS-----\n"
                        + "-----BEGIN EC PRIVATE KEY-----\n"
                        + Base64.getMimeEncoder(64, new byte[] {'\n'}).encodeToString(sec1.getEncoded())
                        + "\n-----END EC PRIVATE KEY-----\n");
        assertThat(Files.readString(traditional)).contains("BEGIN EC PRIVATE KEY");

        assertThat(CertificateAuthority.load(cert, pkcs8).certificate()).isEqualTo(operator.certificate());
        assertThat(CertificateAuthority.load(cert, traditional).certificate()).isEqualTo(operator.certificate());
        assertThat(CertificateAuthority.load(cert, pkcs8).certificateFile()).contains(cert);
    }

    @Test
    void loadsOperatorRsaCaWithPkcs8OrPkcs1Key() throws Exception {
        HeldCertificate operator = new HeldCertificate.Builder()
                .commonName("Operator RSA CA")
                .certificateAuthority(0)
                .rsa2048()
                .build();
        Path cert = Files.writeString(tmp.resolve("ca.pem"), operator.certificatePem());
        Path pkcs8 = Files.writeString(tmp.resolve("pkcs8.pem"), operator.privateKeyPkcs8Pem());
        Path pkcs1 = Files.writeString(tmp.resolve("pkcs1.pem"), operator.privateKeyPkcs1Pem());

        assertThat(CertificateAuthority.load(cert, pkcs8).certificate()).isEqualTo(operator.certificate());
        assertThat(CertificateAuthority.load(cert, pkcs1).privateKey().getAlgorithm())
                .isEqualTo("RSA");
    }

    @Test
    void refusesOperatorKeyThatDoesNotMatchTheCertificate() throws Exception {
        HeldCertificate operator =
                new HeldCertificate.Builder().certificateAuthority(0).build();
        HeldCertificate other =
                new HeldCertificate.Builder().certificateAuthority(0).build();
        Path cert = Files.writeString(tmp.resolve("ca.pem"), operator.certificatePem());
        Path key = Files.writeString(tmp.resolve("other-key.pem"), other.privateKeyPkcs8Pem());

        assertThatThrownBy(() -> CertificateAuthority.load(cert, key))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining(key.toString())
                .hasMessageContaining("does not match")
                .satisfies(e -> assertNoKeyMaterial(e.getMessage(), other.privateKeyPkcs8Pem()));
    }

    @Test
    void refusesOperatorCertificateThatIsNotACa() throws Exception {
        HeldCertificate leaf =
                new HeldCertificate.Builder().commonName("not a ca").build();
        Path cert = Files.writeString(tmp.resolve("leaf.pem"), leaf.certificatePem());
        Path key = Files.writeString(tmp.resolve("leaf-key.pem"), leaf.privateKeyPkcs8Pem());

        assertThatThrownBy(() -> CertificateAuthority.load(cert, key))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining(cert.toString())
                .hasMessageContaining("not a CA");
    }

    private static void assertNoKeyMaterial(String text, String keyPem) {
        assertThat(text).doesNotContain("PRIVATE KEY");
        keyPem.lines()
                .filter(line -> !line.startsWith("-----") && line.length() > 8)
                .forEach(line -> assertThat(text).doesNotContain(line.substring(0, 8)));
    }
}
