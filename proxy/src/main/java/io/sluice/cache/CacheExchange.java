package io.sluice.cache;

import io.sluice.cache.Flights.Flight;
import io.sluice.cache.Flights.Resolution;
import io.sluice.cache.Keys.ResourceKey;
import io.sluice.config.CachePolicy;
import io.sluice.fetch.Call;
import io.sluice.fetch.ErrorType;
import io.sluice.fetch.Failures;
import io.sluice.fetch.FetchException;
import io.sluice.fetch.FetchRequest;
import io.sluice.fetch.FetchResponse;
import io.sluice.fetch.Fields;
import io.sluice.fetch.ResponseBody;
import io.sluice.fetch.Stage;
import io.sluice.http.HttpDates;
import io.sluice.time.TimeSource;
import java.net.URI;
import java.nio.ByteBuffer;
import java.time.Instant;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.Set;
import java.util.TreeMap;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.Flow;
import java.util.function.Function;

/** One request's way through the cache; see {@link CacheStage}. */
final class CacheExchange {
    private static final Set<String> SAFE_METHODS = Set.of("GET", "HEAD", "OPTIONS", "TRACE");
    /** Upstream failures that say nothing about the request that met them, so waiting requests share them. */
    private static final Set<ErrorType> SHARED_FAILURES =
            Set.of(ErrorType.CONNECT, ErrorType.DNS, ErrorType.TLS, ErrorType.UPSTREAM_RESET, ErrorType.BLOCKED);
    /** RFC 5861 §4: the answers that count as an error for {@code stale-if-error}. */
    private static final Set<Integer> ERROR_STATUSES = Set.of(500, 502, 503, 504);
    /**
     * Preconditions and ranges the cache leaves to the origin, so they pass through. A client's
     * {@code If-None-Match} and {@code If-Modified-Since} are the cache's to answer (RFC 9111 §4.3.2).
     */
    private static final List<String> ORIGIN_CONDITIONAL_FIELDS =
            List.of("if-match", "if-unmodified-since", "if-range", "range");
    /** RFC 9110 §15.4.5: what a 304 carries of the 200 it stands for (plus Age and Cache-Status). */
    private static final Set<String> NOT_MODIFIED_FIELDS =
            Set.of("cache-control", "content-location", "date", "etag", "expires", "vary", "age", "cache-status");

    private final CacheStage cache;
    private final Store store;
    private final TimeSource time;
    private final Stage.Chain chain;
    private final Call call;
    private final FetchRequest request;
    /** Up to when this request's time in the cache has been added to its trace. */
    private long accountedNanos;

    private CachePolicy policy;
    private ResourceKey key;
    private String credential;
    private Ask ask;
    private Counters counters;
    private long arrivalSequence;
    /** {@link Store#stamp} when the request arrived. */
    private long stamp;
    /** Once this request has waited on another's flight: the {@code fwd} reason it had ("miss", "stale"). */
    private String collapsedAs;
    /** The flight it waited on could not share its response. */
    private boolean collapseFailed;

    CacheExchange(CacheStage cache, Stage.Chain chain) {
        this.cache = cache;
        this.store = cache.store;
        this.time = cache.time;
        this.chain = chain;
        this.call = chain.call();
        this.request = chain.request();
        this.accountedNanos = time.nanoTime();
    }

    CompletableFuture<FetchResponse> run() {
        String method = request.method().toUpperCase(Locale.ROOT);
        policy = chain.upstream().policy().cache();
        counters = store.counters(chain.upstream().name());
        // An unsafe method invalidates what is stored even with the cache off now: it may be on again.
        if (!SAFE_METHODS.contains(method)) {
            key = keyOf(request.uri());
            return invalidating();
        }
        // A safe request the cache will not look at needs no key, nor the URL's string.
        if (!policy.enabled()) return bypass();
        key = keyOf(request.uri());
        ask = Ask.of(request);
        // A GET with a body has no defined meaning (RFC 9110 §9.3.1); it is not for the cache to guess.
        boolean hasBody = request.body().length() != 0;
        if (!method.equals("GET") || ask.noStore() || leftToOrigin() || hasBody) return bypass();
        credential = Keys.credential(request.headers());
        arrivalSequence = store.currentSequence();
        if (validatesItself()) return answerConditional();
        stamp = store.stamp(key);
        cache.sightings.record(key);
        return lookup(true);
    }

    /**
     * RFC 9111 §4.3.2: a client's own {@code If-None-Match} / {@code If-Modified-Since} is answered
     * from a stored response the request could use anyway: {@code 304} when its validators match
     * (RFC 9110 §13.2.2), else the stored response itself. Anything else goes to the origin as it
     * came, and what comes back is not stored: the answer to a client's condition is not the
     * resource's.
     */
    private CompletableFuture<FetchResponse> answerConditional() {
        long now = time.nanoTime();
        Entry entry = store.select(key, credential, request.headers(), now);
        if (entry == null || !usable(entry, now)) return ask.onlyIfCached() ? done(onlyIfCachedMiss(now)) : bypass();
        FetchResponse stored = fromStore(entry, now);
        // §13.2.1: preconditions are evaluated only where the response would otherwise be 2xx.
        if (entry.status / 100 != 2 || !notModified(entry, now)) return done(stored);
        stored.body().discard();
        Map<String, List<String>> fields = new TreeMap<>(String.CASE_INSENSITIVE_ORDER);
        stored.headers().forEach((name, values) -> {
            if (NOT_MODIFIED_FIELDS.contains(name.toLowerCase(Locale.ROOT))) fields.put(name, values);
        });
        return done(new FetchResponse(304, Fields.of(fields), ResponseBody.empty(), stored.trace()));
    }

    /** RFC 9110 §13.2.2 steps 3 and 4, against the stored response. */
    private boolean notModified(Entry entry, long now) {
        List<String> noneMatch = request.headers().allValues("if-none-match");
        if (!noneMatch.isEmpty()) {
            // §13.1.2: weak comparison; "*" matches any current representation, which a stored one is.
            Optional<String> etag = entry.etag().map(Entry::opaqueTag);
            for (String line : noneMatch) {
                for (String tag : line.split(",")) {
                    String t = tag.trim();
                    if (t.equals("*")) return true;
                    if (etag.isPresent() && etag.get().equals(Entry.opaqueTag(t))) return true;
                }
            }
            return false;
        }
        // §13.1.3: an invalid date, or a list of them, is ignored: the condition is false.
        List<String> since = request.headers().allValues("if-modified-since");
        if (since.size() != 1) return false;
        Instant today = time.clock().instant(); // the century of an RFC 850 date (RFC 9110 §5.6.7)
        Optional<Instant> date = HttpDates.parse(since.get(0), today);
        if (date.isEmpty()) return false;
        // RFC 9111 §4.3.2: Last-Modified, else Date, else when the response was received.
        Instant modified = entry.lastModified()
                .or(() -> entry.fields.first("date"))
                .flatMap(v -> HttpDates.parse(v, today))
                .orElseGet(() -> today.minusNanos(Math.max(0, now - entry.responseNanos)));
        return !modified.isAfter(date.get());
    }

    private ResourceKey keyOf(URI uri) {
        return new ResourceKey(chain.upstream().name(), Keys.url(uri));
    }

    // ---- lookup ----

    private CompletableFuture<FetchResponse> lookup(boolean coalesce) {
        long now = time.nanoTime();
        Entry entry = store.select(key, credential, request.headers(), now);
        if (entry != null && usable(entry, now)) return done(fromStore(entry, now));
        if (ask.onlyIfCached()) return done(onlyIfCachedMiss(now));
        if (entry != null && collapsedAs == null && servableWhileRevalidating(entry, now)) {
            revalidateInBackground(entry);
            return done(staleWhileRevalidate(entry, now));
        }
        String fwd = entry == null ? "miss" : entry.isFresh(now) ? "request" : "stale";
        spentInCache(now);
        if (!coalesce) return forward(entry, null, fwd);
        FlightKey flightKey = flightKey();
        while (true) {
            Flight mine = cache.flights.lead(flightKey);
            if (mine != null) {
                // A leader whose client leaves or times out must not keep the others waiting.
                call.onCancel(reason -> mine.resolve(Resolution.LOOK_AGAIN));
                return forward(entry, mine, fwd);
            }
            Flight theirs = cache.flights.current(flightKey);
            if (theirs != null) return follow(theirs, fwd);
        }
    }

    /** RFC 9111 §4.2 and the request directives of §5.2.1: may this entry answer without forwarding? */
    private boolean usable(Entry e, long now) {
        // Validated by the origin after this request arrived: that satisfies no-cache, and it is
        // what a request collapsed into another's is waiting for, even if it is not fresh.
        if (e.sequence > arrivalSequence && (ask.noCache() || collapsedAs != null)) return true;
        if (ask.noCache()) return false;
        if (ask.maxAge() >= 0 && e.ageNanos(now) > ask.maxAge()) return false;
        long ttl = e.ttlNanos(now);
        if (ttl > Math.max(0, ask.minFresh())) return true;
        // §4.2.4: the client may accept staleness (max-stale) unless the origin forbade it.
        return ttl <= 0 && !e.mustRevalidate && ask.maxStale() >= 0 && -ttl <= ask.maxStale();
    }

    private boolean servableWhileRevalidating(Entry e, long now) {
        if (ask.noCache() || e.mustRevalidate || e.staleWhileRevalidateNanos <= 0) return false;
        if (ask.maxAge() >= 0 && e.ageNanos(now) > ask.maxAge()) return false;
        long ttl = e.ttlNanos(now);
        return ttl <= 0 && -ttl <= e.staleWhileRevalidateNanos;
    }

    private boolean servableOnError(Entry e, long now) {
        if (ask.noCache() || e.mustRevalidate || e.staleIfErrorNanos <= 0) return false;
        long ttl = e.ttlNanos(now);
        return ttl > 0 || -ttl <= e.staleIfErrorNanos;
    }

    private FlightKey flightKey() {
        return new FlightKey(key, credential, store.varyFingerprint(key, request.headers()));
    }

    private record FlightKey(ResourceKey key, String credential, String vary) {}

    // ---- coalescing ----

    private CompletableFuture<FetchResponse> follow(Flight flight, String fwd) {
        flight.follow();
        Function<Resolution, CompletableFuture<FetchResponse>> next = how -> {
            collapsedAs = fwd;
            return switch (how) {
                case Resolution.LookAgain l -> lookup(true);
                case Resolution.GoUpstream g -> {
                    collapseFailed = true;
                    yield lookup(false);
                }
                case Resolution.Fail f -> CompletableFuture.failedFuture(f.error());
                // A client that asked for validation does not take the stale answer; it tries itself.
                case Resolution.ServeStale s ->
                    ask.noCache() ? lookup(true) : done(staleOnError(s.entry(), time.nanoTime(), s.forwardStatus()));
            };
        };
        return flight.resolution().thenComposeAsync(next, cache.executor);
    }

    private static void resolve(Flight flight, Resolution how) {
        if (flight != null) flight.resolve(how);
    }

    // ---- forwarding ----

    private CompletableFuture<FetchResponse> forward(Entry entry, Flight flight, String fwd) {
        long requestNanos = time.nanoTime();
        FetchRequest out = entry != null && entry.hasValidators() ? conditional(entry) : request;
        CompletableFuture<FetchResponse> sent;
        try {
            sent = chain.proceed(out);
        } catch (RuntimeException e) {
            sent = CompletableFuture.failedFuture(e);
        }
        return sent.handle((response, error) -> {
                    try {
                        return error != null
                                ? failed(entry, flight, error)
                                : answered(entry, flight, response, requestNanos, fwd);
                    } catch (RuntimeException bug) {
                        // Whatever went wrong, the requests waiting on this one must not wait forever.
                        resolve(flight, Resolution.LOOK_AGAIN);
                        if (response != null) response.body().discard();
                        throw bug;
                    }
                })
                .thenCompose(Function.identity());
    }

    private CompletableFuture<FetchResponse> failed(Entry entry, Flight flight, Throwable error) {
        long now = time.nanoTime();
        if (entry != null && servableOnError(entry, now)) {
            resolve(flight, new Resolution.ServeStale(entry, null));
            return done(staleOnError(entry, now, null));
        }
        FetchException typed = Failures.classify(error);
        resolve(flight, SHARED_FAILURES.contains(typed.type()) ? new Resolution.Fail(typed) : Resolution.LOOK_AGAIN);
        counters.misses.increment();
        call.trace().cacheStatus("miss");
        return CompletableFuture.failedFuture(error);
    }

    private CompletableFuture<FetchResponse> answered(
            Entry entry, Flight flight, FetchResponse response, long requestNanos, String fwd) {
        long now = time.nanoTime();
        Entry.Exchange exchange = exchange(requestNanos, now);
        int status = response.status();
        if (entry != null && status == 304) {
            response.body().discard();
            if (!entry.describedBy(response.headers())) {
                // §4.3.4: the 304 is about some other representation; fetch this one in full.
                store.remove(key, credential, request.headers());
                return forward(null, flight, fwd);
            }
            Optional<Entry> refreshed = entry.revalidated(response.headers(), exchange, store.nextSequence());
            if (refreshed.isPresent()) store.put(key, refreshed.get(), request.headers(), stamp);
            else store.remove(key, credential, request.headers());
            resolve(flight, Resolution.LOOK_AGAIN);
            return done(revalidated(refreshed.orElse(entry), now, fwd));
        }
        if (entry != null && ERROR_STATUSES.contains(status) && servableOnError(entry, now)) {
            response.body().discard();
            resolve(flight, new Resolution.ServeStale(entry, String.valueOf(status)));
            return done(staleOnError(entry, now, String.valueOf(status)));
        }

        counters.misses.increment();
        call.trace().cacheStatus("miss");
        String forwarded = forwardedMember(fwd, status);
        // A response that is not fresh on arrival is stored only to be revalidated (or for max-stale),
        // which pays only for a URL that is asked for again. min_uses 1 (the default) stores it from
        // the first request, so the second is already conditional (RFC 9111 §4.3.1); 2 stores it from
        // its URL's second request on, like nginx's proxy_cache_min_uses, so that a stream of distinct
        // URLs costs the store nothing, where storing each one roughly halved passthrough's throughput
        // in copying and garbage collection (docs/performance.md).
        boolean tooFewUses = entry == null && cache.sightings.count(key) < policy.minUses();
        Optional<Entry> storable = tooFewUses && Entry.statesNoFreshness(response.headers(), policy)
                ? Optional.empty()
                : Entry.storable(status, response.headers(), exchange, store.nextSequence());
        if (tooFewUses) storable = storable.filter(e -> e.isFresh(now));
        if (storable.isEmpty() || response.body().contentLength() > cache.maxEntryBytes) {
            // What was stored is outdated by a response that may not be stored.
            if (entry != null && status < 400 && storable.isEmpty()) store.remove(key, credential, request.headers());
            resolve(flight, Resolution.GO_UPSTREAM);
            return done(withCacheStatus(response, forwarded));
        }
        Entry fetched = storable.get();
        Accumulator accumulator = new Accumulator(cache.maxEntryBytes, cache.inFlight);
        ResponseBody teed = Tee.of(
                response.body(),
                accumulator,
                body -> {
                    store.put(key, fetched.withBody(body), request.headers(), stamp);
                    call.events().cacheStored(call, body.length);
                    resolve(flight, Resolution.LOOK_AGAIN);
                },
                () -> resolve(flight, accumulator.overLimit() ? Resolution.GO_UPSTREAM : Resolution.LOOK_AGAIN));
        return done(new FetchResponse(
                status,
                addCacheStatus(response.headers(), forwarded + "; stored"),
                teed,
                response.trace(),
                response.interim()));
    }

    private String forwardedMember(String fwd, int status) {
        StringBuilder member =
                new StringBuilder(CacheStage.CACHE_NAME).append("; fwd=").append(fwd);
        if (!fwd.equals("miss")) member.append("; fwd-status=").append(status);
        if (collapseFailed) member.append("; collapsed=?0");
        return member.toString();
    }

    private Entry.Exchange exchange(long requestNanos, long responseNanos) {
        return new Entry.Exchange(
                request.headers(),
                credential,
                requestNanos,
                responseNanos,
                time.clock().instant(),
                policy);
    }

    /** RFC 9111 §4.3.1: the request with the stored response's validators. */
    private FetchRequest conditional(Entry entry) {
        Map<String, List<String>> fields = new TreeMap<>(String.CASE_INSENSITIVE_ORDER);
        fields.putAll(request.headers().map());
        entry.etag().ifPresent(tag -> fields.put("If-None-Match", List.of(tag)));
        entry.lastModified().ifPresent(date -> fields.put("If-Modified-Since", List.of(date)));
        return request.withHeaders(Fields.of(fields));
    }

    private boolean leftToOrigin() {
        for (String field : ORIGIN_CONDITIONAL_FIELDS) {
            if (request.headers().contains(field)) return true;
        }
        return false;
    }

    private boolean validatesItself() {
        return request.headers().contains("if-none-match") || request.headers().contains("if-modified-since");
    }

    // ---- stale-while-revalidate ----

    /**
     * RFC 5861 §3: one revalidation in the background; while it runs, requests within the
     * allowance get the stale entry and requests past it wait for the revalidation as followers.
     */
    private void revalidateInBackground(Entry entry) {
        Flight flight = cache.flights.lead(flightKey());
        if (flight == null) return;
        long requestNanos = time.nanoTime();
        cache.executor.execute(() -> {
            CompletableFuture<FetchResponse> sent;
            try {
                sent = chain.proceed(conditional(entry));
            } catch (RuntimeException e) {
                sent = CompletableFuture.failedFuture(e);
            }
            sent.whenComplete((response, error) -> {
                if (error != null) {
                    flight.resolve(Resolution.LOOK_AGAIN);
                    return;
                }
                try {
                    backgroundAnswer(entry, flight, response, requestNanos);
                } catch (RuntimeException bug) {
                    flight.resolve(Resolution.LOOK_AGAIN);
                    response.body().discard();
                    System.getLogger(CacheStage.class.getName())
                            .log(System.Logger.Level.WARNING, "background revalidation failed", bug);
                }
            });
        });
    }

    private void backgroundAnswer(Entry entry, Flight flight, FetchResponse response, long requestNanos) {
        long now = time.nanoTime();
        Entry.Exchange exchange = exchange(requestNanos, now);
        int status = response.status();
        if (status == 304 && entry.describedBy(response.headers())) {
            response.body().discard();
            entry.revalidated(response.headers(), exchange, store.nextSequence())
                    .ifPresentOrElse(
                            e -> store.put(key, e, request.headers(), stamp),
                            () -> store.remove(key, credential, request.headers()));
            flight.resolve(Resolution.LOOK_AGAIN);
            return;
        }
        Optional<Entry> storable = Entry.storable(status, response.headers(), exchange, store.nextSequence());
        if (ERROR_STATUSES.contains(status)
                || storable.isEmpty()
                || response.body().contentLength() > cache.maxEntryBytes) {
            response.body().discard();
            if (status < 400 && storable.isEmpty()) store.remove(key, credential, request.headers());
            flight.resolve(Resolution.LOOK_AGAIN);
            return;
        }
        Accumulator accumulator = new Accumulator(cache.maxEntryBytes, cache.inFlight);
        ResponseBody teed = Tee.of(
                response.body(),
                accumulator,
                body -> {
                    store.put(key, storable.get().withBody(body), request.headers(), stamp);
                    call.events().cacheStored(call, body.length);
                },
                () -> {});
        // Nobody waits on this body, so bound it by the upstream's total timeout ourselves.
        FetchException timeout = new FetchException(ErrorType.TIMEOUT, "background revalidation took too long");
        var timer = time.schedule(chain.upstream().policy().timeouts().total(), () -> teed.abort(timeout));
        teed.onFinish(() -> {
            timer.cancel();
            flight.resolve(Resolution.LOOK_AGAIN);
        });
        teed.subscribe(new Flow.Subscriber<>() {
            @Override
            public void onSubscribe(Flow.Subscription s) {
                s.request(Long.MAX_VALUE);
            }

            @Override
            public void onNext(List<ByteBuffer> item) {}

            @Override
            public void onError(Throwable t) {}

            @Override
            public void onComplete() {}
        });
    }

    // ---- unsafe methods and bypass ----

    /** RFC 9111 §4.4: a non-error response to an unsafe method invalidates the target URI. */
    private CompletableFuture<FetchResponse> invalidating() {
        counters.bypassed.increment();
        call.trace().cacheStatus("bypass");
        return chain.proceed(request).thenApply(response -> {
            if (response.status() < 400) {
                store.invalidate(key);
                // ...and may invalidate Location and Content-Location when same-origin.
                for (String field : List.of("location", "content-location")) {
                    response.headers()
                            .firstValue(field)
                            .flatMap(this::sameOrigin)
                            .ifPresent(uri -> store.invalidate(keyOf(uri)));
                }
            }
            return withCacheStatus(response, CacheStage.CACHE_NAME + "; fwd=bypass");
        });
    }

    private Optional<URI> sameOrigin(String reference) {
        try {
            URI target = request.uri().resolve(reference.trim());
            URI base = request.uri();
            boolean same = Objects.equals(lower(base.getScheme()), lower(target.getScheme()))
                    && Objects.equals(lower(base.getHost()), lower(target.getHost()))
                    && port(base) == port(target);
            return same ? Optional.of(target) : Optional.empty();
        } catch (IllegalArgumentException e) {
            return Optional.empty();
        }
    }

    private static String lower(String s) {
        return s == null ? null : s.toLowerCase(Locale.ROOT);
    }

    private static int port(URI uri) {
        return uri.getPort() >= 0 ? uri.getPort() : "https".equalsIgnoreCase(uri.getScheme()) ? 443 : 80;
    }

    private CompletableFuture<FetchResponse> bypass() {
        counters.bypassed.increment();
        call.trace().cacheStatus("bypass");
        return chain.proceed(request)
                .thenApply(response -> withCacheStatus(response, CacheStage.CACHE_NAME + "; fwd=bypass"));
    }

    // ---- responses from the store ----

    private FetchResponse fromStore(Entry entry, long now) {
        long ttl = entry.ttlSeconds(now);
        if (collapsedAs != null) {
            counters.coalesced.increment();
            call.events().cacheCoalesced(call);
            call.trace().cacheStatus(collapsedAs.equals("miss") ? "miss" : "revalidated");
            return served(entry, now, "fwd=" + collapsedAs + "; collapsed; ttl=" + ttl);
        }
        if (entry.isFresh(now)) {
            counters.hits.increment();
            call.trace().cacheStatus("hit");
        } else {
            counters.stale.increment();
            call.trace().cacheStatus("stale");
        }
        return served(entry, now, "hit; ttl=" + ttl);
    }

    private FetchResponse staleWhileRevalidate(Entry entry, long now) {
        counters.stale.increment();
        call.trace().cacheStatus("stale");
        return served(entry, now, "hit; ttl=" + entry.ttlSeconds(now) + "; detail=stale-while-revalidate");
    }

    private FetchResponse staleOnError(Entry entry, long now, String forwardStatus) {
        counters.stale.increment();
        call.trace().cacheStatus("stale");
        String member = "fwd=stale" + (forwardStatus == null ? "" : "; fwd-status=" + forwardStatus)
                + (collapsedAs != null ? "; collapsed" : "") + "; ttl=" + entry.ttlSeconds(now)
                + "; detail=stale-if-error";
        return served(entry, now, member);
    }

    private FetchResponse revalidated(Entry entry, long now, String fwd) {
        counters.revalidated.increment();
        call.trace().cacheStatus("revalidated");
        return served(entry, now, "fwd=" + fwd + "; fwd-status=304; ttl=" + entry.ttlSeconds(now));
    }

    private FetchResponse served(Entry entry, long now, String member) {
        spentInCache(now);
        counters.bytesServed.add(entry.body.length);
        Map<String, List<String>> fields = new TreeMap<>(String.CASE_INSENSITIVE_ORDER);
        entry.fields.copyInto(fields);
        fields.put("Age", List.of(Long.toString(entry.ageSeconds(now)))); // RFC 9111 §5.1
        appendCacheStatus(fields, CacheStage.CACHE_NAME + "; " + member);
        return new FetchResponse(entry.status, Fields.of(fields), ResponseBody.of(entry.body), call.trace());
    }

    /** RFC 9111 §5.2.1.7: nothing stored may answer an {@code only-if-cached} request, so 504. */
    private FetchResponse onlyIfCachedMiss(long now) {
        spentInCache(now);
        counters.misses.increment();
        call.trace().cacheStatus("miss");
        Map<String, List<String>> fields = new TreeMap<>(String.CASE_INSENSITIVE_ORDER);
        fields.put("Content-Length", List.of("0"));
        appendCacheStatus(fields, CacheStage.CACHE_NAME + "; detail=only-if-cached");
        return new FetchResponse(504, Fields.of(fields), ResponseBody.empty(), call.trace());
    }

    /** Adds the time since the last account: lookups, and a collapsed request's wait for its leader. */
    private void spentInCache(long now) {
        call.trace().addCache(Math.max(0, now - accountedNanos));
        accountedNanos = Math.max(accountedNanos, now);
    }

    private static FetchResponse withCacheStatus(FetchResponse response, String member) {
        return new FetchResponse(
                response.status(),
                addCacheStatus(response.headers(), member),
                response.body(),
                response.trace(),
                response.interim());
    }

    /** Every response that passes the cache stage gets this: one copy of the field references. */
    private static Fields addCacheStatus(Fields headers, String member) {
        return headers.with("Cache-Status", cacheStatus(headers.allValues("Cache-Status"), member));
    }

    /** RFC 9211 §2: each cache appends its member, so the origin's nearest cache comes first. */
    private static void appendCacheStatus(Map<String, List<String>> fields, String member) {
        fields.put("Cache-Status", List.of(cacheStatus(fields.getOrDefault("Cache-Status", List.of()), member)));
    }

    private static String cacheStatus(List<String> existing, String member) {
        return existing.isEmpty() ? member : String.join(", ", existing) + ", " + member;
    }

    private static <T> CompletableFuture<T> done(T value) {
        return CompletableFuture.completedFuture(value);
    }
}
