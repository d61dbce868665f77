package io.sluice.redirect;

import io.sluice.fetch.FetchRequest;
import io.sluice.fetch.FetchResponse;
import io.sluice.fetch.Fields;
import io.sluice.fetch.HopByHop;
import io.sluice.fetch.RequestBody;
import io.sluice.fetch.Stage;
import java.net.URI;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;

/**
 * Follows redirects for requests that ask to ({@code follow_redirects}). Each hop goes through
 * the rest of the pipeline again, so the new origin is resolved to its own upstream, admitted by its
 * own limits and checked by the address guard. 301/302/303 turn into a bodiless GET (as browsers
 * and curl do; RFC 9110 §15.4); 307/308 keep method and body when the body can be replayed.
 * Credentials ({@code Authorization}, {@code Cookie}) are not carried to another origin.
 */
public final class RedirectStage implements Stage {
    static final int MAX_HOPS = 10;

    @Override
    public CompletableFuture<FetchResponse> apply(Chain chain) {
        FetchRequest request = chain.request();
        if (!request.followRedirects()) return chain.proceed(request);
        return hop(chain, request, 0);
    }

    private CompletableFuture<FetchResponse> hop(Chain chain, FetchRequest request, int hops) {
        return chain.proceed(request).thenCompose(response -> {
            Optional<FetchRequest> next = next(request, response);
            if (next.isEmpty() || hops >= MAX_HOPS) return CompletableFuture.completedFuture(response);
            response.body().discard();
            return hop(chain, next.get(), hops + 1);
        });
    }

    private static Optional<FetchRequest> next(FetchRequest request, FetchResponse response) {
        int status = response.status();
        if (status != 301 && status != 302 && status != 303 && status != 307 && status != 308) return Optional.empty();
        Optional<String> location = response.headers().firstValue("location");
        if (location.isEmpty()) return Optional.empty();
        URI target;
        try {
            target = request.uri().resolve(location.get().trim());
        } catch (IllegalArgumentException e) {
            return Optional.empty();
        }
        boolean keepsMethod = status == 307 || status == 308;
        if (keepsMethod && !request.body().replayable()) return Optional.empty();
        FetchRequest.Builder next = request.toBuilder().uri(target);
        if (!keepsMethod && !request.method().equals("HEAD")) next.method("GET").body(RequestBody.empty());
        Fields headers = request.headers();
        if (!sameOrigin(request.uri(), target)) {
            Map<String, List<String>> endToEnd = HopByHop.endToEnd(headers.map());
            endToEnd.keySet().removeIf(n -> {
                String lower = n.toLowerCase(Locale.ROOT);
                return lower.equals("authorization") || lower.equals("cookie");
            });
            headers = Fields.of(endToEnd);
            next.upstream(Optional.empty());
        }
        if (!keepsMethod) {
            Map<String, List<String>> endToEnd = HopByHop.endToEnd(headers.map());
            endToEnd.keySet().removeIf(n -> n.toLowerCase(Locale.ROOT).startsWith("content-"));
            headers = Fields.of(endToEnd);
        }
        return Optional.of(next.headers(headers).build());
    }

    private static boolean sameOrigin(URI a, URI b) {
        return Objects.equals(lower(a.getScheme()), lower(b.getScheme()))
                && Objects.equals(lower(a.getHost()), lower(b.getHost()))
                && port(a) == port(b);
    }

    private static String lower(String s) {
        return s == null ? null : s.toLowerCase(Locale.ROOT);
    }

    private static int port(URI uri) {
        return uri.getPort() >= 0 ? uri.getPort() : "https".equalsIgnoreCase(uri.getScheme()) ? 443 : 80;
    }

    @Override
    public String toString() {
        return "FollowRedirects";
    }
}
