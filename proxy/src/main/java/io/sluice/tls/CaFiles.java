package io.sluice.tls;

import java.io.IOException;
import java.io.Reader;
import java.net.InetAddress;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.AccessDeniedException;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.nio.file.attribute.FileAttribute;
import java.nio.file.attribute.PosixFilePermission;
import java.nio.file.attribute.PosixFilePermissions;
import java.security.KeyPair;
import java.security.NoSuchAlgorithmException;
import java.security.PrivateKey;
import java.security.cert.CertificateException;
import java.security.cert.X509Certificate;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.time.LocalDate;
import java.time.ZoneOffset;
import java.util.Date;
import java.util.Set;
import org.bouncycastle.asn1.pkcs.PrivateKeyInfo;
import org.bouncycastle.asn1.x500.X500Name;
import org.bouncycastle.asn1.x500.X500NameBuilder;
import org.bouncycastle.asn1.x500.style.BCStyle;
import org.bouncycastle.asn1.x509.BasicConstraints;
import org.bouncycastle.asn1.x509.Extension;
import org.bouncycastle.asn1.x509.KeyUsage;
import org.bouncycastle.cert.X509CertificateHolder;
import org.bouncycastle.cert.jcajce.JcaX509CertificateConverter;
import org.bouncycastle.cert.jcajce.JcaX509ExtensionUtils;
import org.bouncycastle.cert.jcajce.JcaX509v3CertificateBuilder;
import org.bouncycastle.openssl.PEMEncryptedKeyPair;
import org.bouncycastle.openssl.PEMKeyPair;
import org.bouncycastle.openssl.PEMParser;
import org.bouncycastle.openssl.jcajce.JcaPEMKeyConverter;
import org.bouncycastle.openssl.jcajce.JcaPKCS8Generator;
import org.bouncycastle.pkcs.PKCS8EncryptedPrivateKeyInfo;

/**
 * The CA on disk: PEM parsing, first-start generation, and file permissions. Messages name files and
 * say what is wrong with them; they never quote a key file's content, and parse failures of a key
 * drop the parser's exception rather than risk it echoing key bytes.
 */
final class CaFiles {
    static final String CERT_FILE = "sluice-ca.pem";
    static final String KEY_FILE = "sluice-ca-key.pem";

    private static final System.Logger LOG = System.getLogger(CertificateAuthority.class.getName());
    private static final Duration CA_VALIDITY = Duration.ofDays(3650);
    /** Clients whose clocks run a little behind still accept what was issued just now. */
    static final Duration BACKDATE = Duration.ofHours(1);

    private static final Set<PosixFilePermission> DIR_PERMISSIONS = PosixFilePermissions.fromString("rwx------");
    private static final Set<PosixFilePermission> KEY_PERMISSIONS = PosixFilePermissions.fromString("rw-------");
    private static final Set<PosixFilePermission> CERT_PERMISSIONS = PosixFilePermissions.fromString("rw-r--r--");

    private CaFiles() {}

    static CertificateAuthority loadOrGenerate(Path dir, Clock clock) {
        Path certFile = dir.resolve(CERT_FILE);
        Path keyFile = dir.resolve(KEY_FILE);
        if (check(dir)) {
            return load(certFile, keyFile);
        }
        return generate(dir, certFile, keyFile, clock);
    }

    /**
     * What {@link #loadOrGenerate} refuses before reading a file; true when both files are there (to
     * load), false when neither is and the directory can be made or written (to generate).
     */
    static boolean check(Path dir) {
        Path certFile = dir.resolve(CERT_FILE);
        Path keyFile = dir.resolve(KEY_FILE);
        if (Files.exists(dir) && !Files.isDirectory(dir)) {
            throw new IllegalArgumentException("CA directory " + dir + " is not a directory");
        }
        boolean haveCert = Files.exists(certFile);
        boolean haveKey = Files.exists(keyFile);
        if (haveCert && haveKey) {
            if (!Files.isReadable(certFile)) {
                throw new IllegalArgumentException("cannot read CA certificate " + certFile + ": permission denied");
            }
            if (!Files.isReadable(keyFile)) {
                throw new IllegalArgumentException("CA key " + keyFile + " cannot be read: permission denied");
            }
            return true;
        }
        if (haveCert || haveKey) {
            Path present = haveCert ? certFile : keyFile;
            Path missing = haveCert ? keyFile : certFile;
            throw new IllegalArgumentException(
                    "CA directory " + dir + " has " + present + " but not " + missing + "; restore it, or remove "
                            + present + " to generate a new CA (clients must then trust the new one)");
        }
        // To generate: the directory, or the nearest one above it that exists, must take new files.
        Path existing = dir.toAbsolutePath();
        while (existing != null && !Files.exists(existing)) existing = existing.getParent();
        if (existing == null) return false; // nothing exists, not even the root: generating will say why
        if (!Files.isDirectory(existing)) {
            throw new IllegalArgumentException(
                    "cannot create the CA in " + dir + ": " + existing + " exists and is not a directory");
        }
        if (!Files.isWritable(existing)) {
            throw new IllegalArgumentException("cannot create the CA in " + dir + ": permission denied on " + existing);
        }
        return false;
    }

    static CertificateAuthority load(Path certFile, Path keyFile) {
        X509Certificate certificate = readCertificate(certFile);
        PrivateKey key = readPrivateKey(keyFile);
        if (!key.getAlgorithm().equals("EC") && !key.getAlgorithm().equals("RSA")) {
            throw new IllegalArgumentException(
                    "CA key " + keyFile + " is " + key.getAlgorithm() + "; Sluice signs with EC or RSA CA keys");
        }
        if (!io.sluice.config.Pem.keyMatches(key, certificate.getPublicKey())) {
            throw new IllegalArgumentException(
                    "CA key " + keyFile + " does not match the public key of certificate " + certFile);
        }
        if (certificate.getBasicConstraints() < 0) {
            throw new IllegalArgumentException("certificate " + certFile + " ("
                    + certificate.getSubjectX500Principal().getName()
                    + ") is not a CA: it lacks basicConstraints CA:true");
        }
        boolean[] keyUsage = certificate.getKeyUsage();
        if (keyUsage != null && !keyUsage[5]) {
            throw new IllegalArgumentException("certificate " + certFile + " ("
                    + certificate.getSubjectX500Principal().getName()
                    + ") may not sign certificates: its keyUsage lacks keyCertSign");
        }
        warnIfReadableByOthers(keyFile);
        return new CertificateAuthority(certificate, key, certFile);
    }

    private static CertificateAuthority generate(Path dir, Path certFile, Path keyFile, Clock clock) {
        KeyPair keyPair = Certificates.generateEcP256();
        Instant now = clock.instant();
        X500Name subject = new X500NameBuilder(BCStyle.INSTANCE)
                // Most significant first, so it reads "CN=..., O=Sluice" in RFC 4514 order.
                .addRDN(BCStyle.O, "Sluice")
                .addRDN(
                        BCStyle.CN,
                        truncate("Sluice CA (" + hostname() + ") " + LocalDate.ofInstant(now, ZoneOffset.UTC), 64))
                .build();
        X509Certificate certificate;
        try {
            var builder = new JcaX509v3CertificateBuilder(
                            subject,
                            Certificates.randomSerial(),
                            Date.from(now.minus(BACKDATE)),
                            Date.from(now.plus(CA_VALIDITY)),
                            subject,
                            keyPair.getPublic())
                    // pathLen 0: this CA signs leaves only, never another CA.
                    .addExtension(Extension.basicConstraints, true, new BasicConstraints(0))
                    .addExtension(Extension.keyUsage, true, new KeyUsage(KeyUsage.keyCertSign | KeyUsage.cRLSign))
                    .addExtension(
                            Extension.subjectKeyIdentifier,
                            false,
                            new JcaX509ExtensionUtils().createSubjectKeyIdentifier(keyPair.getPublic()));
            certificate = Certificates.sign(builder, keyPair.getPrivate());
        } catch (IOException | NoSuchAlgorithmException e) {
            throw new IllegalStateException("cannot build CA certificate", e);
        }

        boolean posix = dir.getFileSystem().supportedFileAttributeViews().contains("posix");
        try {
            if (!Files.isDirectory(dir)) {
                Files.createDirectories(dir, attributes(posix, DIR_PERMISSIONS));
            }
            // Both files are complete on disk before either gets its name, so a crash leaves no
            // half-written key; the key's temporary file is owner-only from the moment it exists.
            Path keyTemp = writeTemp(
                    dir, Certificates.pem(new JcaPKCS8Generator(keyPair.getPrivate(), null)), posix, KEY_PERMISSIONS);
            Path certTemp;
            try {
                certTemp = writeTemp(dir, Certificates.pem(certificate), posix, CERT_PERMISSIONS);
            } catch (IOException | RuntimeException e) {
                Files.deleteIfExists(keyTemp);
                throw e;
            }
            try {
                Files.move(keyTemp, keyFile, StandardCopyOption.ATOMIC_MOVE);
                Files.move(certTemp, certFile, StandardCopyOption.ATOMIC_MOVE);
            } finally {
                // No-ops once moved; otherwise no stray copy of the key stays behind.
                Files.deleteIfExists(keyTemp);
                Files.deleteIfExists(certTemp);
            }
        } catch (AccessDeniedException e) {
            throw new IllegalArgumentException(
                    "cannot create the CA in " + dir + ": permission denied on " + e.getFile());
        } catch (FileAlreadyExistsException e) {
            throw new IllegalArgumentException(
                    "cannot create the CA in " + dir + ": " + e.getFile() + " exists and is not a directory");
        } catch (IOException e) {
            throw new IllegalArgumentException("cannot create the CA in " + dir + ": " + e);
        }
        LOG.log(
                System.Logger.Level.INFO,
                "generated CA {0} in {1}; clients must trust {2}",
                certificate.getSubjectX500Principal().getName(),
                dir,
                certFile);
        return new CertificateAuthority(certificate, keyPair.getPrivate(), certFile);
    }

    private static Path writeTemp(Path dir, String content, boolean posix, Set<PosixFilePermission> permissions)
            throws IOException {
        Path temp = Files.createTempFile(dir, ".sluice-ca-", ".tmp", attributes(posix, permissions));
        try {
            if (posix) {
                // The umask may have narrowed the permissions asked for at creation (never widened them).
                Files.setPosixFilePermissions(temp, permissions);
            }
            try (FileChannel channel = FileChannel.open(temp, StandardOpenOption.WRITE)) {
                ByteBuffer bytes = ByteBuffer.wrap(content.getBytes(StandardCharsets.US_ASCII));
                while (bytes.hasRemaining()) {
                    channel.write(bytes);
                }
                channel.force(true);
            }
            return temp;
        } catch (IOException | RuntimeException e) {
            Files.deleteIfExists(temp);
            throw e;
        }
    }

    private static FileAttribute<?>[] attributes(boolean posix, Set<PosixFilePermission> permissions) {
        return posix
                ? new FileAttribute<?>[] {PosixFilePermissions.asFileAttribute(permissions)}
                : new FileAttribute<?>[0];
    }

    private static X509Certificate readCertificate(Path file) {
        Object found = null;
        try (Reader reader = Files.newBufferedReader(file, StandardCharsets.US_ASCII);
                PEMParser parser = new PEMParser(reader)) {
            for (Object object = parser.readObject(); object != null; object = parser.readObject()) {
                if (object instanceof X509CertificateHolder) {
                    found = object;
                    break;
                }
            }
        } catch (NoSuchFileException e) {
            throw new IllegalArgumentException("CA certificate " + file + " does not exist");
        } catch (AccessDeniedException e) {
            throw new IllegalArgumentException("cannot read CA certificate " + file + ": permission denied");
        } catch (IOException | RuntimeException e) {
            throw new IllegalArgumentException("CA certificate " + file + " is not a valid PEM certificate: " + e, e);
        }
        if (!(found instanceof X509CertificateHolder holder)) {
            throw new IllegalArgumentException("CA certificate " + file + " holds no PEM CERTIFICATE");
        }
        try {
            return new JcaX509CertificateConverter().getCertificate(holder);
        } catch (CertificateException e) {
            throw new IllegalArgumentException("CA certificate " + file + " is not a valid X.509 certificate: " + e, e);
        }
    }

    private static PrivateKey readPrivateKey(Path file) {
        String problem = "holds no PEM private key (PKCS#8 PRIVATE KEY, EC PRIVATE KEY or RSA PRIVATE KEY)";
        try (Reader reader = Files.newBufferedReader(file, StandardCharsets.US_ASCII);
                PEMParser parser = new PEMParser(reader)) {
            var converter = new JcaPEMKeyConverter();
            for (Object object = parser.readObject(); object != null; object = parser.readObject()) {
                if (object instanceof PrivateKeyInfo info) {
                    return converter.getPrivateKey(info);
                } else if (object instanceof PEMKeyPair pair) {
                    return converter.getKeyPair(pair).getPrivate();
                } else if (object instanceof PEMEncryptedKeyPair || object instanceof PKCS8EncryptedPrivateKeyInfo) {
                    problem = "is encrypted; Sluice needs it unencrypted";
                    break;
                }
                // Anything else (openssl ecparam -genkey writes EC PARAMETERS first) is skipped.
            }
        } catch (NoSuchFileException e) {
            problem = "does not exist";
        } catch (AccessDeniedException e) {
            problem = "cannot be read: permission denied";
        } catch (IOException | RuntimeException e) {
            // Only the exception's type: the parser's message or cause may quote what it choked on,
            // which is the key.
            problem = "is not a valid PEM private key (" + e.getClass().getSimpleName() + ")";
        }
        throw new IllegalArgumentException("CA key " + file + " " + problem);
    }

    /** Kubernetes mounts secrets 0644 by default, so this warns rather than refusing to start. */
    private static void warnIfReadableByOthers(Path keyFile) {
        try {
            Set<PosixFilePermission> permissions = Files.getPosixFilePermissions(keyFile);
            if (permissions.contains(PosixFilePermission.GROUP_READ)
                    || permissions.contains(PosixFilePermission.OTHERS_READ)) {
                LOG.log(
                        System.Logger.Level.WARNING,
                        "CA key {0} is readable by group or others ({1}); anyone who reads it can impersonate any"
                                + " site to clients that trust this CA: chmod 600 it",
                        keyFile,
                        PosixFilePermissions.toString(permissions));
            }
        } catch (UnsupportedOperationException | IOException e) {
            // Not a POSIX file system: nothing to check.
        }
    }

    private static String hostname() {
        String fromEnvironment = System.getenv("HOSTNAME");
        if (fromEnvironment != null && !fromEnvironment.isBlank()) {
            return fromEnvironment;
        }
        try {
            return InetAddress.getLocalHost().getHostName();
        } catch (IOException e) {
            return "unknown host";
        }
    }

    static String truncate(String value, int maxLength) {
        return value.length() <= maxLength ? value : value.substring(0, maxLength);
    }
}
