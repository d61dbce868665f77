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
 * delegated tasks, so its key manager presents only EC leaves minted beforehand by {@link #prepare},
 * and BoringSSL keeps one certificate per connection. So with Conscrypt there are two contexts, and
 * {@link #contextFor} picks one per connection from the client's hello: Conscrypt's where the
 * client accepts the EC leaf and names the prepared host (or one whose leaf is cached), JSSE's for
 * the rest (RSA-only clients, another SNI name, a hello that cannot be read), which mints what it
 * needs in a delegated task.
 */
public final class InterceptTls {
    private final CertificateAuthority ca;
    private final LeafMinter minter;
    private final SniKeyManager keyManager;
    /** JSSE's: serves every client, minting in a delegated task. */
    private final SSLContext sslContext;
    /** Conscrypt's, for the clients {@link #contextFor} sends to it; null with JSSE alone. */
    private final SSLContext fastContext;
    /** Hellos answered by each context, as chosen by {@link #contextFor}. */
    private final java.util.concurrent.atomic.LongAdder toJdk = new java.util.concurrent.atomic.LongAdder();

    private final java.util.concurrent.atomic.LongAdder toConscrypt = new java.util.concurrent.atomic.LongAdder();

    private InterceptTls(
            CertificateAuthority ca,
            LeafMinter minter,
            SniKeyManager keyManager,
            SSLContext sslContext,
            SSLContext fastContext) {
        this.ca = ca;
        this.minter = minter;
        this.keyManager = keyManager;
        this.sslContext = sslContext;
        this.fastContext = fastContext;
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
        var hints = SniKeyManager.hints(time);
        SniKeyManager keyManager = new SniKeyManager(minter, hints, true);
        try {
            SSLContext context = TlsEngines.jdk().newContext();
            // No trust managers: the server side never asks clients for certificates.
            context.init(new KeyManager[] {keyManager}, null, Certificates.RANDOM);
            SSLContext fast = null;
            if (!engines.delegatesTasks()) {
                fast = engines.newContext();
                fast.init(new KeyManager[] {new SniKeyManager(minter, hints, false)}, null, Certificates.RANDOM);
            }
            return new InterceptTls(ca, minter, keyManager, context, fast);
        } catch (GeneralSecurityException e) {
            throw new IllegalStateException("this JDK cannot create a TLS server context", e);
        }
    }

    /** JSSE's server-side context, which serves every client; its key manager mints a leaf per SNI name. */
    public SSLContext sslContext() {
        return sslContext;
    }

    /** Whether {@link #contextFor} can choose: false with JSSE alone, whose context serves every client. */
    public boolean choosesByHello() {
        return fastContext != null;
    }

    /**
     * The context to answer {@code hello} with, on a tunnel to {@code connectHost} (whose leaf {@link
     * #prepare} made): Conscrypt's where the client accepts the EC leaf and it is ready, else JSSE's.
     * Cheap and never mints: call it on the IO thread.
     */
    public SSLContext contextFor(ClientHello.Peek hello, String connectHost) {
        boolean fast = fastContext != null && servesFast(hello, connectHost);
        (fast ? toConscrypt : toJdk).increment();
        return fast ? fastContext : sslContext;
    }

    private boolean servesFast(ClientHello.Peek hello, String connectHost) {
        if (!(hello instanceof ClientHello.Hello read) || !read.ecP256()) return false;
        if (read.serverName().isEmpty()) return true; // the host hint names connectHost
        ServerName asked = ServerName.parse(read.serverName().get()).orElse(null);
        if (asked == null) return false; // JSSE refuses it cleanly
        return asked.equals(ServerName.parse(connectHost).orElse(null)) || minter.cached(asked, LeafMinter.KeyType.EC);
    }

    /** How many hellos {@link #contextFor} sent to each engine: {@code jdk} and {@code conscrypt}. */
    public java.util.Map<String, Long> handshakesByEngine() {
        return java.util.Map.of("jdk", toJdk.sum(), "conscrypt", toConscrypt.sum());
    }

    /** Conscrypt's context (EC leaves prepared beforehand), or null with JSSE alone. */
    public SSLContext fastContext() {
        return fastContext;
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
