package io.sluice.guard;

import com.github.benmanes.caffeine.cache.Cache;
import com.github.benmanes.caffeine.cache.Caffeine;
import io.sluice.guard.AddressClassifier.Classification;
import io.sluice.time.TimeSource;
import java.io.IOException;
import java.net.Inet6Address;
import java.net.InetAddress;
import java.net.URI;
import java.net.UnknownHostException;
import java.security.Security;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Objects;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.Executor;
import java.util.concurrent.RejectedExecutionException;

/**
 * Checks and pins the addresses a request will connect to.
 *
 * <p>Call {@link #admit} for every attempt and every redirect hop, and hold the {@link Pin} until the
 * attempt's response headers have arrived: the check is only as good as the guarantee that the shared
 * {@code HttpClient} connects to what was checked. Two things give that guarantee. The pin makes the
 * JDK resolver return the checked answer for the host (see {@link PinningResolverProvider}), so a name
 * cannot rebind between check and connect. And admission finishes by asking the JVM for the host the
 * way the {@code HttpClient} will, from the JVM's own address cache when it has an entry
 * ({@code networkaddress.cache.ttl}, 30 s by default), and checks that answer too; a stale cache entry,
 * or a process where the provider is not installed, can therefore make admission refuse but never let
 * a forbidden address through.
 *
 * <p>With {@code allowPrivate} nothing is refused, but the answer is still pinned, so the request
 * reaches the address that was looked up. While several requests hold the same host, the JDK has one
 * answer for all of them, kept acceptable to each of them; {@link Pin#addresses()} says
 * which addresses that is for the JVM.
 */
public final class AddressGuard {

    /** A DNS lookup; blocking is fine, it runs on the guard's lookup executor. */
    @FunctionalInterface
    public interface Resolver {
        /** All addresses for {@code host}, never empty; fails with UnknownHostException otherwise. */
        List<InetAddress> lookup(String host) throws UnknownHostException;

        /** The JDK's built-in resolver, bypassing pins and the JVM's address cache. */
        static Resolver system() {
            return SystemResolver.INSTANCE;
        }
    }

    /** How the HttpClient will resolve the host: InetAddress, i.e. the JVM cache, else the pinned answer. */
    private static final Resolver JVM_VIEW = host -> List.of(InetAddress.getAllByName(host));

    private static final String NOT_ALLOWED = "; the upstream does not allow private addresses";

    /** How many names' answers are kept at most. */
    private static final int MAX_ANSWERS = 10_000;

    private final Executor lookupExecutor;
    private final Resolver resolver;
    private final Resolver jvmView;
    /** Answers by lower-cased name, or null when answers are not kept. */
    private final Cache<String, List<InetAddress>> answers;

    /** @param lookupExecutor where blocking DNS lookups run (never an IO thread). */
    public AddressGuard(Executor lookupExecutor) {
        this(lookupExecutor, Resolver.system());
    }

    /**
     * The guard of a running Sluice: the system resolver, and each answer kept for {@link
     * #jvmAnswerTime()} on {@code time}, as the JVM keeps its own.
     */
    public AddressGuard(Executor lookupExecutor, TimeSource time) {
        this(lookupExecutor, Resolver.system(), JVM_VIEW, time, jvmAnswerTime());
    }

    /**
     * A guard that keeps each of {@code resolver}'s answers for {@code answerTime} on {@code time}
     * (zero: looks up every time). A kept answer is checked again on every admission, and the
     * address connected to is always one that was checked, so keeping answers cannot let a name
     * rebind to a forbidden address; it only saves a lookup and, on {@link #admitDirect}, the
     * hand-off to the lookup executor and back.
     */
    public AddressGuard(Executor lookupExecutor, Resolver resolver, TimeSource time, Duration answerTime) {
        this(lookupExecutor, resolver, JVM_VIEW, time, answerTime);
    }

    /**
     * A guard that looks names up with {@code resolver}, e.g. a fake in tests. The answer it gives is
     * pinned like any other, so while the pin is open the JDK (and so the {@code HttpClient}) resolves
     * the name to it too.
     */
    public AddressGuard(Executor lookupExecutor, Resolver resolver) {
        this(lookupExecutor, resolver, JVM_VIEW);
    }

    /** Lets tests stand in for the JVM's view, to show that its answer is checked as well. */
    AddressGuard(Executor lookupExecutor, Resolver resolver, Resolver jvmView) {
        this(lookupExecutor, resolver, jvmView, null, Duration.ZERO);
    }

    AddressGuard(Executor lookupExecutor, Resolver resolver, Resolver jvmView, TimeSource time, Duration answerTime) {
        this.lookupExecutor = Objects.requireNonNull(lookupExecutor, "lookupExecutor");
        this.resolver = Objects.requireNonNull(resolver, "resolver");
        this.jvmView = Objects.requireNonNull(jvmView, "jvmView");
        Objects.requireNonNull(answerTime, "answerTime");
        if (answerTime.isNegative()) {
            throw new IllegalArgumentException("answer time cannot be negative: " + answerTime);
        }
        this.answers = answerTime.isZero()
                ? null
                : Caffeine.newBuilder()
                        .ticker(Objects.requireNonNull(time, "time")::nanoTime)
                        .expireAfterWrite(answerTime)
                        .maximumSize(MAX_ANSWERS)
                        .build();
    }

    /**
     * How long the JVM keeps a successful lookup ({@code networkaddress.cache.ttl}: 30 s unless set;
     * "forever" is taken as 30 s too, since Sluice runs for weeks and names move).
     */
    static Duration jvmAnswerTime() {
        String ttl = Security.getProperty("networkaddress.cache.ttl");
        try {
            long seconds = ttl == null ? 30 : Long.parseLong(ttl.trim());
            return Duration.ofSeconds(seconds < 0 ? 30 : seconds);
        } catch (NumberFormatException e) {
            return Duration.ofSeconds(30);
        }
    }

    /**
     * Resolves uri's host (or takes the IP literal), refuses if any resolved address is forbidden and
     * allowPrivate is false, and pins the checked answer so that the JDK resolver returns exactly these
     * addresses for that host while the Pin is open. Completes exceptionally with
     * {@link BlockedAddressException} (unsupported scheme, missing host, ambiguous literal, or an address
     * class refused; the message names host, address and class) or {@link UnknownHostException} (DNS
     * failure, including names under {@code .invalid}, which are never looked up).
     *
     * <p>If the caller gives up on the returned future (cancels it or completes it on a timeout) before
     * the lookup finishes, the pin taken for it is released at once.
     */
    public CompletableFuture<Pin> admit(URI uri, boolean allowPrivate) {
        Objects.requireNonNull(uri, "uri");
        String host;
        try {
            host = hostOf(uri);
        } catch (BlockedAddressException e) {
            return CompletableFuture.failedFuture(e);
        }
        InetAddress literal = literal(host);
        if (literal != null) {
            // An IP literal needs no lookup, so nothing here can block: admit it on the caller's thread
            // rather than paying two thread hand-offs per request (the lookup pool and back).
            try {
                return CompletableFuture.completedFuture(admitNow(host, literal, allowPrivate));
            } catch (Throwable e) {
                return CompletableFuture.failedFuture(e);
            }
        }
        CompletableFuture<Pin> result = new CompletableFuture<>();
        try {
            lookupExecutor.execute(() -> {
                if (result.isDone()) {
                    return;
                }
                try {
                    Pin pin = admitNow(host, allowPrivate);
                    if (!result.complete(pin)) {
                        pin.close();
                    }
                } catch (Throwable e) {
                    // Whatever went wrong, the caller must not be left waiting on a future nobody completes.
                    result.completeExceptionally(e);
                }
            });
        } catch (RejectedExecutionException e) {
            result.completeExceptionally(e);
        }
        return result;
    }

    /**
     * For a transport that connects to the address itself (Undertow's client, not the {@code
     * HttpClient}): the checked address to connect to, and no pin, since nothing else resolves the
     * name. A literal, or a name whose answer is kept, is admitted on the caller's thread; otherwise
     * the lookup runs on the lookup executor. Fails as {@link #admit} does.
     */
    public CompletableFuture<InetAddress> admitDirect(URI uri, boolean allowPrivate) {
        Objects.requireNonNull(uri, "uri");
        try {
            String host = hostOf(uri);
            InetAddress literal = literal(host);
            if (literal != null) {
                refuseForbidden(host, true, List.of(literal), allowPrivate, " resolves to ");
                return CompletableFuture.completedFuture(literal);
            }
            List<InetAddress> kept = answers == null ? null : answers.getIfPresent(key(host));
            if (kept != null) {
                refuseForbidden(host, false, kept, allowPrivate, " resolves to ");
                return CompletableFuture.completedFuture(kept.get(0));
            }
            CompletableFuture<InetAddress> result = new CompletableFuture<>();
            lookupExecutor.execute(() -> {
                if (result.isDone()) return;
                try {
                    HostLiteral.parse(host); // refuses an ambiguous literal (literal() gave null for it)
                    List<InetAddress> answer = lookUp(host);
                    refuseForbidden(host, false, answer, allowPrivate, " resolves to ");
                    result.complete(answer.get(0));
                } catch (Throwable e) {
                    result.completeExceptionally(e);
                }
            });
            return result;
        } catch (BlockedAddressException e) {
            return CompletableFuture.failedFuture(e);
        } catch (RejectedExecutionException e) {
            return CompletableFuture.failedFuture(e);
        }
    }

    /**
     * For a request whose host is an IP literal: why the guard refuses it, or null if it does not (or
     * the host is a name, which only a lookup can decide). Decided at once, without a lookup or a pin,
     * and as {@link #admit} decides: a blocked address class, an ambiguous literal ({@link
     * BlockedAddressException}) or an unreadable IPv6 literal ({@link UnknownHostException}) is refused.
     */
    public IOException refusal(URI uri, boolean allowPrivate) {
        Objects.requireNonNull(uri, "uri");
        try {
            String host = hostOf(uri);
            InetAddress literal = HostLiteral.parse(host);
            if (literal != null) refuseForbidden(host, true, List.of(literal), allowPrivate, " resolves to ");
            return null;
        } catch (IOException e) {
            return e;
        }
    }

    /** Classification, usable on its own (tests, admin). */
    public static AddressClass classify(InetAddress address) {
        return AddressClassifier.classify(address).addressClass();
    }

    @Override
    public String toString() {
        return "AddressGuard[resolver=" + resolver + "]";
    }

    private static String hostOf(URI uri) throws BlockedAddressException {
        String scheme = uri.getScheme();
        if (scheme == null) {
            throw new BlockedAddressException("missing scheme");
        }
        String lower = scheme.toLowerCase(Locale.ROOT);
        if (!lower.equals("http") && !lower.equals("https")) {
            throw new BlockedAddressException("unsupported scheme \"" + scheme + "\"");
        }
        // java.net.URI leaves the host null for an authority it cannot parse as one, e.g. "0x7f.1" or
        // "exa_mple.com", and the HttpClient refuses such URIs too.
        String host = uri.getHost();
        if (host == null || host.isEmpty()) {
            throw new BlockedAddressException("missing host");
        }
        return host;
    }

    /** The address an IP literal host stands for, or null for a name (or an ambiguous literal). */
    private static InetAddress literal(String host) {
        try {
            return HostLiteral.parse(host);
        } catch (IOException e) {
            return null; // an ambiguous literal: admitNow refuses it, on the lookup executor as before
        }
    }

    private Pin admitNow(String host, boolean allowPrivate) throws IOException {
        return admitNow(host, HostLiteral.parse(host), allowPrivate);
    }

    /** @param literal what {@code host} stands for if it is an IP literal, else null */
    private Pin admitNow(String host, InetAddress literal, boolean allowPrivate) throws IOException {
        List<InetAddress> answer = literal != null ? List.of(literal) : lookUp(host);
        refuseForbidden(host, literal != null, answer, allowPrivate, " resolves to ");
        PinTable.GLOBAL.hold(host, answer, allowPrivate);
        try {
            List<InetAddress> connectable = jvmView.lookup(host);
            if (connectable.isEmpty()) {
                throw new UnknownHostException(host);
            }
            refuseForbidden(host, literal != null, connectable, allowPrivate, " resolves, as the JVM sees it, to ");
            return new HostPin(PinTable.GLOBAL, host, allowPrivate, connectable);
        } catch (IOException | RuntimeException e) {
            PinTable.GLOBAL.release(host, allowPrivate);
            throw e;
        }
    }

    private static String key(String host) {
        String name = host.toLowerCase(Locale.ROOT);
        return name.endsWith(".") ? name.substring(0, name.length() - 1) : name;
    }

    private List<InetAddress> lookUp(String host) throws UnknownHostException {
        String name = key(host);
        if (name.equals("invalid") || name.endsWith(".invalid")) {
            // RFC 6761 §6.4: resolution APIs should answer "invalid" names negatively without asking DNS.
            throw new UnknownHostException(host + ": names under .invalid never resolve (RFC 6761)");
        }
        List<InetAddress> kept = answers == null ? null : answers.getIfPresent(name);
        if (kept != null) return kept;
        List<InetAddress> answer = resolver.lookup(host);
        if (answer == null || answer.isEmpty()) {
            throw new UnknownHostException(host);
        }
        List<InetAddress> named = new ArrayList<>(answer.size());
        for (InetAddress address : answer) {
            named.add(named(host, address));
        }
        List<InetAddress> checkedLater = List.copyOf(named);
        // Failures are not kept: a name that did not resolve is asked again next time.
        if (answers != null) answers.put(name, checkedLater);
        return checkedLater;
    }

    /**
     * The address carrying the name it was looked up under, as the built-in resolver's answers do, so
     * that nothing downstream of the pin reverse-resolves an address (a network call) to name it.
     */
    private static InetAddress named(String host, InetAddress address) throws UnknownHostException {
        if (address instanceof Inet6Address v6 && v6.getScopeId() != 0) {
            return Inet6Address.getByAddress(host, v6.getAddress(), v6.getScopeId());
        }
        return InetAddress.getByAddress(host, address.getAddress());
    }

    private static void refuseForbidden(
            String host, boolean literal, List<InetAddress> addresses, boolean allowPrivate, String resolvesTo)
            throws BlockedAddressException {
        if (allowPrivate) {
            return;
        }
        for (InetAddress address : addresses) {
            Classification classification = AddressClassifier.classify(address);
            if (classification.addressClass().allowedWithoutOptIn()) {
                continue;
            }
            String text = AddressText.of(address);
            String subject;
            if (literal && unbracketed(host).equalsIgnoreCase(text)) {
                subject = text + " is ";
            } else if (literal) {
                subject = "\"" + host + "\" is " + text + ", which is ";
            } else {
                subject = "\"" + host + "\"" + resolvesTo + text + ", which is ";
            }
            throw new BlockedAddressException(
                    subject + classification.description() + NOT_ALLOWED, host, address, classification.addressClass());
        }
    }

    private static String unbracketed(String host) {
        return host.startsWith("[") && host.endsWith("]") ? host.substring(1, host.length() - 1) : host;
    }
}
