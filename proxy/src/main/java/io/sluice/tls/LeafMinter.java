package io.sluice.tls;

import com.github.benmanes.caffeine.cache.Cache;
import com.github.benmanes.caffeine.cache.Caffeine;
import io.sluice.time.TimeSource;
import java.io.IOException;
import java.security.GeneralSecurityException;
import java.security.KeyPair;
import java.security.PrivateKey;
import java.security.cert.X509Certificate;
import java.time.Duration;
import java.time.Instant;
import java.util.Date;
import java.util.concurrent.atomic.LongAdder;
import org.bouncycastle.asn1.x500.X500NameBuilder;
import org.bouncycastle.asn1.x500.style.BCStyle;
import org.bouncycastle.asn1.x509.AuthorityKeyIdentifier;
import org.bouncycastle.asn1.x509.BasicConstraints;
import org.bouncycastle.asn1.x509.ExtendedKeyUsage;
import org.bouncycastle.asn1.x509.Extension;
import org.bouncycastle.asn1.x509.GeneralName;
import org.bouncycastle.asn1.x509.GeneralNames;
import org.bouncycastle.asn1.x509.KeyPurposeId;
import org.bouncycastle.asn1.x509.KeyUsage;
import org.bouncycastle.asn1.x509.SubjectKeyIdentifier;
import org.bouncycastle.cert.jcajce.JcaX509ExtensionUtils;
import org.bouncycastle.cert.jcajce.JcaX509v3CertificateBuilder;

/**
 * Mints and caches leaf certificates. All leaves of one key type share one key pair, as mitmproxy's
 * do: a leaf then costs one signature, not a key generation, and the key never leaves the process.
 */
final class LeafMinter {
    /** The key types the JDK asks a server key manager for that Sluice can serve. */
    enum KeyType {
        EC,
        RSA
    }

    record LeafKey(String name, KeyType type) {}

    private static final Duration LEAF_VALIDITY = Duration.ofDays(7);
    /** Well inside the leaf's validity, so a cached leaf is never near its notAfter. */
    private static final Duration CACHE_FOR = Duration.ofDays(1);

    private static final int MAX_COMMON_NAME = 64; // RFC 5280 ub-common-name

    private final CertificateAuthority ca;
    private final TimeSource time;
    private final AuthorityKeyIdentifier authorityKeyId;
    private final KeyPair ecKey;
    private final SubjectKeyIdentifier ecKeyId;
    /** Generated on first use: RSA-2048 takes a noticeable while, and most clients negotiate EC. */
    private volatile RsaKey rsaKey;

    private final Cache<LeafKey, X509Certificate[]> leaves;
    private final LongAdder minted = new LongAdder();
    /** Test hook: told the thread of every mint, so a test can prove none ran on an IO thread. */
    static volatile java.util.function.Consumer<Thread> mintObserver;

    private record RsaKey(KeyPair pair, SubjectKeyIdentifier id) {}

    LeafMinter(CertificateAuthority ca, TimeSource time, int maxCachedLeaves) {
        this.ca = ca;
        this.time = time;
        try {
            this.authorityKeyId = new JcaX509ExtensionUtils().createAuthorityKeyIdentifier(ca.certificate());
        } catch (GeneralSecurityException e) {
            throw new IllegalStateException("cannot read the CA's key identifier", e);
        }
        this.ecKey = Certificates.generateEcP256();
        this.ecKeyId = subjectKeyId(ecKey);
        this.leaves = Caffeine.newBuilder()
                .ticker(time::nanoTime)
                // Maintenance is a little bookkeeping; no need to wake a pool thread for it.
                .executor(Runnable::run)
                .maximumSize(maxCachedLeaves)
                .expireAfterWrite(CACHE_FOR)
                .build();
    }

    /** [leaf, CA]; concurrent handshakes for one name and type wait for one signature. */
    X509Certificate[] chain(ServerName name, KeyType type) {
        return leaves.get(new LeafKey(name.name(), type), key -> mint(name, type))
                .clone();
    }

    /** The chain when it is cached, else null: never mints. */
    X509Certificate[] cachedChain(ServerName name, KeyType type) {
        X509Certificate[] chain = leaves.getIfPresent(new LeafKey(name.name(), type));
        return chain == null ? null : chain.clone();
    }

    boolean cached(ServerName name, KeyType type) {
        return leaves.getIfPresent(new LeafKey(name.name(), type)) != null;
    }

    PrivateKey privateKey(KeyType type) {
        return keyPair(type).getPrivate();
    }

    long mintedCount() {
        return minted.sum();
    }

    private X509Certificate[] mint(ServerName name, KeyType type) {
        Instant now = time.clock().instant();
        Instant caNotAfter = ca.certificate().getNotAfter().toInstant();
        if (!caNotAfter.isAfter(now)) {
            throw new IllegalStateException(
                    ca + " expired at " + caNotAfter + "; cannot mint a leaf for " + name.name());
        }
        Instant notAfter = now.plus(LEAF_VALIDITY);
        if (notAfter.isAfter(caNotAfter)) {
            notAfter = caNotAfter; // a leaf outliving its CA would only fail later, and confusingly
        }
        KeyPair keyPair = keyPair(type);
        GeneralName subjectAltName =
                new GeneralName(name.ip() ? GeneralName.iPAddress : GeneralName.dNSName, name.name());
        int keyUsage = type == KeyType.RSA
                // TLS 1.2 RSA key exchange encrypts the premaster secret to the leaf key.
                ? KeyUsage.digitalSignature | KeyUsage.keyEncipherment
                : KeyUsage.digitalSignature;
        try {
            var builder = new JcaX509v3CertificateBuilder(
                            ca.certificate(),
                            Certificates.randomSerial(),
                            Date.from(now.minus(CaFiles.BACKDATE)),
                            Date.from(notAfter),
                            new X500NameBuilder(BCStyle.INSTANCE)
                                    .addRDN(BCStyle.CN, CaFiles.truncate(name.name(), MAX_COMMON_NAME))
                                    .build(),
                            keyPair.getPublic())
                    .addExtension(Extension.basicConstraints, true, new BasicConstraints(false))
                    .addExtension(Extension.keyUsage, true, new KeyUsage(keyUsage))
                    .addExtension(
                            Extension.extendedKeyUsage, false, new ExtendedKeyUsage(KeyPurposeId.id_kp_serverAuth))
                    .addExtension(Extension.subjectAlternativeName, false, new GeneralNames(subjectAltName))
                    .addExtension(Extension.authorityKeyIdentifier, false, authorityKeyId)
                    .addExtension(Extension.subjectKeyIdentifier, false, type == KeyType.EC ? ecKeyId : rsaKey().id());
            X509Certificate leaf = Certificates.sign(builder, ca.privateKey());
            minted.increment();
            java.util.function.Consumer<Thread> observer = mintObserver;
            if (observer != null) observer.accept(Thread.currentThread());
            return new X509Certificate[] {leaf, ca.certificate()};
        } catch (IOException e) {
            throw new IllegalStateException("cannot build a leaf for " + name.name(), e);
        }
    }

    private KeyPair keyPair(KeyType type) {
        return type == KeyType.EC ? ecKey : rsaKey().pair();
    }

    private RsaKey rsaKey() {
        RsaKey key = rsaKey;
        if (key == null) {
            synchronized (this) {
                key = rsaKey;
                if (key == null) {
                    KeyPair pair = Certificates.generateRsa2048();
                    key = new RsaKey(pair, subjectKeyId(pair));
                    rsaKey = key;
                }
            }
        }
        return key;
    }

    private static SubjectKeyIdentifier subjectKeyId(KeyPair keyPair) {
        try {
            return new JcaX509ExtensionUtils().createSubjectKeyIdentifier(keyPair.getPublic());
        } catch (GeneralSecurityException e) {
            throw new IllegalStateException("cannot compute a key identifier", e);
        }
    }
}
