package io.sluice.cache;

import io.sluice.config.CachePolicy;
import io.sluice.fetch.Fields;
import io.sluice.http.Directives;
import io.sluice.http.HttpDates;
import io.sluice.http.Vary;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.Set;
import java.util.TreeMap;

/**
 * One stored response with its freshness bookkeeping (RFC 9111 §4.2): how old it was when it
 * arrived, how long it stays fresh, and how long it may be served stale. Immutable; a revalidation
 * makes a new one.
 */
final class Entry {
    /** RFC 9110 §15.1: statuses cacheable by default, i.e. eligible for heuristic freshness. */
    private static final Set<Integer> HEURISTIC_STATUSES =
            Set.of(200, 203, 204, 300, 301, 308, 404, 405, 410, 414, 501);

    /**
     * RFC 9111 §3.2: fields a 304 must not overwrite (the stored body still decides them), plus the
     * ones Sluice computes itself when it serves.
     */
    private static final Set<String> NOT_UPDATED_BY_304 =
            Set.of("content-length", "content-encoding", "content-range", "transfer-encoding", "cache-status");

    /**
     * What an entry costs on the heap beyond its body and field text, so that {@code max_size} is
     * close to the memory the cache takes: the entry, its packed fields' arrays, its key, Caffeine's
     * node and the variant list, and per field value a slot in the names and ends arrays. Measured
     * after a full GC with 101,911 stored 1 KB responses of nine fields (234 characters): 1,764
     * bytes of heap per entry, which these count within a few bytes. (With fields held as a map of
     * lists it was 2,717 bytes, counted with 512 and 96.)
     */
    private static final int OVERHEAD_BYTES = 360;

    private static final int FIELD_OVERHEAD_BYTES = 16;

    final int status;
    final StoredFields fields;
    final byte[] body;
    final String credential;
    /** For each field the response's {@code Vary} names (lower case), the request's value, or null. */
    final Map<String, String> vary;
    /** Monotonic time the response (or its last validation) arrived. */
    final long responseNanos;
    /** RFC 9111 §4.2.3 corrected_initial_age. */
    final long initialAgeNanos;
    /** RFC 9111 §4.2.1 freshness_lifetime, capped by the upstream's {@code max_ttl}. */
    final long lifetimeNanos;

    final long staleWhileRevalidateNanos;
    final long staleIfErrorNanos;
    /** {@code must-revalidate} or {@code no-cache}: never served stale (§4.2.4). */
    final boolean mustRevalidate;
    /** How long past freshness an entry with validators is kept for revalidation. */
    final long keepForValidationNanos;

    /** Store order of this validation; newer than a request's arrival means "fresh from the origin". */
    final long sequence;

    private Entry(
            int status,
            StoredFields fields,
            byte[] body,
            String credential,
            Map<String, String> vary,
            long responseNanos,
            long initialAgeNanos,
            long lifetimeNanos,
            long staleWhileRevalidateNanos,
            long staleIfErrorNanos,
            boolean mustRevalidate,
            long keepForValidationNanos,
            long sequence) {
        this.status = status;
        this.fields = fields;
        this.body = body;
        this.credential = credential;
        this.vary = vary;
        this.responseNanos = responseNanos;
        this.initialAgeNanos = initialAgeNanos;
        this.lifetimeNanos = lifetimeNanos;
        this.staleWhileRevalidateNanos = staleWhileRevalidateNanos;
        this.staleIfErrorNanos = staleIfErrorNanos;
        this.mustRevalidate = mustRevalidate;
        this.keepForValidationNanos = keepForValidationNanos;
        this.sequence = sequence;
    }

    /** What the request that produced a response was, and when it was sent and answered. */
    record Exchange(
            Fields requestHeaders,
            String credential,
            long requestNanos,
            long responseNanos,
            Instant responseInstant,
            CachePolicy policy) {}

    /**
     * The entry a GET response would become, with an empty body; empty if RFC 9111 §3 forbids
     * storing it or it would be useless (never fresh, no validators, no stale allowance).
     */
    static Optional<Entry> storable(int status, Fields responseHeaders, Exchange exchange, long sequence) {
        if (status < 200 || status == 206 || status == 304) return Optional.empty();
        Directives cc = Directives.parse(responseHeaders.allValues("cache-control"));
        if (cc.has("no-store")) return Optional.empty();
        // A response that sets a cookie starts someone's session; replaying it to other callers is
        // the classic shared-cache leak, so Sluice never stores one (as Varnish's default does).
        if (responseHeaders.firstValue("set-cookie").isPresent()) return Optional.empty();
        Optional<Map<String, String>> vary = varyOf(responseHeaders, exchange.requestHeaders());
        if (vary.isEmpty()) return Optional.empty();

        CachePolicy policy = exchange.policy();
        boolean explicit =
                cc.has("max-age") || responseHeaders.firstValue("expires").isPresent();
        if (!explicit && !HEURISTIC_STATUSES.contains(status)) return Optional.empty();
        long lifetime = lifetimeNanos(status, cc, responseHeaders, exchange.responseInstant(), policy);
        // no-cache (qualified or not: a private cache may treat "no-cache=field" as unqualified,
        // §5.2.2.4) means the response may be stored but never used without validation.
        boolean noCache = cc.has("no-cache");
        if (noCache) lifetime = 0;
        boolean mustRevalidate = noCache || cc.has("must-revalidate");
        long swr = mustRevalidate ? 0 : seconds(cc.seconds("stale-while-revalidate", 0, 0));
        long sie = mustRevalidate ? 0 : seconds(cc.seconds("stale-if-error", 0, 0));
        boolean validators = responseHeaders.firstValue("etag").isPresent()
                || responseHeaders.firstValue("last-modified").isPresent();
        long initialAge = initialAgeNanos(responseHeaders, exchange);
        // §4.2.4: a response that had freshness but arrived older than it (Age, Date) may still serve
        // a client that accepts staleness (max-stale); it is kept for that as long as a revalidatable
        // one is. One that never had freshness (Expires in the past, max-age=0) is not: that is
        // how origins say "do not reuse", and storing each would cost for nothing.
        boolean staleOnArrival = lifetime > 0 && initialAge >= lifetime && !mustRevalidate;
        long keep = validators || staleOnArrival ? policy.maxTtl().toNanos() : 0;

        long usefulFor = saturatedAdd(lifetime - initialAge, Math.max(keep, Math.max(swr, sie)));
        if (usefulFor <= 0) return Optional.empty();
        return Optional.of(new Entry(
                status,
                stored(responseHeaders),
                new byte[0],
                exchange.credential(),
                vary.get(),
                exchange.responseNanos(),
                initialAge,
                lifetime,
                swr,
                sie,
                mustRevalidate,
                keep,
                sequence));
    }

    /**
     * Whether a response cannot be fresh here whatever its details: it names no freshness
     * ({@code Cache-Control}, {@code Expires}) and the policy grants none. A look at two field names,
     * for the common case, before {@link #storable} parses anything.
     */
    static boolean statesNoFreshness(Fields headers, CachePolicy policy) {
        return policy.defaultTtl().isEmpty()
                && (policy.heuristic().isEmpty() || !headers.contains("last-modified"))
                && !headers.contains("cache-control")
                && !headers.contains("expires");
    }

    /** RFC 9111 §4.2.1, for a private cache (so {@code s-maxage} does not apply). */
    private static long lifetimeNanos(
            int status, Directives cc, Fields headers, Instant responseInstant, CachePolicy policy) {
        long lifetime;
        if (cc.has("max-age")) {
            lifetime = seconds(cc.seconds("max-age", 0, 0));
        } else if (headers.firstValue("expires").isPresent()) {
            // An invalid Expires, such as "0", means already expired (§5.3).
            Optional<Instant> expires =
                    HttpDates.parse(headers.firstValue("expires").get(), responseInstant);
            Instant date = headers.firstValue("date")
                    .flatMap(v -> HttpDates.parse(v, responseInstant))
                    .orElse(responseInstant);
            lifetime = expires.map(e -> Math.max(0, nanos(Duration.between(date, e))))
                    .orElse(0L);
        } else if (policy.heuristic().isPresent()
                && HEURISTIC_STATUSES.contains(status)
                && headers.firstValue("last-modified")
                        .flatMap(v -> HttpDates.parse(v, responseInstant))
                        .isPresent()) {
            // §4.2.2: a fraction of the time since the last change, the heuristic the RFC suggests.
            Instant lastModified = HttpDates.parse(
                            headers.firstValue("last-modified").get(), responseInstant)
                    .get();
            Instant date = headers.firstValue("date")
                    .flatMap(v -> HttpDates.parse(v, responseInstant))
                    .orElse(responseInstant);
            long sinceModified = Math.max(0, nanos(Duration.between(lastModified, date)));
            lifetime = (long) (sinceModified * policy.heuristic().get());
        } else if (policy.defaultTtl().isPresent() && HEURISTIC_STATUSES.contains(status)) {
            // §4.2.2 heuristic freshness, only where the operator opted in with default_ttl.
            lifetime = policy.defaultTtl().get().toNanos();
        } else {
            lifetime = 0;
        }
        return Math.min(lifetime, policy.maxTtl().toNanos());
    }

    /** RFC 9111 §4.2.3 corrected_initial_age. */
    private static long initialAgeNanos(Fields headers, Exchange exchange) {
        Instant responseTime = exchange.responseInstant();
        Instant date = headers.firstValue("date")
                .flatMap(v -> HttpDates.parse(v, responseTime))
                .orElse(responseTime);
        long apparentAge = Math.max(0, nanos(Duration.between(date, responseTime)));
        long ageValue = seconds(deltaSeconds(headers.firstValue("age").orElse("0")));
        long responseDelay = Math.max(0, exchange.responseNanos() - exchange.requestNanos());
        return Math.max(apparentAge, ageValue + responseDelay);
    }

    /** The request-field values the response's {@code Vary} selects on; empty for {@code Vary: *}. */
    private static Optional<Map<String, String>> varyOf(Fields response, Fields request) {
        Optional<List<String>> names = Vary.fieldNames(response.allValues("vary"));
        if (names.isEmpty()) return Optional.empty(); // Vary: * always fails to match (§4.1)
        Map<String, String> vary = new TreeMap<>();
        for (String field : names.get()) vary.put(field, Keys.varyValue(request, field));
        return Optional.of(vary.isEmpty() ? Map.of() : vary);
    }

    /** What is kept of a response's fields: all but {@code Age}, which is computed when served (§5.1). */
    private static StoredFields stored(Fields headers) {
        return StoredFields.of(headers, name -> !name.equalsIgnoreCase("age"));
    }

    /**
     * RFC 9111 §5.1: {@code Age} is a singleton, but a cache that gets a list ({@code Age: 7200, 0},
     * or the field twice) SHOULD use the first member and discard the rest, and ignore (0) a value
     * that is then not delta-seconds (§1.2.2). Taking the smallest or the last instead would let one
     * stray member make a response look fresher than it is.
     */
    static long deltaSeconds(String value) {
        int comma = value.indexOf(',');
        String v = (comma < 0 ? value : value.substring(0, comma)).trim();
        if (v.isEmpty() || !v.chars().allMatch(c -> c >= '0' && c <= '9')) return 0;
        return v.length() > 10
                ? Directives.MAX_DELTA_SECONDS
                : Math.min(Long.parseLong(v), Directives.MAX_DELTA_SECONDS);
    }

    private static long seconds(long seconds) {
        return Duration.ofSeconds(seconds).toNanos();
    }

    Entry withBody(byte[] bytes) {
        return new Entry(
                status,
                fields,
                bytes,
                credential,
                vary,
                responseNanos,
                initialAgeNanos,
                lifetimeNanos,
                staleWhileRevalidateNanos,
                staleIfErrorNanos,
                mustRevalidate,
                keepForValidationNanos,
                sequence);
    }

    /**
     * The entry after a 304 (RFC 9111 §4.3.4): the 304's fields replace the stored ones (§3.2), and
     * freshness is computed again from the merged fields as of this validation. Empty if the merged
     * response may no longer be stored.
     */
    Optional<Entry> revalidated(Fields notModified, Exchange exchange, long sequence) {
        Map<String, List<String>> merged = new TreeMap<>(String.CASE_INSENSITIVE_ORDER);
        fields.copyInto(merged);
        notModified.forEach((name, values) -> {
            if (!NOT_UPDATED_BY_304.contains(name.toLowerCase(Locale.ROOT))) merged.put(name, values);
        });
        Fields mergedHeaders = Fields.of(merged);
        return storable(status, mergedHeaders, exchange, sequence).map(e -> e.withBody(body));
    }

    /** Whether a 304 describes this entry: its strong validator, if it sends one, must match (§4.3.4). */
    boolean describedBy(Fields notModified) {
        Optional<String> newTag = notModified.firstValue("etag");
        Optional<String> etag = etag();
        return newTag.isEmpty() || etag.isEmpty() || Objects.equals(opaqueTag(newTag.get()), opaqueTag(etag.get()));
    }

    Optional<String> etag() {
        return fields.first("etag");
    }

    Optional<String> lastModified() {
        return fields.first("last-modified");
    }

    /** An entity tag without its weakness indicator, for weak comparison (RFC 9110 §8.8.3.2). */
    static String opaqueTag(String tag) {
        String t = tag.trim();
        return t.startsWith("W/") ? t.substring(2) : t;
    }

    boolean hasValidators() {
        return etag().isPresent() || lastModified().isPresent();
    }

    /** RFC 9111 §4.1 and the credential: may this entry answer a request with these fields? */
    boolean matches(String requestCredential, Fields requestHeaders) {
        if (!credential.equals(requestCredential)) return false;
        for (Map.Entry<String, String> field : vary.entrySet()) {
            if (!Objects.equals(field.getValue(), Keys.varyValue(requestHeaders, field.getKey()))) return false;
        }
        return true;
    }

    /** RFC 9111 §4.2.3 current_age. */
    long ageNanos(long now) {
        return initialAgeNanos + Math.max(0, now - responseNanos);
    }

    /** Remaining freshness; negative once stale (RFC 9211 {@code ttl}). */
    long ttlNanos(long now) {
        return lifetimeNanos - ageNanos(now);
    }

    boolean isFresh(long now) {
        return ttlNanos(now) > 0;
    }

    /** Monotonic instant after which the entry is of no use at all. */
    long retainUntilNanos() {
        long stale = Math.max(keepForValidationNanos, Math.max(staleWhileRevalidateNanos, staleIfErrorNanos));
        // Saturating: max_ttl and max-age may be large enough to overflow a nanosecond instant.
        return saturatedAdd(saturatedAdd(responseNanos, lifetimeNanos - initialAgeNanos), stale);
    }

    /**
     * A span between two HTTP dates in nanoseconds, saturated: dates run from year 1 to 9999, and an
     * {@code Expires} of 9999 (a common "never") is further from now than a long of nanoseconds reaches.
     */
    private static long nanos(Duration duration) {
        try {
            return duration.toNanos();
        } catch (ArithmeticException e) {
            return duration.isNegative() ? Long.MIN_VALUE : Long.MAX_VALUE;
        }
    }

    static long saturatedAdd(long a, long b) {
        long sum = a + b;
        if (((a ^ sum) & (b ^ sum)) < 0) return sum < 0 ? Long.MAX_VALUE : Long.MIN_VALUE;
        return sum;
    }

    long weight() {
        return body.length + fields.weight(FIELD_OVERHEAD_BYTES) + OVERHEAD_BYTES;
    }

    /** The current {@code Age} field value in seconds (§5.1). */
    long ageSeconds(long now) {
        return Duration.ofNanos(ageNanos(now)).toSeconds();
    }

    /** {@code ttl} for {@code Cache-Status}, rounded toward zero. */
    long ttlSeconds(long now) {
        return ttlNanos(now) / 1_000_000_000L;
    }
}
