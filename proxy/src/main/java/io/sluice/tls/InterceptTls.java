package io.sluice.tls;

import io.sluice.time.TimeSource;
import java.net.InetSocketAddress;
import java.security.GeneralSecurityException;
import java.util.Objects;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.Executor;
import javax.net.ssl.KeyManager;
import javax.net.ssl.SSLContext;

/**
 * The server side of TLS interception: an {@link SSLContext} that presents, for each server name a
 * client asks for, a leaf signed by the {@link CertificateAuthority}. Leaves are minted on first
 * use and cached for a day, so a host costs one signature, not one per connection.
 *
 * <p>With JSSE the key manager mints inside a delegated task, off the IO thread. Conscrypt has no
 * delegated tasks, so with it the key manager presents only leaves minted beforehand by {@link
 * #prepare}: a client whose SNI names a host other than the one prepared (the CONNECT host) gets
 * no certificate and a failed handshake, unless that host's leaf is cached already.
 */
public final class InterceptTls {
    private final CertificateAuthority ca;
    private final LeafMinter minter;
    private final SniKeyManager keyManager;
    private final SSLContext sslContext;

    private InterceptTls(CertificateAuthority ca, LeafMinter minter, SniKeyManager keyManager, SSLContext sslContext) {
        this.ca = ca;
        this.minter = minter;
        this.keyManager = keyManager;
        this.sslContext = sslContext;
    }

    /**
     * @param maxCachedLeaves how many (name, key type) leaves to keep; each is a few hundred bytes
     *     plus the certificate object
     */
    public static InterceptTls create(CertificateAuthority ca, TimeSource time, int maxCachedLeaves) {
        return create(ca, time, maxCachedLeaves, TlsEngines.jdk());
    }

    /** The same over {@code engines}' provider. */
    public static InterceptTls create(
            CertificateAuthority ca, TimeSource time, int maxCachedLeaves, TlsEngines engines) {
        Objects.requireNonNull(ca, "ca");
        Objects.requireNonNull(engines, "engines");
        Objects.requireNonNull(time, "time");
        if (maxCachedLeaves <= 0) {
            throw new IllegalArgumentException("maxCachedLeaves must be positive: " + maxCachedLeaves);
        }
        LeafMinter minter = new LeafMinter(ca, time, maxCachedLeaves);
        SniKeyManager keyManager = new SniKeyManager(minter, time, engines.delegatesTasks());
        try {
            SSLContext context = engines.newContext();
            // No trust managers: the server side never asks clients for certificates.
            context.init(new KeyManager[] {keyManager}, null, Certificates.RANDOM);
            return new InterceptTls(ca, minter, keyManager, context);
        } catch (GeneralSecurityException e) {
            throw new IllegalStateException("this JDK cannot create a TLS server context", e);
        }
    }

    /** A server-side context; its key manager mints a leaf per SNI name. */
    public SSLContext sslContext() {
        return sslContext;
    }

    /**
     * For clients that send no SNI (IP targets): the CONNECT host for the client connection whose
     * socket address, as the server's SSLEngine sees it ({@code engine.getPeerHost()},
     * {@code engine.getPeerPort()}), is {@code clientPeer}. Set it before the handshake and clear it
     * when the connection ends. SNI, when the client sends it, wins.
     */
    public void hostHint(InetSocketAddress clientPeer, String connectHost) {
        keyManager.hint(
                Objects.requireNonNull(clientPeer, "clientPeer"), Objects.requireNonNull(connectHost, "connectHost"));
    }

    public void clearHint(InetSocketAddress clientPeer) {
        keyManager.clearHint(Objects.requireNonNull(clientPeer, "clientPeer"));
    }

    /**
     * Mints, on {@code executor}, the leaf a client naming {@code connectHost} (by SNI or, with none,
     * by the host hint) will be shown, so that the handshake finds it cached; done at once when it
     * is. Only the EC leaf: every current client accepts it (an RSA-only client's RSA leaf is minted
     * inside its handshake, in a delegated task, with JSSE). Fails when no leaf can be made for the
     * name.
     */
    public CompletableFuture<Void> prepare(String connectHost, Executor executor) {
        Objects.requireNonNull(executor, "executor");
        ServerName name = ServerName.parse(Objects.requireNonNull(connectHost, "connectHost"))
                .orElse(null);
        if (name == null) {
            return CompletableFuture.failedFuture(
                    new IllegalArgumentException("no certificate can name \"" + connectHost + "\""));
        }
        if (minter.cached(name, LeafMinter.KeyType.EC)) return CompletableFuture.completedFuture(null);
        return CompletableFuture.runAsync(() -> minter.chain(name, LeafMinter.KeyType.EC), executor);
    }

    /** Leaves signed so far, for tests and metrics. */
    public long mintedCount() {
        return minter.mintedCount();
    }

    @Override
    public String toString() {
        return "InterceptTls[" + ca + ", minted=" + minter.mintedCount() + "]";
    }
}
