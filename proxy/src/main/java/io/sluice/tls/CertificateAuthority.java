package io.sluice.tls;

import java.nio.file.Path;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.security.PrivateKey;
import java.security.cert.CertificateEncodingException;
import java.security.cert.X509Certificate;
import java.time.Clock;
import java.util.HexFormat;
import java.util.Objects;
import java.util.Optional;

/**
 * The CA that signs Sluice's intercepting leaf certificates. Clients trust it by installing
 * {@link #certificatePem()}; the private key never leaves this package and never appears in a
 * message or in {@link #toString()}.
 */
public final class CertificateAuthority {
    private final X509Certificate certificate;
    private final PrivateKey key;
    private final Path certificateFile;
    private final String pem;
    private final String description;

    CertificateAuthority(X509Certificate certificate, PrivateKey key, Path certificateFile) {
        this.certificate = certificate;
        this.key = key;
        this.certificateFile = certificateFile;
        this.pem = Certificates.pem(certificate);
        this.description = "CertificateAuthority["
                + certificate.getSubjectX500Principal().getName() + ", sha256=" + fingerprint(certificate) + "]";
    }

    /**
     * Loads {@code dir/sluice-ca.pem} and {@code dir/sluice-ca-key.pem}, or generates an EC P-256 CA
     * valid for ten years from {@code clock} and writes them there on first start (the directory
     * 0700, the key 0600, written atomically).
     *
     * @throws IllegalArgumentException naming the file when the directory cannot be written, only
     *     one of the two files exists, or a file is not a usable CA certificate or key
     */
    public static CertificateAuthority loadOrGenerate(Path dir, Clock clock) {
        Objects.requireNonNull(dir, "dir");
        Objects.requireNonNull(clock, "clock");
        return CaFiles.loadOrGenerate(dir, clock);
    }

    /**
     * Whether {@code dir} holds a CA for {@link #loadOrGenerate} to load (true) or none yet, so that it
     * would generate one (false); fails as it would without reading any file: a path that is not a
     * directory, one of the two files without the other, a file that cannot be read, or (with
     * neither) a directory that cannot be made or written. A few file system calls: a start checks
     * this and loads the CA when it is first needed.
     *
     * @throws IllegalArgumentException naming the file or directory
     */
    public static boolean check(Path dir) {
        Objects.requireNonNull(dir, "dir");
        return CaFiles.check(dir);
    }

    /** Where {@link #loadOrGenerate} keeps the certificate in {@code dir}. */
    public static Path certificateFileIn(Path dir) {
        return dir.resolve(CaFiles.CERT_FILE);
    }

    /**
     * An operator-supplied CA: a PEM certificate with CA basic constraints, and its PEM private key
     * (PKCS#8, or traditional EC or RSA; not encrypted).
     *
     * @throws IllegalArgumentException naming the file when either cannot be read or parsed, the key
     *     does not match the certificate, or the certificate is not a CA
     */
    public static CertificateAuthority load(Path certPem, Path keyPem) {
        Objects.requireNonNull(certPem, "certPem");
        Objects.requireNonNull(keyPem, "keyPem");
        return CaFiles.load(certPem, keyPem);
    }

    public X509Certificate certificate() {
        return certificate;
    }

    /** The CA certificate in PEM: public, for clients to install (the admin API may serve it). */
    public String certificatePem() {
        return pem;
    }

    /** Where the certificate is on disk, to print on start so operators can hand it to clients. */
    public Optional<Path> certificateFile() {
        return Optional.ofNullable(certificateFile);
    }

    /** The certificate's SHA-256 fingerprint, colon-separated hex, as browsers and openssl show it. */
    public String fingerprintSha256() {
        return fingerprint(certificate);
    }

    PrivateKey privateKey() {
        return key;
    }

    @Override
    public String toString() {
        return description;
    }

    static String fingerprint(X509Certificate certificate) {
        try {
            byte[] digest = MessageDigest.getInstance("SHA-256").digest(certificate.getEncoded());
            return HexFormat.ofDelimiter(":").withUpperCase().formatHex(digest);
        } catch (NoSuchAlgorithmException | CertificateEncodingException e) {
            throw new IllegalStateException("cannot fingerprint certificate", e);
        }
    }
}
