package io.sluice.send;

import io.sluice.config.Pem;
import io.sluice.config.Policy;
import io.sluice.config.TlsConfig;
import io.sluice.config.UpstreamTls;
import io.sluice.fetch.ErrorType;
import io.sluice.fetch.FetchException;
import io.sluice.tls.TlsEngines;
import java.net.http.HttpClient;
import java.nio.file.Path;
import java.security.GeneralSecurityException;
import java.security.KeyStore;
import java.security.PrivateKey;
import java.security.cert.X509Certificate;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collection;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.Executor;
import java.util.function.Function;
import javax.net.ssl.KeyManager;
import javax.net.ssl.KeyManagerFactory;
import javax.net.ssl.SSLContext;
import javax.net.ssl.SSLParameters;
import javax.net.ssl.TrustManagerFactory;
import javax.net.ssl.X509TrustManager;

/**
 * One {@link HttpClient} per distinct TLS profile (a policy's {@link UpstreamTls}): upstreams that
 * trust the same roots, present the same client certificate and accept the same versions share a
 * client and its connection pool. The profiles known when they are made ({@link #create}) are built
 * then (Sluice makes them just after its ports listen, {@link #when}; their files were read and
 * checked with the config, so a bad one still fails the start); one first seen later (an upstream
 * added through the admin API) is built on first use.
 *
 * <p>Trust is always the JDK's defaults plus the global {@code tls.ca_file} plus the profile's
 * own {@code ca_file}, and the JDK client checks the host name: no setting turns verification off.
 */
public final class UpstreamClients implements AutoCloseable {
    private static final CompletableFuture<?> DONE = CompletableFuture.completedFuture(null);

    private final Function<UpstreamTls, SSLContext> buildContext;
    private final ConcurrentHashMap<UpstreamTls, SSLContext> contexts = new ConcurrentHashMap<>();
    /** Null when the HTTP/1.1 transport shares {@link #contexts} (the JDK's provider). */
    private final Function<UpstreamTls, SSLContext> buildHttp1Context;

    private final ConcurrentHashMap<UpstreamTls, SSLContext> http1Contexts = new ConcurrentHashMap<>();
    private final java.util.function.BiFunction<UpstreamClients, UpstreamTls, HttpClient> build;
    private final ConcurrentHashMap<UpstreamTls, HttpClient> clients = new ConcurrentHashMap<>();
    /** Done once the contexts can be asked for (see {@link #when}). */
    private final CompletableFuture<?> ready;
    /** Runs when {@link #ready} is asked for: what makes them, for {@link #when}. */
    private final Runnable needed;

    private UpstreamClients(
            Function<UpstreamTls, SSLContext> buildContext,
            Function<UpstreamTls, SSLContext> buildHttp1Context,
            java.util.function.BiFunction<UpstreamClients, UpstreamTls, HttpClient> build,
            CompletableFuture<?> ready,
            Runnable needed) {
        this.buildContext = buildContext;
        this.buildHttp1Context = buildHttp1Context;
        this.build = build;
        this.ready = ready;
        this.needed = needed;
    }

    /**
     * Clients with the settings every upstream call shares ({@code executor} for callbacks,
     * {@code connectTimeout}, no proxy, no redirects, HTTP/2 by ALPN), one per profile of
     * {@code policies}. Each profile's TLS contexts are built now, so a file that cannot be read
     * fails the start; its {@code java.net.http} client (a selector thread and some hundred
     * classes, used only to send again a request whose HTTP/1.1 response ran to the connection's
     * close) on first use. The contexts of Undertow's HTTP/1.1 and HTTP/2 transports come from
     * {@code engines}; {@code java.net.http}'s are always the JDK's.
     */
    public static UpstreamClients create(
            TlsConfig global,
            TlsEngines engines,
            Executor executor,
            Duration connectTimeout,
            Collection<Policy> policies) {
        List<X509Certificate> globalRoots =
                global.caFile().map(Pem::certificates).orElse(List.of());
        Function<UpstreamTls, SSLContext> http1 = engines.effective() == io.sluice.config.TlsProvider.JDK
                ? null
                : tls -> sslContext(globalRoots, tls, engines);
        UpstreamClients clients = new UpstreamClients(
                tls -> sslContext(globalRoots, tls, null),
                http1,
                (self, tls) -> {
                    SSLContext context = self.sslContext(tls);
                    SSLParameters parameters = context.getDefaultSSLParameters();
                    parameters.setProtocols(tls.protocols().toArray(String[]::new));
                    return HttpClient.newBuilder()
                            .executor(executor)
                            .connectTimeout(connectTimeout)
                            .followRedirects(HttpClient.Redirect.NEVER)
                            .proxy(HttpClient.Builder.NO_PROXY)
                            .version(HttpClient.Version.HTTP_2)
                            .sslContext(context)
                            .sslParameters(parameters)
                            .build();
                },
                DONE,
                () -> {});
        try {
            policies.forEach(policy -> clients.sslContext(policy.tls()));
            policies.forEach(policy -> clients.http1Context(policy.tls()));
        } catch (RuntimeException e) {
            clients.close();
            throw e;
        }
        return clients;
    }

    /** {@code client} for every policy, whatever its TLS settings: for tests that bring their own client. */
    public static UpstreamClients of(HttpClient client) {
        return new UpstreamClients(tls -> client.sslContext(), null, (self, tls) -> client, DONE, () -> {});
    }

    /**
     * The clients {@code made} will be, once {@code make} has been run (Sluice makes them on another
     * thread when its first {@code https://} request needs them, see docs/performance.md, "Start time
     * and footprint"). Until {@link #ready} is done, its methods wait for them: a caller asks for
     * {@link #ready} first, which runs {@code make}, and waits for it without blocking, as {@link
     * SendStage} does before an {@code https://} request. A failure to make them fails every TLS
     * request as {@code tls}.
     */
    public static UpstreamClients when(CompletableFuture<UpstreamClients> made, Runnable make) {
        // Every context and client is asked of the real clients and kept here too, so close() here
        // closes what was made through this one.
        java.util.function.Supplier<UpstreamClients> real = () -> {
            // A caller that did not ask for ready() first still gets them, after a wait, not never.
            make.run();
            try {
                return made.join();
            } catch (java.util.concurrent.CompletionException e) {
                Throwable cause = e.getCause() == null ? e : e.getCause();
                throw new FetchException(ErrorType.TLS, "TLS set-up failed: " + cause.getMessage());
            }
        };
        return new UpstreamClients(
                tls -> real.get().sslContext(tls),
                tls -> real.get().http1Context(tls),
                (self, tls) -> real.get().clientFor(tls),
                made,
                make);
    }

    /**
     * Done once every method can answer without waiting: at once for clients made by {@link #create},
     * when the clients are made for {@link #when} (and asking starts making them); failed when they
     * cannot be.
     */
    public CompletableFuture<?> ready() {
        needed.run();
        return ready;
    }

    /**
     * The TLS context of {@code tls}'s profile (trust, client certificate), shared by the profile's
     * {@code java.net.http} client and Undertow's transports; fails as {@code tls} when its files
     * cannot be read now.
     */
    public SSLContext sslContext(UpstreamTls tls) {
        UpstreamTls profile = tls.withoutHttp2();
        SSLContext context = contexts.get(profile);
        if (context != null) return context;
        try {
            return contexts.computeIfAbsent(profile, buildContext);
        } catch (IllegalArgumentException | IllegalStateException e) {
            throw new FetchException(ErrorType.TLS, "TLS set-up failed: " + e.getMessage());
        }
    }

    /**
     * The context of {@code tls}'s profile for Undertow's transports (HTTP/1.1 and HTTP/2): {@link #sslContext} with the
     * JDK's provider, else the same trust and client certificate over {@code tls.provider}'s.
     */
    public SSLContext http1Context(UpstreamTls tls) {
        if (buildHttp1Context == null) return sslContext(tls);
        UpstreamTls profile = tls.withoutHttp2();
        SSLContext context = http1Contexts.get(profile);
        if (context != null) return context;
        try {
            return http1Contexts.computeIfAbsent(profile, buildHttp1Context);
        } catch (IllegalArgumentException | IllegalStateException e) {
            throw new FetchException(ErrorType.TLS, "TLS set-up failed: " + e.getMessage());
        }
    }

    /** The client for {@code policy}'s TLS profile; fails as {@code tls} when its files cannot be read now. */
    public HttpClient clientFor(Policy policy) {
        return clientFor(policy.tls());
    }

    private HttpClient clientFor(UpstreamTls profile) {
        HttpClient client = clients.get(profile);
        if (client != null) return client;
        try {
            return clients.computeIfAbsent(profile, tls -> build.apply(this, tls));
        } catch (IllegalArgumentException | IllegalStateException e) {
            throw new FetchException(ErrorType.TLS, "TLS set-up failed: " + e.getMessage());
        }
    }

    /** How many clients exist (one per profile seen). */
    int size() {
        return clients.size();
    }

    @Override
    public void close() {
        clients.values().stream().distinct().forEach(HttpClient::shutdownNow);
    }

    /** Over the JDK's provider when {@code engines} is null. */
    private static SSLContext sslContext(List<X509Certificate> globalRoots, UpstreamTls tls, TlsEngines engines) {
        List<X509Certificate> roots = new ArrayList<>(globalRoots);
        tls.caFile().map(Pem::certificates).ifPresent(roots::addAll);
        try {
            if (engines == null && roots.isEmpty() && !tls.hasClientCertificate()) return SSLContext.getDefault();
            // The JDK's trust manager either way: the same roots, and the same typed reasons
            // (unknown issuer, expired, host name) whichever engine asks it.
            SSLContext context = engines == null ? SSLContext.getInstance("TLS") : engines.newContext();
            X509TrustManager trust = trust(roots);
            if (engines != null && trust instanceof javax.net.ssl.X509ExtendedTrustManager extended) {
                trust = new GenericAuthType(extended);
            }
            context.init(keyManagers(tls).orElse(null), new javax.net.ssl.TrustManager[] {trust}, null);
            return context;
        } catch (GeneralSecurityException | java.io.IOException e) {
            throw new IllegalStateException("cannot build the TLS context: " + e.getMessage(), e);
        }
    }

    /** The JDK's default roots (its trust store, or {@code javax.net.ssl.trustStore}) and {@code extra}. */
    private static X509TrustManager trust(List<X509Certificate> extra)
            throws GeneralSecurityException, java.io.IOException {
        KeyStore store = KeyStore.getInstance(KeyStore.getDefaultType());
        store.load(null, null);
        int n = 0;
        for (X509Certificate root : defaultTrustManager().getAcceptedIssuers()) {
            store.setCertificateEntry("jdk-" + n++, root);
        }
        for (X509Certificate root : extra) {
            store.setCertificateEntry("extra-" + n++, root);
        }
        TrustManagerFactory factory = TrustManagerFactory.getInstance(TrustManagerFactory.getDefaultAlgorithm());
        factory.init(store);
        return firstX509(factory.getTrustManagers());
    }

    private static X509TrustManager defaultTrustManager() throws GeneralSecurityException {
        TrustManagerFactory factory = TrustManagerFactory.getInstance(TrustManagerFactory.getDefaultAlgorithm());
        factory.init((KeyStore) null);
        return firstX509(factory.getTrustManagers());
    }

    private static X509TrustManager firstX509(javax.net.ssl.TrustManager[] managers) {
        for (var manager : managers) {
            if (manager instanceof X509TrustManager x509) return x509;
        }
        throw new IllegalStateException("no X.509 trust manager");
    }

    private static Optional<KeyManager[]> keyManagers(UpstreamTls tls)
            throws GeneralSecurityException, java.io.IOException {
        if (!tls.hasClientCertificate()) return Optional.empty();
        Path certFile = tls.clientCert().orElseThrow();
        Path keyFile = tls.clientKey().orElseThrow();
        List<X509Certificate> chain = Pem.certificates(certFile);
        PrivateKey key = Pem.privateKey(keyFile);
        Pem.checkPair(chain.get(0), key, keyFile);
        // An in-memory store only: the password guards nothing on disk.
        char[] password = "in-memory".toCharArray();
        KeyStore store = KeyStore.getInstance("PKCS12");
        store.load(null, null);
        store.setKeyEntry("client", key, password, chain.toArray(X509Certificate[]::new));
        KeyManagerFactory factory = KeyManagerFactory.getInstance(KeyManagerFactory.getDefaultAlgorithm());
        factory.init(store, password);
        return Optional.of(factory.getKeyManagers());
    }
}
