package io.sluice.config;

import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.security.GeneralSecurityException;
import java.security.KeyFactory;
import java.security.PrivateKey;
import java.security.PublicKey;
import java.security.Signature;
import java.security.cert.CertificateException;
import java.security.cert.CertificateFactory;
import java.security.cert.X509Certificate;
import java.security.spec.PKCS8EncodedKeySpec;
import java.util.Base64;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * PEM files with the JDK alone: certificates through {@link CertificateFactory}, private keys in
 * PKCS#8 ({@code BEGIN PRIVATE KEY}, RSA or EC). Errors name the file and what is wrong with it,
 * never its contents.
 */
public final class Pem {
    private static final Pattern BLOCK =
            Pattern.compile("-----BEGIN ([A-Z0-9 ]+)-----\\s*([A-Za-z0-9+/=\\s]*?)\\s*-----END \\1-----");
    private static final String CONVERT = "convert with openssl pkcs8 -topk8 -nocrypt -in KEY -out KEY.pk8";

    private Pem() {}

    /** Every {@code CERTIFICATE} block in {@code file}, in order; at least one. */
    public static List<X509Certificate> certificates(Path file) {
        String text = read(file);
        try {
            CertificateFactory factory = CertificateFactory.getInstance("X.509");
            List<X509Certificate> certificates = new java.util.ArrayList<>();
            Matcher m = BLOCK.matcher(text);
            while (m.find()) {
                if (!m.group(1).equals("CERTIFICATE")) continue;
                byte[] der = decode(file, m.group(2));
                certificates.add((X509Certificate) factory.generateCertificate(new ByteArrayInputStream(der)));
            }
            if (certificates.isEmpty()) {
                throw new IllegalArgumentException("no PEM certificate (-----BEGIN CERTIFICATE-----) in " + file);
            }
            return List.copyOf(certificates);
        } catch (CertificateException e) {
            throw new IllegalArgumentException("not a valid PEM certificate in " + file + ": " + e.getMessage());
        }
    }

    /** The PKCS#8 private key in {@code file} (RSA or EC). */
    public static PrivateKey privateKey(Path file) {
        String text = read(file);
        Matcher m = BLOCK.matcher(text);
        while (m.find()) {
            String type = m.group(1);
            if (type.equals("PRIVATE KEY")) return pkcs8(file, decode(file, m.group(2)));
            if (type.endsWith("PRIVATE KEY")) {
                throw new IllegalArgumentException(type + " in " + file + " is not supported (PKCS#8 BEGIN PRIVATE"
                        + " KEY only, unencrypted); " + CONVERT);
            }
        }
        throw new IllegalArgumentException("no PEM private key (-----BEGIN PRIVATE KEY-----) in " + file);
    }

    /** Fails unless {@code key} is the private half of {@code certificate}'s public key. */
    public static void checkPair(X509Certificate certificate, PrivateKey key, Path keyFile) {
        PublicKey publicKey = certificate.getPublicKey();
        if (!publicKey.getAlgorithm().equals(key.getAlgorithm())) {
            throw new IllegalArgumentException("the key in " + keyFile + " is " + key.getAlgorithm()
                    + " but the certificate's is " + publicKey.getAlgorithm());
        }
        if (keyMatches(key, publicKey)) return;
        throw new IllegalArgumentException("the key in " + keyFile + " does not match the certificate ("
                + certificate.getSubjectX500Principal().getName() + ")");
    }

    /**
     * Whether {@code key} is the private half of {@code publicKey}: a signature made with the one and
     * checked with the other, one test for RSA and EC. Never says anything about the key itself.
     */
    public static boolean keyMatches(PrivateKey key, PublicKey publicKey) {
        if (!key.getAlgorithm().equals(publicKey.getAlgorithm())) return false;
        String algorithm = switch (key.getAlgorithm()) {
            case "EC" -> "SHA256withECDSA";
            case "RSA" -> "SHA256withRSA";
            default -> null;
        };
        if (algorithm == null) return false;
        byte[] probe = "sluice key check".getBytes(StandardCharsets.US_ASCII);
        try {
            Signature signer = Signature.getInstance(algorithm);
            signer.initSign(key);
            signer.update(probe);
            byte[] signature = signer.sign();
            Signature verifier = Signature.getInstance(algorithm);
            verifier.initVerify(publicKey);
            verifier.update(probe);
            return verifier.verify(signature);
        } catch (GeneralSecurityException e) {
            return false;
        }
    }

    private static PrivateKey pkcs8(Path file, byte[] der) {
        PKCS8EncodedKeySpec spec = new PKCS8EncodedKeySpec(der);
        for (String algorithm : List.of("RSA", "EC")) {
            try {
                return KeyFactory.getInstance(algorithm).generatePrivate(spec);
            } catch (GeneralSecurityException e) {
                // Try the next algorithm.
            }
        }
        throw new IllegalArgumentException(
                "not a valid PKCS#8 RSA or EC private key in " + file + " (an encrypted key? " + CONVERT + ")");
    }

    private static byte[] decode(Path file, String base64) {
        try {
            return Base64.getMimeDecoder().decode(base64);
        } catch (IllegalArgumentException e) {
            throw new IllegalArgumentException("bad base64 in a PEM block of " + file);
        }
    }

    private static String read(Path file) {
        try {
            return Files.readString(file, StandardCharsets.US_ASCII);
        } catch (NoSuchFileException e) {
            throw new IllegalArgumentException("file not found: " + file);
        } catch (java.nio.charset.CharacterCodingException e) {
            throw new IllegalArgumentException("not a PEM file (not text): " + file);
        } catch (IOException e) {
            throw new IllegalArgumentException(
                    "cannot read " + file + ": " + e.getClass().getSimpleName());
        }
    }
}
