package io.sluice.tls;

import com.github.benmanes.caffeine.cache.Cache;
import com.github.benmanes.caffeine.cache.Caffeine;
import io.sluice.time.TimeSource;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.net.SocketAddress;
import java.security.Principal;
import java.security.PrivateKey;
import java.security.cert.X509Certificate;
import java.time.Duration;
import java.util.Locale;
import java.util.Optional;
import javax.net.ssl.ExtendedSSLSession;
import javax.net.ssl.SNIHostName;
import javax.net.ssl.SNIServerName;
import javax.net.ssl.SSLEngine;
import javax.net.ssl.SSLSession;
import javax.net.ssl.SSLSocket;
import javax.net.ssl.X509ExtendedKeyManager;

/**
 * A server key manager whose aliases are minted on demand: the alias names the key type and the
 * server name (from SNI, else the host hint for the client's address), and the chain for it is the
 * leaf for that name. A handshake it cannot name gets no alias, and fails cleanly.
 */
final class SniKeyManager extends X509ExtendedKeyManager {
    private static final System.Logger LOG = System.getLogger(SniKeyManager.class.getName());
    private static final char SEPARATOR = '|';
    /** A hint only has to outlive the handshake; one its caller forgot to clear goes after this. */
    private static final Duration HINT_LIFETIME = Duration.ofMinutes(5);

    private final LeafMinter minter;
    private final Cache<String, String> hints;
    /**
     * False with an engine that calls the key manager on the IO thread (Conscrypt): then only leaves
     * minted beforehand are presented, and only EC ones, because BoringSSL keeps one certificate per
     * connection (the last one Conscrypt is given) rather than choosing by the client's suites.
     */
    private final boolean mintOnHandshake;

    /** Over {@code hints} shared with another key manager (one per engine, the same clients). */
    SniKeyManager(LeafMinter minter, Cache<String, String> hints, boolean mintOnHandshake) {
        this.minter = minter;
        this.mintOnHandshake = mintOnHandshake;
        this.hints = hints;
    }

    /** Host hints by client address, for {@link #SniKeyManager(LeafMinter, Cache, boolean)}. */
    static Cache<String, String> hints(TimeSource time) {
        return Caffeine.newBuilder()
                .ticker(time::nanoTime)
                .executor(Runnable::run)
                .expireAfterWrite(HINT_LIFETIME)
                .build();
    }

    void hint(InetSocketAddress clientPeer, String connectHost) {
        hints.put(peerKey(clientPeer), connectHost);
    }

    void clearHint(InetSocketAddress clientPeer) {
        hints.invalidate(peerKey(clientPeer));
    }

    @Override
    public String chooseEngineServerAlias(String keyType, Principal[] issuers, SSLEngine engine) {
        if (engine == null) {
            return null;
        }
        return alias(keyType, engine.getHandshakeSession(), engine.getPeerHost(), engine.getPeerPort());
    }

    @Override
    public String chooseServerAlias(String keyType, Principal[] issuers, Socket socket) {
        if (!(socket instanceof SSLSocket ssl)) {
            return null;
        }
        SocketAddress remote = socket.getRemoteSocketAddress();
        return remote instanceof InetSocketAddress peer
                ? alias(keyType, ssl.getHandshakeSession(), peer.getHostString(), peer.getPort())
                : alias(keyType, ssl.getHandshakeSession(), null, -1);
    }

    @Override
    public X509Certificate[] getCertificateChain(String alias) {
        Alias parsed = Alias.parse(alias);
        if (parsed == null) {
            return null;
        }
        try {
            return mintOnHandshake
                    ? minter.chain(parsed.name(), parsed.type())
                    : minter.cachedChain(parsed.name(), parsed.type());
        } catch (RuntimeException e) {
            LOG.log(
                    System.Logger.Level.WARNING,
                    "cannot mint a leaf for " + parsed.name().name(),
                    e);
            return null;
        }
    }

    @Override
    public PrivateKey getPrivateKey(String alias) {
        Alias parsed = Alias.parse(alias);
        return parsed == null ? null : minter.privateKey(parsed.type());
    }

    @Override
    public String[] getServerAliases(String keyType, Principal[] issuers) {
        return null; // aliases exist per handshake, not up front
    }

    @Override
    public String[] getClientAliases(String keyType, Principal[] issuers) {
        return null;
    }

    @Override
    public String chooseClientAlias(String[] keyType, Principal[] issuers, Socket socket) {
        return null;
    }

    private String alias(String keyTypeName, SSLSession handshake, String peerHost, int peerPort) {
        LeafMinter.KeyType type = keyType(keyTypeName);
        if (type == null || (!mintOnHandshake && type != LeafMinter.KeyType.EC)) {
            return null;
        }
        Optional<ServerName> name = requestedName(handshake, peerHost, peerPort);
        if (name.isEmpty()) {
            return null;
        }
        // Mint now rather than in getCertificateChain, so that a failure ends the handshake with
        // "no certificate" instead of a chain the JDK trips over later.
        if (getCertificateChain(type.name() + SEPARATOR + name.get().name()) == null) {
            if (!mintOnHandshake) {
                LOG.log(
                        System.Logger.Level.DEBUG,
                        "no leaf prepared for {0}; no certificate",
                        name.get().name());
            }
            return null;
        }
        return type.name() + SEPARATOR + name.get().name();
    }

    /**
     * "RSASSA-PSS" is deliberately not served: the JDK accepts a key for a key type only if the key's
     * algorithm equals it (X509Authentication.createServerPossession), and the shared key is plain
     * RSA; the rsa_pss_rsae signature schemes ask for "RSA" and use it.
     */
    private static LeafMinter.KeyType keyType(String keyType) {
        if ("EC".equals(keyType)) {
            return LeafMinter.KeyType.EC;
        }
        if ("RSA".equals(keyType)) {
            return LeafMinter.KeyType.RSA;
        }
        return null;
    }

    private Optional<ServerName> requestedName(SSLSession handshake, String peerHost, int peerPort) {
        if (handshake instanceof ExtendedSSLSession extended) {
            for (SNIServerName requested : extended.getRequestedServerNames()) {
                if (requested instanceof SNIHostName host) {
                    // A client that names a server gets that name or nothing: never the hint instead.
                    Optional<ServerName> name = ServerName.parse(host.getAsciiName());
                    if (name.isEmpty()) {
                        LOG.log(System.Logger.Level.DEBUG, "refusing to mint for SNI name {0}", host.getAsciiName());
                    }
                    return name;
                }
            }
        }
        if (peerHost == null || peerPort < 0) {
            return Optional.empty();
        }
        String hint = hints.getIfPresent(peerKey(peerHost, peerPort));
        return hint == null ? Optional.empty() : ServerName.parse(hint);
    }

    /**
     * By the IP literal when the caller's address has one: an engine sees the accepted socket's
     * address, which carries no host name, while the caller's may (the loopback address is
     * "localhost/127.0.0.1").
     */
    private static String peerKey(InetSocketAddress peer) {
        String host = peer.getAddress() != null ? peer.getAddress().getHostAddress() : peer.getHostString();
        return peerKey(host, peer.getPort());
    }

    /** The same client address written the same way, whether an engine or the caller spelled it. */
    private static String peerKey(String host, int port) {
        String canonical = ServerName.parse(host)
                .filter(ServerName::ip)
                .map(ServerName::name)
                .orElse(host.toLowerCase(Locale.ROOT));
        return canonical + " " + port;
    }

    private record Alias(LeafMinter.KeyType type, ServerName name) {
        static Alias parse(String alias) {
            if (alias == null) {
                return null;
            }
            int separator = alias.indexOf(SEPARATOR);
            if (separator < 0) {
                return null;
            }
            LeafMinter.KeyType type = keyType(alias.substring(0, separator));
            Optional<ServerName> name = ServerName.parse(alias.substring(separator + 1));
            return type == null || name.isEmpty() ? null : new Alias(type, name.get());
        }
    }
}
