package io.sluice.tls;

import io.sluice.config.TlsProvider;
import java.security.NoSuchAlgorithmException;
import java.security.Provider;
import java.util.Objects;
import java.util.function.Supplier;
import javax.net.ssl.SSLContext;

/**
 * Where the {@link SSLContext}s of upstream HTTP/1.1 connections and of interception come from
 * ({@code tls.provider}). Conscrypt is used as a provider instance, never installed: {@code
 * java.net.http} and everything else in the process keep the JDK's TLS.
 *
 * <p>Conscrypt's engine runs the whole handshake inside {@code wrap}/{@code unwrap} and never hands
 * out delegated tasks, so whatever a key or trust manager does runs on the thread that called the
 * engine: the IO thread. {@link #delegatesTasks()} tells callers to do slow work (minting) first.
 */
public final class TlsEngines {
    private static final System.Logger LOG = System.getLogger(TlsEngines.class.getName());

    private final TlsProvider effective;
    private final Provider provider; // null: the JDK's default

    private TlsEngines(TlsProvider effective, Provider provider) {
        this.effective = effective;
        this.provider = provider;
    }

    /** The JDK's own TLS. */
    public static TlsEngines jdk() {
        return new TlsEngines(TlsProvider.JDK, null);
    }

    /**
     * The engines {@code choice} names; Conscrypt when its native library loads here, else the
     * JDK's: with one WARNING saying why for {@code conscrypt}, at INFO for {@code auto}.
     */
    public static TlsEngines select(TlsProvider choice) {
        return select(choice, TlsEngines::conscrypt);
    }

    /** {@code conscrypt} makes the provider; it may fail as a missing native library does. */
    static TlsEngines select(TlsProvider choice, Supplier<Provider> conscrypt) {
        Objects.requireNonNull(choice, "choice");
        if (choice == TlsProvider.JDK) return jdk();
        try {
            return new TlsEngines(TlsProvider.CONSCRYPT, conscrypt.get());
        } catch (LinkageError | RuntimeException e) {
            LOG.log(
                    choice == TlsProvider.AUTO ? System.Logger.Level.INFO : System.Logger.Level.WARNING,
                    "tls.provider: " + choice.wireName()
                            + ": Conscrypt is not available on this machine ({0}); using the JDK''s TLS",
                    reason(e));
            return jdk();
        }
    }

    private static Provider conscrypt() {
        // checkAvailability throws the native library's load failure instead of a bare false.
        org.conscrypt.Conscrypt.checkAvailability();
        return org.conscrypt.Conscrypt.newProvider();
    }

    private static String reason(Throwable e) {
        Throwable root = e;
        while (root.getCause() != null && root.getCause() != root) root = root.getCause();
        String message = root.getMessage();
        return root.getClass().getSimpleName() + (message == null ? "" : ": " + message);
    }

    /** A fresh, uninitialised TLS context of this provider. */
    public SSLContext newContext() throws NoSuchAlgorithmException {
        return provider == null ? SSLContext.getInstance("TLS") : SSLContext.getInstance("TLS", provider);
    }

    /** The provider in use after any fallback. */
    public TlsProvider effective() {
        return effective;
    }

    /** Whether the engines hand handshake work out as delegated tasks (JSSE) or run it inline (Conscrypt). */
    public boolean delegatesTasks() {
        return effective == TlsProvider.JDK;
    }

    @Override
    public String toString() {
        return "TlsEngines[" + effective.wireName() + "]";
    }
}
