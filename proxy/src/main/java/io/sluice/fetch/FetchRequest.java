package io.sluice.fetch;

import io.sluice.config.Priority;
import io.sluice.upstream.Upstream;
import java.net.URI;
import java.time.Duration;
import java.util.Objects;
import java.util.Optional;

/**
 * One outbound request as the front doors describe it. {@code headers} are what the client sent;
 * hop-by-hop headers are removed when it is sent. Made with {@link #builder} (or {@link #toBuilder}
 * for a changed copy), which names each field it sets; the canonical constructor checks them all.
 *
 * @param upstream the upstream the route form ({@code /github/...}) named, as its front door looked it
 *     up (for its {@code base_url}): {@link ResolveUpstreamStage} hands it down without looking it up
 *     again; empty to resolve by origin
 * @param timeout the client's own total deadline, capped by the upstream's {@code timeouts.total}
 * @param maxWait the client's own admission budget, replacing the upstream's {@code max_wait}
 * @param priority the class the client named ({@code Sluice-Priority}, a batch's {@code priority});
 *     empty for the door's default
 * @param batchItem whether the request is a batch item, whose default class is the upstream's
 *     {@code priority.default_batch} (a passthrough request's is {@code interactive})
 */
public record FetchRequest(
        String method,
        URI uri,
        Fields headers,
        RequestBody body,
        Optional<Upstream> upstream,
        Optional<Duration> timeout,
        Optional<Duration> maxWait,
        CacheMode cache,
        boolean followRedirects,
        Optional<Priority> priority,
        boolean batchItem) {

    public FetchRequest {
        Objects.requireNonNull(method, "method");
        Objects.requireNonNull(uri, "uri");
        Objects.requireNonNull(headers, "headers");
        Objects.requireNonNull(body, "body");
        Objects.requireNonNull(upstream, "upstream: required (Optional.empty() for none)");
        Objects.requireNonNull(timeout, "timeout: required (Optional.empty() for none)");
        Objects.requireNonNull(maxWait, "maxWait: required (Optional.empty() for none)");
        Objects.requireNonNull(cache, "cache");
        if (priority == null) throw new IllegalArgumentException("priority: required (Optional.empty() for none)");
    }

    /**
     * A request for {@code method} {@code uri}: no headers, no body, resolved by origin, the
     * upstream's budgets, the default cache mode, redirects not followed, a passthrough request of the
     * default class, until the builder says otherwise.
     */
    public static Builder builder(String method, URI uri) {
        return new Builder(method, uri);
    }

    /** A bodiless {@code GET} of {@code uri} with every other field at its default. */
    public static FetchRequest get(URI uri) {
        return builder("GET", uri).build();
    }

    /** A builder holding every field of this request, for a copy that changes some. */
    public Builder toBuilder() {
        return new Builder(method, uri)
                .headers(headers)
                .body(body)
                .upstream(upstream)
                .timeout(timeout)
                .maxWait(maxWait)
                .cache(cache)
                .followRedirects(followRedirects)
                .priority(priority)
                .batchItem(batchItem);
    }

    /** The same request with {@code headers} (what the cache and a redirect hop send instead). */
    public FetchRequest withHeaders(Fields headers) {
        return toBuilder().headers(headers).build();
    }

    /**
     * The time this request may take within {@code limit}: its own {@code timeout} when that is
     * shorter, else {@code limit}. The one rule for two budgets (a policy's {@code timeouts.total}, what
     * is left of a batch's {@code timeout_ms}) and the client's own.
     */
    public Duration timeoutWithin(Duration limit) {
        return timeout.filter(asked -> asked.compareTo(limit) < 0).orElse(limit);
    }

    public Optional<String> header(String name) {
        return headers.firstValue(name);
    }

    /**
     * Names the fields of a {@link FetchRequest} one by one; {@link #build} checks them (in the
     * record's constructor, the one place a request is checked).
     */
    public static final class Builder {
        private String method;
        private URI uri;
        private Fields headers = Fields.EMPTY;
        private RequestBody body = RequestBody.empty();
        private Optional<Upstream> upstream = Optional.empty();
        private Optional<Duration> timeout = Optional.empty();
        private Optional<Duration> maxWait = Optional.empty();
        private CacheMode cache = CacheMode.DEFAULT;
        private boolean followRedirects;
        private Optional<Priority> priority = Optional.empty();
        private boolean batchItem;

        private Builder(String method, URI uri) {
            this.method = method;
            this.uri = uri;
        }

        public Builder method(String method) {
            this.method = method;
            return this;
        }

        public Builder uri(URI uri) {
            this.uri = uri;
            return this;
        }

        public Builder headers(Fields headers) {
            this.headers = headers;
            return this;
        }

        public Builder body(RequestBody body) {
            this.body = body;
            return this;
        }

        /** The upstream the request names, already looked up; empty to resolve it by the origin. */
        public Builder upstream(Optional<Upstream> upstream) {
            this.upstream = upstream;
            return this;
        }

        public Builder timeout(Optional<Duration> timeout) {
            this.timeout = timeout;
            return this;
        }

        public Builder maxWait(Optional<Duration> maxWait) {
            this.maxWait = maxWait;
            return this;
        }

        public Builder cache(CacheMode cache) {
            this.cache = cache;
            return this;
        }

        public Builder followRedirects(boolean followRedirects) {
            this.followRedirects = followRedirects;
            return this;
        }

        public Builder priority(Optional<Priority> priority) {
            this.priority = priority;
            return this;
        }

        /** Whether the request is a batch item (its default class is the upstream's {@code default_batch}). */
        public Builder batchItem(boolean batchItem) {
            this.batchItem = batchItem;
            return this;
        }

        public FetchRequest build() {
            return new FetchRequest(
                    method,
                    uri,
                    headers,
                    body,
                    upstream,
                    timeout,
                    maxWait,
                    cache,
                    followRedirects,
                    priority,
                    batchItem);
        }
    }
}
