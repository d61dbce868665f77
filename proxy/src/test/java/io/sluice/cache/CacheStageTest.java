package io.sluice.cache;

import static io.sluice.cache.CacheTestKit.API;
import static io.sluice.cache.CacheTestKit.get;
import static io.sluice.cache.CacheTestKit.request;
import static org.assertj.core.api.Assertions.assertThat;

import io.sluice.cache.CacheTestKit.Result;
import io.sluice.config.CacheConfig;
import io.sluice.config.DataSize;
import io.sluice.fetch.CacheMode;
import io.sluice.fetch.ErrorType;
import io.sluice.fetch.FetchException;
import io.sluice.fetch.FetchFailure;
import io.sluice.fetch.FetchOutcome;
import io.sluice.fetch.FetchResponse;
import io.sluice.http.HttpDates;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.stream.IntStream;
import org.junit.jupiter.api.Nested;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

@Timeout(10)
class CacheStageTest {

    private static String date(CacheTestKit kit) {
        return HttpDates.format(kit.time.clock().instant());
    }

    private static String date(CacheTestKit kit, Duration offset) {
        return HttpDates.format(kit.time.clock().instant().plus(offset));
    }

    @Nested
    class Freshness {
        @Test
        void servesFreshResponseFromCacheWithAge() {
            CacheTestKit kit = new CacheTestKit();
            kit.origin.respond(200, "hello", "Cache-Control", "max-age=60");

            Result first = kit.get("/a");
            kit.time.advance(Duration.ofSeconds(10));
            Result second = kit.get("/a");

            assertThat(first.cacheStatus()).isEqualTo("sluice; fwd=miss; stored");
            assertThat(first.trace()).isEqualTo("miss");
            assertThat(second.body()).isEqualTo("hello");
            assertThat(second.header("Age")).isEqualTo("10");
            assertThat(second.cacheStatus()).isEqualTo("sluice; hit; ttl=50");
            assertThat(second.trace()).isEqualTo("hit");
            assertThat(kit.origin.requestCount()).isEqualTo(1);
        }

        @Test
        void neverStoresNoStoreResponse() {
            CacheTestKit kit = new CacheTestKit();
            kit.origin.respond(200, "secret", "Cache-Control", "no-store, max-age=60");

            Result first = kit.get("/a");
            kit.get("/a");

            assertThat(first.cacheStatus()).isEqualTo("sluice; fwd=miss");
            assertThat(kit.origin.requestCount()).isEqualTo(2);
        }

        @Test
        void takesFreshnessFromExpiresMinusDate() {
            CacheTestKit kit = new CacheTestKit();
            kit.origin.respond(200, "x", "Date", date(kit), "Expires", date(kit, Duration.ofSeconds(30)));

            kit.get("/a");
            kit.time.advance(Duration.ofSeconds(29));
            assertThat(kit.get("/a").cacheStatus()).isEqualTo("sluice; hit; ttl=1");
            kit.time.advance(Duration.ofSeconds(2));
            assertThat(kit.get("/a").trace()).isEqualTo("miss");
            assertThat(kit.origin.requestCount()).isEqualTo(2);
        }

        @Test
        void maxAgeTakesPrecedenceOverExpires() {
            CacheTestKit kit = new CacheTestKit();
            kit.origin.respond(
                    200,
                    "x",
                    "Cache-Control",
                    "max-age=5",
                    "Date",
                    date(kit),
                    "Expires",
                    date(kit, Duration.ofHours(1)));

            kit.get("/a");
            kit.time.advance(Duration.ofSeconds(6));
            kit.get("/a");

            assertThat(kit.origin.requestCount()).isEqualTo(2);
        }

        @Test
        void ageFromUpstreamCountsAgainstFreshness() {
            CacheTestKit kit = new CacheTestKit();
            kit.origin.respond(200, "x", "Cache-Control", "max-age=60", "Age", "50");

            kit.get("/a");
            kit.time.advance(Duration.ofSeconds(5));
            Result hit = kit.get("/a");
            kit.time.advance(Duration.ofSeconds(6));
            kit.get("/a");

            assertThat(hit.header("Age")).isEqualTo("55");
            assertThat(hit.cacheStatus()).isEqualTo("sluice; hit; ttl=5");
            assertThat(kit.origin.requestCount()).isEqualTo(2);
        }

        @Test
        void invalidExpiresMeansAlreadyExpired() {
            CacheTestKit kit = new CacheTestKit();
            kit.origin.respond(200, "x", "Expires", "0");

            kit.get("/a");
            kit.get("/a");

            assertThat(kit.origin.requestCount()).isEqualTo(2);
        }

        @Test
        void heuristicFreshnessIsAShareOfTheTimeSinceLastModified() {
            CacheTestKit kit = new CacheTestKit("{enabled: true, max_ttl: 1d, heuristic: 10%}");
            kit.origin.respond(200, "x", "Date", date(kit), "Last-Modified", date(kit, Duration.ofSeconds(-1000)));

            kit.get("/a");
            kit.time.advance(Duration.ofSeconds(99));
            Result hit = kit.get("/a");
            kit.time.advance(Duration.ofSeconds(2));
            Result expired = kit.get("/a");

            assertThat(hit.cacheStatus()).isEqualTo("sluice; hit; ttl=1");
            assertThat(hit.header("Warning")).isNull();
            assertThat(expired.trace()).isNotEqualTo("hit");
            assertThat(kit.origin.requestCount()).isEqualTo(2);
        }

        @Test
        void heuristicFreshnessIsCappedByMaxTtl() {
            CacheTestKit kit = new CacheTestKit("{enabled: true, max_ttl: 10s, heuristic: 0.5}");
            kit.origin.respond(200, "x", "Date", date(kit), "Last-Modified", date(kit, Duration.ofDays(-30)));

            kit.get("/a");

            assertThat(kit.get("/a").cacheStatus()).isEqualTo("sluice; hit; ttl=10");
        }

        @Test
        void heuristicFreshnessNeverOverridesExplicitFreshnessNorAppliesToOtherStatuses() {
            CacheTestKit kit = new CacheTestKit("{enabled: true, max_ttl: 1d, heuristic: 10%}");
            String longAgo = date(kit, Duration.ofDays(-10));
            kit.origin.respond(200, "x", "Cache-Control", "max-age=0", "Last-Modified", longAgo);
            kit.get("/explicit");
            kit.origin.respond(304, "");
            Result explicit = kit.get("/explicit");
            kit.origin.respond(302, "x", "Location", "/b", "Last-Modified", longAgo);
            kit.get("/found");

            assertThat(explicit.trace()).isEqualTo("revalidated");
            assertThat(kit.get("/found").trace()).isEqualTo("miss");
        }

        @Test
        void heuristicFreshnessIsOffByDefault() {
            CacheTestKit kit = new CacheTestKit();
            kit.origin.respond(200, "x", "Date", date(kit), "Last-Modified", date(kit, Duration.ofDays(-10)));

            kit.get("/a");
            kit.origin.respond(304, "");

            assertThat(kit.get("/a").trace()).isEqualTo("revalidated");
            assertThat(kit.origin.requestCount()).isEqualTo(2);
        }

        @Test
        void appliesNoHeuristicFreshnessWithoutDefaultTtl() {
            CacheTestKit kit = new CacheTestKit();
            kit.origin.respond(200, "x");

            kit.get("/a");
            kit.get("/a");

            assertThat(kit.origin.requestCount()).isEqualTo(2);
        }

        @Test
        void usesDefaultTtlWhenTheUpstreamSendsNoFreshness() {
            CacheTestKit kit = new CacheTestKit("{enabled: true, max_ttl: 1d, default_ttl: 30s}");
            kit.origin.respond(200, "x");

            kit.get("/a");
            kit.time.advance(Duration.ofSeconds(20));
            Result hit = kit.get("/a");
            kit.time.advance(Duration.ofSeconds(11));
            kit.get("/a");

            assertThat(hit.cacheStatus()).isEqualTo("sluice; hit; ttl=10");
            assertThat(kit.origin.requestCount()).isEqualTo(2);
        }

        @Test
        void defaultTtlDoesNotApplyToStatusesThatAreNotCacheableByDefault() {
            CacheTestKit kit = new CacheTestKit("{enabled: true, max_ttl: 1d, default_ttl: 30s}");
            kit.origin.respond(500, "boom");

            kit.get("/a");
            kit.get("/a");

            assertThat(kit.origin.requestCount()).isEqualTo(2);
        }

        @Test
        void capsFreshnessAtMaxTtl() {
            CacheTestKit kit = new CacheTestKit("{enabled: true, max_ttl: 10s}");
            kit.origin.respond(200, "x", "Cache-Control", "max-age=3600");

            kit.get("/a");
            kit.time.advance(Duration.ofSeconds(9));
            assertThat(kit.get("/a").cacheStatus()).isEqualTo("sluice; hit; ttl=1");
            kit.time.advance(Duration.ofSeconds(2));
            kit.get("/a");

            assertThat(kit.origin.requestCount()).isEqualTo(2);
        }

        @Test
        void ignoresSharedCacheMaxAgeAsAPrivateCache() {
            CacheTestKit kit = new CacheTestKit();
            kit.origin.respond(200, "x", "Cache-Control", "max-age=60, s-maxage=1");

            kit.get("/a");
            kit.time.advance(Duration.ofSeconds(30));

            assertThat(kit.get("/a").trace()).isEqualTo("hit");
        }

        @Test
        void storesOnlyGetResponses() {
            CacheTestKit kit = new CacheTestKit();
            kit.origin.respond(200, "", "Cache-Control", "max-age=60");

            Result head = kit.exchange(request("HEAD", API + "/a", CacheMode.DEFAULT));
            kit.exchange(request("HEAD", API + "/a", CacheMode.DEFAULT));

            assertThat(head.cacheStatus()).isEqualTo("sluice; fwd=bypass");
            assertThat(head.trace()).isEqualTo("bypass");
            assertThat(kit.origin.requestCount()).isEqualTo(2);
        }

        @Test
        void passesAGetWithABodyThrough() {
            CacheTestKit kit = new CacheTestKit();
            kit.origin.respond(200, "x", "Cache-Control", "max-age=60");
            var withBody = get(API + "/search").toBuilder()
                    .body(io.sluice.fetch.RequestBody.of("{\"q\":1}".getBytes()))
                    .build();

            kit.exchange(withBody);
            Result second = kit.exchange(withBody);

            assertThat(second.trace()).isEqualTo("bypass");
            assertThat(kit.origin.requestCount()).isEqualTo(2);
        }

        @Test
        void neverStoresAResponseThatSetsACookie() {
            CacheTestKit kit = new CacheTestKit();
            kit.origin.respond(200, "x", "Cache-Control", "max-age=60", "Set-Cookie", "session=1");

            kit.get("/a");
            kit.get("/a");

            assertThat(kit.origin.requestCount()).isEqualTo(2);
        }

        @Test
        void passesThroughWhenThePolicyDisablesCaching() {
            CacheTestKit kit = new CacheTestKit("{enabled: false, max_ttl: 1d}");
            kit.origin.respond(200, "x", "Cache-Control", "max-age=60");

            Result first = kit.get("/a");
            kit.get("/a");

            assertThat(first.cacheStatus()).isEqualTo("sluice; fwd=bypass");
            assertThat(kit.origin.requestCount()).isEqualTo(2);
            assertThat(kit.cache.stats("shop").bypassed()).isEqualTo(2);
        }

        @Test
        void appendsItsMemberToTheUpstreamsCacheStatus() {
            CacheTestKit kit = new CacheTestKit();
            kit.origin.respond(200, "x", "Cache-Control", "max-age=60", "Cache-Status", "CDN; hit");

            assertThat(kit.get("/a").cacheStatus()).isEqualTo("CDN; hit, sluice; fwd=miss; stored");
            assertThat(kit.get("/a").cacheStatus()).isEqualTo("CDN; hit, sluice; hit; ttl=60");
        }

        @Test
        void appendsToAnUpstreamCacheStatusWhateverItsCaseAndKeepsTheOtherFields() {
            CacheTestKit kit = new CacheTestKit();
            kit.origin.respond(200, "", "cache-status", "CDN; fwd=uri-miss", "X-Trace", "t1");

            Result head = kit.exchange(request("HEAD", API + "/a", CacheMode.DEFAULT));

            var fields = head.response().headers();
            assertThat(fields.allValues("Cache-Status")).containsExactly("CDN; fwd=uri-miss, sluice; fwd=bypass");
            assertThat(fields.map().keySet().stream().filter(n -> n.equalsIgnoreCase("cache-status")))
                    .hasSize(1);
            assertThat(fields.allValues("x-trace")).containsExactly("t1");
        }
    }

    @Nested
    class Keying {
        @Test
        void neverServesOneCredentialsResponseToAnother() {
            CacheTestKit kit = new CacheTestKit();
            kit.origin.respond(200, "alice's", "Cache-Control", "max-age=60");
            kit.origin.respond(200, "bob's", "Cache-Control", "max-age=60");

            kit.exchange(get(API + "/me", "Authorization", "Bearer alice"));
            Result bob = kit.exchange(get(API + "/me", "Authorization", "Bearer bob"));
            Result alice = kit.exchange(get(API + "/me", "Authorization", "Bearer alice"));
            Result anonymous = kit.exchange(get(API + "/me"));

            assertThat(bob.body()).isEqualTo("bob's");
            assertThat(alice.body()).isEqualTo("alice's");
            assertThat(alice.trace()).isEqualTo("hit");
            assertThat(anonymous.trace()).isEqualTo("miss");
            assertThat(kit.origin.requestCount()).isEqualTo(3);
        }

        @Test
        void keysOnCookiesLikeCredentials() {
            CacheTestKit kit = new CacheTestKit();
            kit.origin.respond(200, "x", "Cache-Control", "max-age=60");

            kit.exchange(get(API + "/me", "Cookie", "sid=1"));
            kit.exchange(get(API + "/me", "Cookie", "sid=2"));
            kit.exchange(get(API + "/me", "Cookie", "sid=1"));

            assertThat(kit.origin.requestCount()).isEqualTo(2);
        }

        @Test
        void selectsVariantsByTheFieldsVaryNames() {
            CacheTestKit kit = new CacheTestKit();
            kit.origin.respond(200, "hello", "Cache-Control", "max-age=60", "Vary", "Accept-Language");
            kit.origin.respond(200, "hallo", "Cache-Control", "max-age=60", "Vary", "Accept-Language");

            kit.exchange(get(API + "/greet", "Accept-Language", "en"));
            kit.exchange(get(API + "/greet", "Accept-Language", "de"));
            Result en = kit.exchange(get(API + "/greet", "Accept-Language", "en"));
            Result de = kit.exchange(get(API + "/greet", "Accept-Language", "de"));

            assertThat(en.body()).isEqualTo("hello");
            assertThat(de.body()).isEqualTo("hallo");
            assertThat(List.of(en.trace(), de.trace())).containsOnly("hit");
            assertThat(kit.origin.requestCount()).isEqualTo(2);
        }

        @Test
        void neverStoresVaryStar() {
            CacheTestKit kit = new CacheTestKit();
            kit.origin.respond(200, "x", "Cache-Control", "max-age=60", "Vary", "*");

            kit.get("/a");
            kit.get("/a");

            assertThat(kit.origin.requestCount()).isEqualTo(2);
        }

        @Test
        void normalisesSchemeHostAndDefaultPort() {
            CacheTestKit kit = new CacheTestKit();
            kit.origin.respond(200, "x", "Cache-Control", "max-age=60");

            kit.exchange(get("https://api.test/a"));
            Result hit = kit.exchange(get("HTTPS://API.test:443/a#fragment"));

            assertThat(hit.trace()).isEqualTo("hit");
        }

        @Test
        void keepsQueriesApart() {
            CacheTestKit kit = new CacheTestKit();
            kit.origin.respond(200, "x", "Cache-Control", "max-age=60");

            kit.get("/a?page=1");
            kit.get("/a?page=2");

            assertThat(kit.origin.requestCount()).isEqualTo(2);
        }
    }

    @Nested
    class Invalidation {
        @Test
        void unsafeMethodInvalidatesTheTargetUri() {
            CacheTestKit kit = new CacheTestKit();
            kit.origin.respond(200, "v1", "Cache-Control", "max-age=60");
            kit.get("/items/1");
            kit.origin.respond(204, "");
            Result put = kit.exchange(request("PUT", API + "/items/1", CacheMode.DEFAULT));
            kit.origin.respond(200, "v2", "Cache-Control", "max-age=60");

            Result after = kit.get("/items/1");

            assertThat(put.cacheStatus()).isEqualTo("sluice; fwd=bypass");
            assertThat(after.body()).isEqualTo("v2");
            assertThat(kit.origin.requestCount()).isEqualTo(3);
        }

        @Test
        void unsafeMethodInvalidatesSameOriginLocationAndContentLocation() {
            CacheTestKit kit = new CacheTestKit();
            kit.origin.respond(200, "x", "Cache-Control", "max-age=60");
            kit.get("/items/2");
            kit.get("/items/3");
            kit.get("/items");
            kit.origin.respond(201, "", "Location", "/items/2", "Content-Location", "https://api.test/items/3");
            kit.exchange(request("POST", API + "/items", CacheMode.DEFAULT));
            kit.origin.respond(200, "x", "Cache-Control", "max-age=60");

            assertThat(kit.get("/items/2").trace()).isEqualTo("miss");
            assertThat(kit.get("/items/3").trace()).isEqualTo("miss");
            assertThat(kit.get("/items").trace()).isEqualTo("miss");
        }

        @Test
        void leavesOtherOriginsLocationAlone() {
            CacheTestKit kit = new CacheTestKit();
            kit.origin.respond(200, "x", "Cache-Control", "max-age=60");
            kit.get("/items/2");
            kit.origin.respond(201, "", "Location", "https://evil.test/items/2");
            kit.exchange(request("POST", API + "/items", CacheMode.DEFAULT));

            assertThat(kit.get("/items/2").trace()).isEqualTo("hit");
        }

        @Test
        void aGetInFlightDuringAnUnsafeRequestDoesNotStoreTheOldResponse() {
            CacheTestKit kit = new CacheTestKit();
            FakeOrigin.Held slowGet = kit.origin.hold();
            CompletableFuture<FetchOutcome> get = kit.start(get(API + "/items/1"));
            kit.origin.respond(204, "");
            kit.exchange(request("PUT", API + "/items/1", CacheMode.DEFAULT));

            slowGet.answer(200, "before the PUT", "Cache-Control", "max-age=60");
            Bodies.text((FetchResponse) get.join());
            kit.origin.respond(200, "after the PUT", "Cache-Control", "max-age=60");

            assertThat(kit.get("/items/1").body()).isEqualTo("after the PUT");
        }

        @Test
        void survivesHugeFreshnessLifetimes() {
            CacheTestKit kit = new CacheTestKit("{enabled: true, max_ttl: 100000d}");
            kit.origin.respond(200, "x", "Cache-Control", "max-age=99999999999", "ETag", "\"v\"");

            kit.get("/a");
            kit.time.advance(Duration.ofDays(3650));

            assertThat(kit.get("/a").trace()).isEqualTo("hit");
        }

        @Test
        void errorResponseToAnUnsafeMethodInvalidatesNothing() {
            CacheTestKit kit = new CacheTestKit();
            kit.origin.respond(200, "x", "Cache-Control", "max-age=60");
            kit.get("/items/1");
            kit.origin.respond(409, "conflict");
            kit.exchange(request("DELETE", API + "/items/1", CacheMode.DEFAULT));

            assertThat(kit.get("/items/1").trace()).isEqualTo("hit");
        }
    }

    @Nested
    class Revalidation {
        @Test
        void revalidatesWithIfNoneMatchAndServesTheFullResponseOn304() {
            CacheTestKit kit = new CacheTestKit();
            kit.origin.respond(200, "body", "Cache-Control", "max-age=10", "ETag", "\"v1\"", "X-Version", "1");
            kit.get("/a");
            kit.time.advance(Duration.ofSeconds(11));
            kit.origin.respond(304, "", "Cache-Control", "max-age=10", "ETag", "\"v1\"", "X-Version", "2");

            Result revalidated = kit.get("/a");

            assertThat(kit.origin.lastRequest().header("If-None-Match")).contains("\"v1\"");
            assertThat(revalidated.status()).isEqualTo(200);
            assertThat(revalidated.body()).isEqualTo("body");
            assertThat(revalidated.header("X-Version")).isEqualTo("2");
            assertThat(revalidated.header("Content-Length")).isEqualTo("4");
            assertThat(revalidated.cacheStatus()).isEqualTo("sluice; fwd=stale; fwd-status=304; ttl=10");
            assertThat(revalidated.trace()).isEqualTo("revalidated");
            assertThat(kit.get("/a").trace()).isEqualTo("hit");
            assertThat(kit.origin.requestCount()).isEqualTo(2);
        }

        @Test
        void revalidatesWithIfModifiedSince() {
            CacheTestKit kit = new CacheTestKit();
            String lastModified = "Wed, 31 Dec 2025 12:00:00 GMT";
            kit.origin.respond(200, "body", "Cache-Control", "max-age=10", "Last-Modified", lastModified);
            kit.get("/a");
            kit.time.advance(Duration.ofSeconds(11));
            kit.origin.respond(304, "", "Cache-Control", "max-age=10");

            Result revalidated = kit.get("/a");

            assertThat(kit.origin.lastRequest().header("If-Modified-Since")).contains(lastModified);
            assertThat(revalidated.body()).isEqualTo("body");
        }

        @Test
        void storesANeverFreshResponseWithAValidatorFromItsFirstRequestAndRevalidatesTheSecond() {
            CacheTestKit kit = new CacheTestKit();
            kit.origin.respond(200, "body", "Cache-Control", "max-age=0", "ETag", "\"v1\"");
            Result first = kit.get("/a");
            kit.origin.respond(304, "", "ETag", "\"v1\"");

            Result second = kit.get("/a");

            assertThat(first.cacheStatus()).isEqualTo("sluice; fwd=miss; stored");
            assertThat(kit.origin.lastRequest().header("If-None-Match")).contains("\"v1\"");
            assertThat(second.body()).isEqualTo("body");
            assertThat(second.trace()).isEqualTo("revalidated");
            assertThat(kit.origin.requestCount()).isEqualTo(2);
        }

        @Test
        void storesANoCacheResponseFromItsFirstRequest() {
            CacheTestKit kit = new CacheTestKit();
            kit.origin.respond(200, "body", "Cache-Control", "no-cache", "Last-Modified", date(kit));
            kit.get("/a");
            kit.origin.respond(304, "");

            Result second = kit.get("/a");

            assertThat(kit.origin.lastRequest().header("If-Modified-Since")).isPresent();
            assertThat(second.trace()).isEqualTo("revalidated");
        }

        @Test
        void minUsesTwoStoresANeverFreshResponseFromItsSecondRequestAndRevalidatesEachUse() {
            CacheTestKit kit = new CacheTestKit("{enabled: true, max_ttl: 1d, min_uses: 2}");
            kit.origin.respond(200, "body", "ETag", "\"v1\"");
            Result first = kit.get("/a");
            Result second = kit.get("/a");
            kit.origin.respond(304, "", "ETag", "\"v1\"");

            Result third = kit.get("/a");

            // Asked for once, a never-fresh response is not worth a place: the second request stores it.
            assertThat(first.cacheStatus()).isEqualTo("sluice; fwd=miss");
            assertThat(second.cacheStatus()).isEqualTo("sluice; fwd=miss; stored");
            assertThat(third.body()).isEqualTo("body");
            assertThat(third.trace()).isEqualTo("revalidated");
            assertThat(kit.origin.lastRequest().header("If-None-Match")).contains("\"v1\"");
            assertThat(kit.origin.requestCount()).isEqualTo(3);
        }

        @Test
        void minUsesTwoStoresAFreshResponseOnItsFirstRequestAndDistinctNeverFreshOnesNotAtAll() {
            CacheTestKit kit = new CacheTestKit("{enabled: true, max_ttl: 1d, min_uses: 2}");
            kit.origin.respond(200, "fresh", "Cache-Control", "max-age=60", "ETag", "\"f\"");
            Result fresh = kit.get("/fresh");
            kit.origin.respond(200, "body", "ETag", "\"v1\"");
            List<Result> distinct = new ArrayList<>();
            for (int i = 0; i < 50; i++) distinct.add(kit.get("/item?u=" + i));

            assertThat(fresh.cacheStatus()).isEqualTo("sluice; fwd=miss; stored");
            assertThat(distinct).extracting(Result::cacheStatus).containsOnly("sluice; fwd=miss");
            assertThat(kit.get("/fresh").trace()).isEqualTo("hit");
        }

        @Test
        void replacesTheEntryWhenTheUpstreamSendsANewResponse() {
            CacheTestKit kit = new CacheTestKit();
            kit.origin.respond(200, "old", "Cache-Control", "max-age=10", "ETag", "\"v1\"");
            kit.get("/a");
            kit.time.advance(Duration.ofSeconds(11));
            kit.origin.respond(200, "new", "Cache-Control", "max-age=10", "ETag", "\"v2\"");

            Result changed = kit.get("/a");
            Result hit = kit.get("/a");

            assertThat(changed.body()).isEqualTo("new");
            assertThat(changed.cacheStatus()).isEqualTo("sluice; fwd=stale; fwd-status=200; stored");
            assertThat(changed.trace()).isEqualTo("miss");
            assertThat(hit.body()).isEqualTo("new");
            assertThat(hit.trace()).isEqualTo("hit");
        }

        @Test
        void fetchesInFullWhenA304DescribesAnotherRepresentation() {
            CacheTestKit kit = new CacheTestKit();
            kit.origin.respond(200, "old", "Cache-Control", "max-age=10", "ETag", "\"v1\"");
            kit.get("/a");
            kit.time.advance(Duration.ofSeconds(11));
            kit.origin.respond(304, "", "ETag", "\"v9\"");
            kit.origin.respond(200, "new", "Cache-Control", "max-age=10", "ETag", "\"v9\"");

            Result result = kit.get("/a");

            assertThat(result.body()).isEqualTo("new");
            assertThat(kit.origin.lastRequest().header("If-None-Match")).isEmpty();
        }
    }

    @Nested
    class Stale {
        @Test
        void servesStaleWhileOneBackgroundRevalidationRuns() {
            CacheTestKit kit = new CacheTestKit();
            kit.origin.respond(200, "old", "Cache-Control", "max-age=10, stale-while-revalidate=60", "ETag", "\"v1\"");
            kit.get("/a");
            kit.time.advance(Duration.ofSeconds(15));
            FakeOrigin.Held revalidation = kit.origin.hold();

            List<Result> stale =
                    IntStream.range(0, 3).mapToObj(i -> kit.get("/a")).toList();

            assertThat(stale).extracting(Result::body).containsOnly("old");
            assertThat(stale)
                    .extracting(Result::cacheStatus)
                    .containsOnly("sluice; hit; ttl=-5; detail=stale-while-revalidate");
            assertThat(stale).extracting(Result::trace).containsOnly("stale");
            assertThat(kit.origin.requestCount()).isEqualTo(2);
            assertThat(kit.origin.lastRequest().header("If-None-Match")).contains("\"v1\"");

            revalidation.answer(304, "", "Cache-Control", "max-age=10, stale-while-revalidate=60");
            Result fresh = kit.get("/a");

            assertThat(fresh.cacheStatus()).isEqualTo("sluice; hit; ttl=10");
            assertThat(kit.origin.requestCount()).isEqualTo(2);
            assertThat(kit.cache.stats("shop").stale()).isEqualTo(3);
        }

        @Test
        void storesTheNewBodyABackgroundRevalidationBrings() {
            CacheTestKit kit = new CacheTestKit();
            kit.origin.respond(200, "old", "Cache-Control", "max-age=10, stale-while-revalidate=60", "ETag", "\"v1\"");
            kit.get("/a");
            kit.time.advance(Duration.ofSeconds(15));
            kit.origin.respond(200, "new", "Cache-Control", "max-age=10", "ETag", "\"v2\"");

            Result stale = kit.get("/a");
            Result fresh = kit.get("/a");

            assertThat(stale.body()).isEqualTo("old");
            assertThat(fresh.body()).isEqualTo("new");
            assertThat(fresh.trace()).isEqualTo("hit");
            assertThat(kit.origin.requestCount()).isEqualTo(2);
        }

        @Test
        void revalidatesInTheForegroundOnceTheAllowanceHasPassed() {
            CacheTestKit kit = new CacheTestKit();
            kit.origin.respond(200, "old", "Cache-Control", "max-age=10, stale-while-revalidate=5", "ETag", "\"v1\"");
            kit.get("/a");
            kit.time.advance(Duration.ofSeconds(16));
            kit.origin.respond(200, "new", "Cache-Control", "max-age=10");

            Result result = kit.get("/a");

            assertThat(result.body()).isEqualTo("new");
            assertThat(result.trace()).isEqualTo("miss");
        }

        @Test
        void servesStaleWhenTheUpstreamFails() {
            CacheTestKit kit = new CacheTestKit();
            kit.origin.respond(200, "old", "Cache-Control", "max-age=10, stale-if-error=60");
            kit.get("/a");
            kit.time.advance(Duration.ofSeconds(20));
            kit.origin.fail(new FetchException(ErrorType.CONNECT, "connection refused"));
            kit.origin.respond(503, "down");

            Result onConnectError = kit.get("/a");
            Result on503 = kit.get("/a");

            assertThat(onConnectError.body()).isEqualTo("old");
            assertThat(onConnectError.cacheStatus()).isEqualTo("sluice; fwd=stale; ttl=-10; detail=stale-if-error");
            assertThat(onConnectError.trace()).isEqualTo("stale");
            assertThat(on503.status()).isEqualTo(200);
            assertThat(on503.body()).isEqualTo("old");
            assertThat(on503.cacheStatus())
                    .isEqualTo("sluice; fwd=stale; fwd-status=503; ttl=-10; detail=stale-if-error");
        }

        @Test
        void failsOnceTheStaleIfErrorAllowanceHasPassed() {
            CacheTestKit kit = new CacheTestKit();
            kit.origin.respond(200, "old", "Cache-Control", "max-age=10, stale-if-error=60");
            kit.get("/a");
            kit.time.advance(Duration.ofSeconds(71));
            kit.origin.fail(new FetchException(ErrorType.CONNECT, "connection refused"));

            FetchOutcome outcome = kit.start(get(API + "/a")).join();

            assertThat(outcome)
                    .isInstanceOfSatisfying(
                            FetchFailure.class, f -> assertThat(f.type()).isEqualTo(ErrorType.CONNECT));
        }

        @Test
        void neverServesStaleWhenTheUpstreamSaysMustRevalidate() {
            CacheTestKit kit = new CacheTestKit();
            kit.origin.respond(
                    200,
                    "old",
                    "Cache-Control",
                    "max-age=10, must-revalidate, stale-if-error=60, stale-while-revalidate=60");
            kit.get("/a");
            kit.time.advance(Duration.ofSeconds(11));
            kit.origin.respond(503, "down");

            Result result = kit.get("/a");

            assertThat(result.status()).isEqualTo(503);
            assertThat(result.body()).isEqualTo("down");
        }

        @Test
        void servesStaleTheClientAcceptsWithMaxStale() {
            CacheTestKit kit = new CacheTestKit();
            // Kept past its freshness because it can be revalidated.
            kit.origin.respond(200, "old", "Cache-Control", "max-age=10", "ETag", "\"v1\"");
            kit.get("/a");
            kit.time.advance(Duration.ofSeconds(15));

            Result result = kit.exchange(get(API + "/a", "Cache-Control", "max-stale=10"));

            assertThat(result.body()).isEqualTo("old");
            assertThat(result.cacheStatus()).isEqualTo("sluice; hit; ttl=-5");
            assertThat(kit.origin.requestCount()).isEqualTo(1);
        }
    }

    /** RFC 9111 §4.2.4: a response already stale when it arrives, and a client that accepts staleness. */
    @Nested
    class StaleOnArrival {
        @Test
        void storesAResponseThatArrivesStaleAndServesItOnlyToMaxStale() {
            CacheTestKit kit = new CacheTestKit();
            kit.origin.respond(200, "old", "Cache-Control", "max-age=1500", "Age", "2000");

            Result first = kit.get("/a");
            Result accepting = kit.exchange(get(API + "/a", "Cache-Control", "max-stale=1000"));
            Result bounded = kit.exchange(get(API + "/a", "Cache-Control", "max-stale=100"));
            Result plain = kit.get("/a");

            assertThat(first.cacheStatus()).isEqualTo("sluice; fwd=miss; stored");
            assertThat(accepting.body()).isEqualTo("old");
            assertThat(accepting.header("Age")).isEqualTo("2000");
            assertThat(accepting.cacheStatus()).isEqualTo("sluice; hit; ttl=-500");
            assertThat(accepting.trace()).isEqualTo("stale");
            assertThat(bounded.trace()).isNotEqualTo("stale");
            assertThat(plain.trace()).isNotIn("hit", "stale");
            assertThat(kit.origin.requestCount()).isEqualTo(3);
        }

        @Test
        void unboundedMaxStaleTakesAnyStaleness() {
            CacheTestKit kit = new CacheTestKit();
            kit.origin.respond(200, "old", "Cache-Control", "max-age=10", "Date", date(kit, Duration.ofMinutes(-10)));
            kit.get("/a");
            kit.time.advance(Duration.ofHours(1));

            Result result = kit.exchange(get(API + "/a", "Cache-Control", "max-stale"));

            assertThat(result.body()).isEqualTo("old");
            assertThat(result.trace()).isEqualTo("stale");
            assertThat(kit.origin.requestCount()).isEqualTo(1);
        }

        @Test
        void neverStoresWhatTheOriginMarkedExpiredOrMustRevalidate() {
            CacheTestKit kit = new CacheTestKit();
            kit.origin.respond(200, "x", "Expires", "0");
            kit.get("/expires");
            kit.origin.respond(200, "x", "Cache-Control", "max-age=10, must-revalidate", "Age", "20");
            kit.get("/must");

            assertThat(kit.exchange(get(API + "/expires", "Cache-Control", "max-stale"))
                            .trace())
                    .isEqualTo("miss");
            assertThat(kit.exchange(get(API + "/must", "Cache-Control", "max-stale"))
                            .trace())
                    .isEqualTo("miss");
            assertThat(kit.origin.requestCount()).isEqualTo(4);
        }
    }

    @Nested
    class Coalescing {
        @Test
        void collapsesConcurrentIdenticalMissesIntoOneUpstreamCall() {
            CacheTestKit kit = new CacheTestKit();
            FakeOrigin.Held held = kit.origin.hold();

            List<CompletableFuture<FetchOutcome>> calls = kit.startMany(5, "/a");
            assertThat(kit.origin.requestCount()).isEqualTo(1);
            held.answer(200, "shared", "Cache-Control", "max-age=60");
            // The leader streams to its client first; the others are answered once it is stored.
            FetchResponse leader = (FetchResponse) calls.get(0).join();
            assertThat(Bodies.text(leader)).isEqualTo("shared");
            List<FetchResponse> followers = calls.subList(1, 5).stream()
                    .map(c -> (FetchResponse) c.join())
                    .toList();

            assertThat(followers).extracting(Bodies::text).containsOnly("shared");
            assertThat(followers)
                    .extracting(r -> r.headers().firstValue("Cache-Status").orElseThrow())
                    .containsOnly("sluice; fwd=miss; collapsed; ttl=60");
            assertThat(kit.origin.requestCount()).isEqualTo(1);
            assertThat(kit.cache.stats("shop").coalesced()).isEqualTo(4);
            assertThat(kit.cache.stats("shop").misses()).isEqualTo(1);
        }

        @Test
        void followersOfAFirstNeverFreshMissAreStillAnsweredFromTheLeadersResponse() {
            CacheTestKit kit = new CacheTestKit();
            FakeOrigin.Held held = kit.origin.hold();

            List<CompletableFuture<FetchOutcome>> calls = kit.startMany(3, "/etag-only");
            // The followers count as the URL's further requests, so the leader stores what they wait for.
            held.answer(200, "shared", "ETag", "\"v1\"");

            assertThat(calls)
                    .extracting(c -> Bodies.text((FetchResponse) c.join()))
                    .containsOnly("shared");
            assertThat(kit.origin.requestCount()).isEqualTo(1);
        }

        @Test
        void followersShareTheLeadersUpstreamFailureAndNothingIsCached() {
            CacheTestKit kit = new CacheTestKit();
            FakeOrigin.Held held = kit.origin.hold();
            List<CompletableFuture<FetchOutcome>> calls = kit.startMany(3, "/a");

            held.fail(new FetchException(ErrorType.CONNECT, "connection refused"));

            assertThat(calls)
                    .extracting(CompletableFuture::join)
                    .allSatisfy(o -> assertThat(o)
                            .isInstanceOfSatisfying(
                                    FetchFailure.class,
                                    f -> assertThat(f.type()).isEqualTo(ErrorType.CONNECT)));
            assertThat(kit.origin.requestCount()).isEqualTo(1);
            kit.origin.respond(200, "ok", "Cache-Control", "max-age=60");
            assertThat(kit.get("/a").body()).isEqualTo("ok");
            assertThat(kit.origin.requestCount()).isEqualTo(2);
        }

        @Test
        void followersElectANewLeaderWhenTheLeaderIsCancelled() {
            CacheTestKit kit = new CacheTestKit();
            FakeOrigin.Held first = kit.origin.hold();
            var leaderCall = kit.pipeline.newCall(get(API + "/a"));
            leaderCall.execute();
            List<CompletableFuture<FetchOutcome>> followers = kit.startMany(3, "/a");
            FakeOrigin.Held second = kit.origin.hold();

            leaderCall.cancel(new FetchException(ErrorType.CANCELLED, "client went away"));

            assertThat(kit.origin.requestCount()).isEqualTo(2);
            second.answer(200, "ok", "Cache-Control", "max-age=60");
            // One of them led the second attempt; it has its response, the rest wait for its body.
            List<CompletableFuture<FetchOutcome>> led =
                    followers.stream().filter(CompletableFuture::isDone).toList();
            assertThat(led).hasSize(1);
            assertThat(Bodies.text((FetchResponse) led.get(0).join())).isEqualTo("ok");
            assertThat(followers)
                    .extracting(c -> ((FetchResponse) c.join()).trace().cacheStatus())
                    .containsOnly("miss");
            assertThat(kit.origin.requestCount()).isEqualTo(2);
            first.fail(new FetchException(ErrorType.CANCELLED, "cancelled"));
        }

        @Test
        void followersGoUpstreamThemselvesWhenTheResponseCannotBeShared() {
            CacheTestKit kit = new CacheTestKit();
            FakeOrigin.Held held = kit.origin.hold();
            List<CompletableFuture<FetchOutcome>> calls = kit.startMany(3, "/a");
            kit.origin.respond(200, "mine", "Cache-Control", "no-store");

            held.answer(200, "private", "Cache-Control", "no-store");

            assertThat(Bodies.text((FetchResponse) calls.get(0).join())).isEqualTo("private");
            List<FetchResponse> followers = calls.subList(1, 3).stream()
                    .map(c -> (FetchResponse) c.join())
                    .toList();
            assertThat(followers).extracting(Bodies::text).containsOnly("mine");
            assertThat(followers)
                    .extracting(r -> r.headers().firstValue("Cache-Status").orElseThrow())
                    .containsOnly("sluice; fwd=miss; collapsed=?0");
            assertThat(kit.origin.requestCount()).isEqualTo(3);
        }

        @Test
        void followersOfAFailedRevalidationGetTheStaleEntryWhenAllowed() {
            CacheTestKit kit = new CacheTestKit();
            kit.origin.respond(200, "old", "Cache-Control", "max-age=10, stale-if-error=600", "ETag", "\"v1\"");
            kit.get("/a");
            kit.time.advance(Duration.ofSeconds(11));
            FakeOrigin.Held held = kit.origin.hold();
            List<CompletableFuture<FetchOutcome>> calls = kit.startMany(3, "/a");

            held.fail(new FetchException(ErrorType.UPSTREAM_RESET, "reset"));

            assertThat(calls)
                    .extracting(c -> Bodies.text((FetchResponse) c.join()))
                    .containsOnly("old");
            assertThat(calls.subList(1, 3))
                    .extracting(c -> ((FetchResponse) c.join())
                            .headers()
                            .firstValue("Cache-Status")
                            .orElseThrow())
                    .containsOnly("sluice; fwd=stale; collapsed; ttl=-1; detail=stale-if-error");
            assertThat(kit.origin.requestCount()).isEqualTo(2);
        }

        @Test
        void followersLookAgainWhenTheLeadersClientCancelsItsBody() {
            CacheTestKit kit = new CacheTestKit();
            FakeOrigin.Held held = kit.origin.hold();
            CompletableFuture<FetchOutcome> leader = kit.start(get(API + "/a"));
            CompletableFuture<FetchOutcome> follower = kit.start(get(API + "/a"));
            kit.origin.respond(200, "again", "Cache-Control", "max-age=60");

            held.answer(200, "first", "Cache-Control", "max-age=60");
            ((FetchResponse) leader.join()).body().discard();

            assertThat(Bodies.text((FetchResponse) follower.join())).isEqualTo("again");
            assertThat(kit.origin.requestCount()).isEqualTo(2);
        }

        @Test
        void aFollowersOwnDeadlineEndsItsWait() {
            CacheTestKit kit = new CacheTestKit();
            var pipeline = new io.sluice.fetch.Pipeline(
                    kit.standard()
                            .deadline(new io.sluice.fetch.DeadlineStage(kit.time))
                            .stages(),
                    kit.time);
            FakeOrigin.Held held = kit.origin.hold();
            CompletableFuture<FetchOutcome> leader =
                    pipeline.newCall(get(API + "/a")).execute();
            CompletableFuture<FetchOutcome> follower = pipeline.newCall(
                            io.sluice.fetch.FetchRequest.builder("GET", java.net.URI.create(API + "/a"))
                                    .headers(FakeOrigin.headers(-1))
                                    .timeout(java.util.Optional.of(Duration.ofSeconds(2)))
                                    .build())
                    .execute();

            kit.time.advance(Duration.ofSeconds(3));

            assertThat(follower.join())
                    .isInstanceOfSatisfying(
                            FetchFailure.class, f -> assertThat(f.type()).isEqualTo(ErrorType.TIMEOUT));
            assertThat(leader).isNotDone();
            held.answer(200, "late", "Cache-Control", "max-age=60");
            assertThat(Bodies.text((FetchResponse) leader.join())).isEqualTo("late");
        }

        @Test
        void collapsesConcurrentRevalidations() {
            CacheTestKit kit = new CacheTestKit();
            kit.origin.respond(200, "body", "Cache-Control", "max-age=10", "ETag", "\"v1\"");
            kit.get("/a");
            kit.time.advance(Duration.ofSeconds(11));
            FakeOrigin.Held held = kit.origin.hold();
            List<CompletableFuture<FetchOutcome>> calls = kit.startMany(3, "/a");

            held.answer(304, "", "Cache-Control", "max-age=10");

            assertThat(calls)
                    .extracting(c -> Bodies.text((FetchResponse) c.join()))
                    .containsOnly("body");
            assertThat(kit.origin.requestCount()).isEqualTo(2);
            assertThat(calls.subList(1, 3))
                    .extracting(c -> ((FetchResponse) c.join()).trace().cacheStatus())
                    .containsOnly("revalidated");
        }

        @Test
        void doesNotCollapseRequestsThatAKnownVaryTellsApart() {
            CacheTestKit kit = new CacheTestKit();
            kit.origin.respond(200, "hello", "Cache-Control", "max-age=1", "Vary", "Accept-Language", "ETag", "\"en\"");
            kit.exchange(get(API + "/greet", "Accept-Language", "en"));
            kit.time.advance(Duration.ofSeconds(2));
            FakeOrigin.Held en = kit.origin.hold();
            FakeOrigin.Held de = kit.origin.hold();

            kit.start(get(API + "/greet", "Accept-Language", "en"));
            kit.start(get(API + "/greet", "Accept-Language", "de"));

            assertThat(kit.origin.requestCount()).isEqualTo(3);
            en.fail(new FetchException(ErrorType.CANCELLED, "done"));
            de.fail(new FetchException(ErrorType.CANCELLED, "done"));
        }
    }

    @Nested
    class ClientControl {
        @Test
        void noCacheRevalidatesEvenAFreshEntry() {
            CacheTestKit kit = new CacheTestKit();
            kit.origin.respond(200, "body", "Cache-Control", "max-age=60", "ETag", "\"v1\"");
            kit.get("/a");
            kit.origin.respond(304, "", "Cache-Control", "max-age=60");

            Result result = kit.exchange(get(API + "/a", "Cache-Control", "no-cache"));

            assertThat(kit.origin.lastRequest().header("If-None-Match")).contains("\"v1\"");
            assertThat(result.body()).isEqualTo("body");
            assertThat(result.cacheStatus()).isEqualTo("sluice; fwd=request; fwd-status=304; ttl=60");
        }

        @Test
        void pragmaNoCacheCountsWithoutCacheControl() {
            CacheTestKit kit = new CacheTestKit();
            kit.origin.respond(200, "body", "Cache-Control", "max-age=60");
            kit.get("/a");

            kit.exchange(get(API + "/a", "Pragma", "no-cache"));

            assertThat(kit.origin.requestCount()).isEqualTo(2);
        }

        @Test
        void noStoreNeitherReadsNorStores() {
            CacheTestKit kit = new CacheTestKit();
            kit.origin.respond(200, "v1", "Cache-Control", "max-age=60");
            kit.get("/a");
            kit.origin.respond(200, "v2", "Cache-Control", "max-age=60");

            Result bypassed = kit.exchange(get(API + "/a", "Cache-Control", "no-store"));
            Result hit = kit.get("/a");

            assertThat(bypassed.body()).isEqualTo("v2");
            assertThat(bypassed.cacheStatus()).isEqualTo("sluice; fwd=bypass");
            assertThat(bypassed.trace()).isEqualTo("bypass");
            assertThat(hit.body()).isEqualTo("v1");
        }

        @Test
        void onlyIfCachedAnswers504OnAMiss() {
            CacheTestKit kit = new CacheTestKit();

            Result miss = kit.exchange(get(API + "/a", "Cache-Control", "only-if-cached"));

            assertThat(miss.status()).isEqualTo(504);
            assertThat(miss.cacheStatus()).isEqualTo("sluice; detail=only-if-cached");
            assertThat(kit.origin.requestCount()).isZero();
        }

        @Test
        void onlyIfCachedAnswersFromAFreshEntryButNotAStaleOne() {
            CacheTestKit kit = new CacheTestKit();
            kit.origin.respond(200, "body", "Cache-Control", "max-age=10");
            kit.get("/a");

            Result hit = kit.exchange(get(API + "/a", "Cache-Control", "only-if-cached"));
            kit.time.advance(Duration.ofSeconds(11));
            Result stale = kit.exchange(get(API + "/a", "Cache-Control", "only-if-cached"));

            assertThat(hit.body()).isEqualTo("body");
            assertThat(stale.status()).isEqualTo(504);
            assertThat(kit.origin.requestCount()).isEqualTo(1);
        }

        @Test
        void frontDoorCacheModesActLikeTheDirectives() {
            CacheTestKit kit = new CacheTestKit();
            assertThat(kit.exchange(request("GET", API + "/a", CacheMode.ONLY_IF_CACHED))
                            .status())
                    .isEqualTo(504);
            kit.origin.respond(200, "v1", "Cache-Control", "max-age=60", "ETag", "\"v1\"");
            kit.get("/a");

            kit.origin.respond(200, "v2", "Cache-Control", "max-age=60");
            assertThat(kit.exchange(request("GET", API + "/a", CacheMode.BYPASS))
                            .trace())
                    .isEqualTo("bypass");
            kit.origin.respond(304, "", "Cache-Control", "max-age=60");
            assertThat(kit.exchange(request("GET", API + "/a", CacheMode.REVALIDATE))
                            .trace())
                    .isEqualTo("revalidated");
            assertThat(kit.exchange(request("GET", API + "/a", CacheMode.ONLY_IF_CACHED))
                            .body())
                    .isEqualTo("v1");
        }

        @Test
        void clientMaxAgeRefusesOlderEntries() {
            CacheTestKit kit = new CacheTestKit();
            kit.origin.respond(200, "body", "Cache-Control", "max-age=60");
            kit.get("/a");
            kit.time.advance(Duration.ofSeconds(20));

            kit.exchange(get(API + "/a", "Cache-Control", "max-age=10"));

            assertThat(kit.origin.requestCount()).isEqualTo(2);
        }

        @Test
        void originPreconditionsAndRangesPassThrough() {
            CacheTestKit kit = new CacheTestKit();
            kit.origin.respond(200, "body", "Cache-Control", "max-age=60", "ETag", "\"v1\"");
            kit.get("/a");
            kit.origin.respond(412, "", "ETag", "\"v1\"");

            Result conditional = kit.exchange(get(API + "/a", "If-Match", "\"v2\""));

            assertThat(conditional.status()).isEqualTo(412);
            assertThat(conditional.trace()).isEqualTo("bypass");
            assertThat(kit.exchange(get(API + "/a", "Range", "bytes=0-1")).trace())
                    .isEqualTo("bypass");
            assertThat(kit.get("/a").trace()).isEqualTo("hit");
        }
    }

    /** RFC 9111 §4.3.2 and RFC 9110 §13.2: a client's own validators against what is stored. */
    @Nested
    class ConditionalRequests {
        @Test
        void answers304ItselfWhenIfNoneMatchMatchesAFreshEntry() {
            CacheTestKit kit = new CacheTestKit();
            kit.origin.respond(
                    200,
                    "body",
                    "Cache-Control",
                    "max-age=60",
                    "ETag",
                    "\"v1\"",
                    "Date",
                    date(kit),
                    "Vary",
                    "Accept",
                    "Content-Location",
                    "/a.json",
                    "Content-Type",
                    "text/plain",
                    "X-Other",
                    "x");
            kit.get("/a");
            kit.time.advance(Duration.ofSeconds(10));

            Result result = kit.exchange(get(API + "/a", "If-None-Match", "\"v0\", W/\"v1\""));

            assertThat(result.status()).isEqualTo(304);
            assertThat(result.body()).isEmpty();
            assertThat(result.header("ETag")).isEqualTo("\"v1\"");
            assertThat(result.header("Cache-Control")).isEqualTo("max-age=60");
            assertThat(result.header("Vary")).isEqualTo("Accept");
            assertThat(result.header("Content-Location")).isEqualTo("/a.json");
            assertThat(result.header("Date")).isNotNull();
            assertThat(result.header("Age")).isEqualTo("10");
            assertThat(result.header("Content-Type")).isNull();
            assertThat(result.header("X-Other")).isNull();
            assertThat(result.cacheStatus()).isEqualTo("sluice; hit; ttl=50");
            assertThat(result.trace()).isEqualTo("hit");
            assertThat(kit.origin.requestCount()).isEqualTo(1);
        }

        @Test
        void comparesWeakTagsWeaklyAndMatchesStar() {
            CacheTestKit kit = new CacheTestKit();
            kit.origin.respond(200, "body", "Cache-Control", "max-age=60", "ETag", "W/\"v1\"");
            kit.get("/a");

            assertThat(kit.exchange(get(API + "/a", "If-None-Match", "\"v1\"")).status())
                    .isEqualTo(304);
            assertThat(kit.exchange(get(API + "/a", "If-None-Match", "*")).status())
                    .isEqualTo(304);
            assertThat(kit.origin.requestCount()).isEqualTo(1);
        }

        @Test
        void servesTheStoredResponseWhenTheTagDoesNotMatch() {
            CacheTestKit kit = new CacheTestKit();
            kit.origin.respond(200, "body", "Cache-Control", "max-age=60", "ETag", "\"v1\"");
            kit.get("/a");

            Result result = kit.exchange(get(API + "/a", "If-None-Match", "\"v2\""));

            assertThat(result.status()).isEqualTo(200);
            assertThat(result.body()).isEqualTo("body");
            assertThat(result.cacheStatus()).isEqualTo("sluice; hit; ttl=60");
            assertThat(kit.origin.requestCount()).isEqualTo(1);
        }

        @Test
        void answersIfModifiedSinceFromLastModified() {
            CacheTestKit kit = new CacheTestKit();
            String lastModified = date(kit, Duration.ofHours(-1));
            kit.origin.respond(200, "body", "Cache-Control", "max-age=60", "Last-Modified", lastModified);
            kit.get("/a");

            Result same = kit.exchange(get(API + "/a", "If-Modified-Since", lastModified));
            Result earlier = kit.exchange(get(API + "/a", "If-Modified-Since", date(kit, Duration.ofHours(-2))));
            Result invalid = kit.exchange(get(API + "/a", "If-Modified-Since", "yesterday"));

            assertThat(same.status()).isEqualTo(304);
            assertThat(earlier.status()).isEqualTo(200);
            assertThat(earlier.body()).isEqualTo("body");
            assertThat(invalid.status()).isEqualTo(200);
            assertThat(kit.origin.requestCount()).isEqualTo(1);
        }

        @Test
        void ifModifiedSinceFallsBackToDate() {
            CacheTestKit kit = new CacheTestKit();
            kit.origin.respond(200, "body", "Cache-Control", "max-age=60", "Date", date(kit));
            kit.get("/a");

            Result result = kit.exchange(get(API + "/a", "If-Modified-Since", date(kit, Duration.ofSeconds(5))));

            assertThat(result.status()).isEqualTo(304);
        }

        @Test
        void ignoresIfModifiedSinceWhenIfNoneMatchIsPresent() {
            CacheTestKit kit = new CacheTestKit();
            String lastModified = date(kit, Duration.ofHours(-1));
            kit.origin.respond(
                    200, "body", "Cache-Control", "max-age=60", "ETag", "\"v1\"", "Last-Modified", lastModified);
            kit.get("/a");

            Result result = kit.exchange(get(API + "/a", "If-None-Match", "\"v2\"", "If-Modified-Since", date(kit)));

            assertThat(result.status()).isEqualTo(200);
            assertThat(result.body()).isEqualTo("body");
        }

        @Test
        void forwardsUnchangedAndStoresNothingWhenTheEntryIsStaleOrAbsent() {
            CacheTestKit kit = new CacheTestKit();
            kit.origin.respond(304, "", "ETag", "\"v1\"", "Cache-Control", "max-age=60");

            Result absent = kit.exchange(get(API + "/a", "If-None-Match", "\"v1\""));

            assertThat(absent.status()).isEqualTo(304);
            assertThat(absent.cacheStatus()).isEqualTo("sluice; fwd=bypass");
            assertThat(kit.origin.lastRequest().header("If-None-Match")).contains("\"v1\"");

            kit.origin.respond(200, "body", "Cache-Control", "max-age=10", "ETag", "\"v1\"");
            kit.get("/b");
            kit.time.advance(Duration.ofSeconds(11));
            kit.origin.respond(304, "", "ETag", "\"v1\"");
            Result stale = kit.exchange(get(API + "/b", "If-None-Match", "\"v1\""));

            assertThat(stale.status()).isEqualTo(304);
            assertThat(stale.trace()).isEqualTo("bypass");
            assertThat(kit.origin.requestCount()).isEqualTo(3);
        }

        @Test
        void clientNoCacheStillGoesToTheOrigin() {
            CacheTestKit kit = new CacheTestKit();
            kit.origin.respond(200, "body", "Cache-Control", "max-age=60", "ETag", "\"v1\"");
            kit.get("/a");
            kit.origin.respond(304, "", "ETag", "\"v1\"");

            Result result = kit.exchange(get(API + "/a", "If-None-Match", "\"v1\"", "Cache-Control", "no-cache"));

            assertThat(result.trace()).isEqualTo("bypass");
            assertThat(kit.origin.requestCount()).isEqualTo(2);
        }
    }

    @Nested
    class Storage {
        @Test
        void streamsABodyOverTheEntryLimitToTheClientWithoutStoringIt() {
            CacheTestKit kit = new CacheTestKit(
                    "{enabled: true, max_ttl: 1d}", new CacheConfig(DataSize.ofKilobytes(64), DataSize.ofBytes(10)));
            kit.origin.respondStreaming(200, List.of("01234", "56789", "abcde"), "Cache-Control", "max-age=60");

            Result first = kit.get("/big");
            Result second = kit.get("/big");

            assertThat(first.body()).isEqualTo("0123456789abcde");
            assertThat(second.body()).isEqualTo("0123456789abcde");
            assertThat(kit.origin.requestCount()).isEqualTo(2);
            assertThat(kit.cache.inFlight.used()).isZero();
        }

        @Test
        void storesAStreamedBodyWithinTheEntryLimit() {
            CacheTestKit kit = new CacheTestKit(
                    "{enabled: true, max_ttl: 1d}", new CacheConfig(DataSize.ofKilobytes(64), DataSize.ofBytes(10)));
            kit.origin.respondStreaming(200, List.of("01234", "56789"), "Cache-Control", "max-age=60");

            kit.get("/fits");
            Result hit = kit.get("/fits");

            assertThat(hit.body()).isEqualTo("0123456789");
            assertThat(hit.trace()).isEqualTo("hit");
        }

        @Test
        void doesNotStartCopyingWhenContentLengthIsOverTheEntryLimit() {
            CacheTestKit kit = new CacheTestKit(
                    "{enabled: true, max_ttl: 1d}", new CacheConfig(DataSize.ofKilobytes(64), DataSize.ofBytes(10)));
            kit.origin.respond(200, "0123456789abcdef", "Cache-Control", "max-age=60");

            Result first = kit.get("/big");

            assertThat(first.cacheStatus()).isEqualTo("sluice; fwd=miss");
            assertThat(first.body()).isEqualTo("0123456789abcdef");
        }

        @Test
        void capsTheBytesBeingCopiedAtOnce() {
            CacheTestKit kit = new CacheTestKit(
                    "{enabled: true, max_ttl: 1d}",
                    new CacheConfig(DataSize.ofKilobytes(64), DataSize.ofBytes(10), DataSize.ofBytes(12)));
            kit.origin.respondStreaming(200, List.of("0123456789"), "Cache-Control", "max-age=60");
            FetchResponse a = kit.fetch(get(API + "/a"));
            kit.origin.respondStreaming(200, List.of("0123456789"), "Cache-Control", "max-age=60");
            FetchResponse b = kit.fetch(get(API + "/b"));

            // Both stream at once: /a's copy holds 10 of the 12 bytes, so /b's is refused.
            var subscriptionA =
                    new java.util.concurrent.atomic.AtomicReference<java.util.concurrent.Flow.Subscription>();
            a.body().subscribe(new java.util.concurrent.Flow.Subscriber<>() {
                @Override
                public void onSubscribe(java.util.concurrent.Flow.Subscription s) {
                    subscriptionA.set(s);
                    s.request(1);
                }

                @Override
                public void onNext(List<java.nio.ByteBuffer> item) {}

                @Override
                public void onError(Throwable t) {}

                @Override
                public void onComplete() {}
            });
            assertThat(kit.cache.inFlight.used()).isEqualTo(10);
            assertThat(Bodies.text(b)).isEqualTo("0123456789");
            subscriptionA.get().request(1);

            assertThat(kit.get("/a").trace()).isEqualTo("hit");
            assertThat(kit.get("/b").trace()).isEqualTo("miss");
            assertThat(kit.cache.inFlight.used()).isZero();
        }

        @Test
        void staysWithinTheByteBound() {
            CacheTestKit kit = new CacheTestKit(
                    "{enabled: true, max_ttl: 1d}", new CacheConfig(DataSize.ofKilobytes(8), DataSize.ofKilobytes(2)));
            String body = "x".repeat(1000);
            kit.origin.respond(200, body, "Cache-Control", "max-age=60");

            for (int i = 0; i < 50; i++) kit.get("/item/" + i);

            assertThat(kit.cache.sizeBytes()).isPositive().isLessThanOrEqualTo(8 * 1024);
            long stored = IntStream.range(0, 50)
                    .filter(i -> kit.exchange(get(API + "/item/" + i, "Cache-Control", "only-if-cached"))
                                    .status()
                            == 200)
                    .count();
            assertThat(stored).isBetween(1L, 8L);
            assertThat(kit.cache.stats("shop").bytesStored()).isEqualTo(kit.cache.sizeBytes());
        }

        @Test
        void expiredEntriesLeaveTheStore() {
            CacheTestKit kit = new CacheTestKit();
            kit.origin.respond(200, "x", "Cache-Control", "max-age=10");
            kit.get("/a");
            assertThat(kit.cache.sizeBytes()).isPositive();

            kit.time.advance(Duration.ofSeconds(11));

            assertThat(kit.cache.sizeBytes()).isZero();
            assertThat(kit.cache.stats("shop").bytesStored()).isZero();
        }
    }

    @Nested
    class AdminSurface {
        private CacheTestKit filled() {
            CacheTestKit kit = new CacheTestKit();
            kit.origin.respond(200, "x", "Cache-Control", "max-age=60");
            kit.get("/users/1");
            kit.get("/users/2");
            kit.get("/posts/1");
            kit.exchange(get("https://other.test/users/1"));
            return kit;
        }

        private String cached(CacheTestKit kit, String url) {
            return kit.exchange(get(url, "Cache-Control", "only-if-cached")).status() == 200 ? "cached" : "gone";
        }

        @Test
        void purgesEverything() {
            CacheTestKit kit = filled();

            assertThat(kit.cache.purgeAll()).isEqualTo(4);

            assertThat(cached(kit, API + "/users/1")).isEqualTo("gone");
            assertThat(kit.cache.sizeBytes()).isZero();
        }

        @Test
        void purgesOneUpstream() {
            CacheTestKit kit = filled();

            assertThat(kit.cache.purgeUpstream("shop")).isEqualTo(3);

            assertThat(kit.cache.stats("shop").bytesStored()).isZero();
        }

        @Test
        void purgesByUrlPrefix() {
            CacheTestKit kit = filled();

            assertThat(kit.cache.purgePrefix("HTTPS://api.test/users/")).isEqualTo(2);

            assertThat(cached(kit, API + "/users/1")).isEqualTo("gone");
            assertThat(cached(kit, API + "/posts/1")).isEqualTo("cached");
        }

        @Test
        void purgesAWholeOriginByItsPrefix() {
            CacheTestKit kit = filled();

            assertThat(kit.cache.purgePrefix("https://api.test")).isEqualTo(3);

            assertThat(cached(kit, "https://other.test/users/1")).isEqualTo("cached");
        }

        @Test
        void refusesAPrefixThatIsNotAnAbsoluteUrl() {
            CacheTestKit kit = filled();

            org.assertj.core.api.Assertions.assertThatThrownBy(() -> kit.cache.purgePrefix("/users"))
                    .isInstanceOf(IllegalArgumentException.class)
                    .hasMessage("URL prefix must be an absolute http(s) URL: \"/users\"");
        }

        @Test
        void aPurgeDropsAResponseFetchedBeforeIt() {
            CacheTestKit kit = new CacheTestKit();
            FakeOrigin.Held held = kit.origin.hold();
            CompletableFuture<FetchOutcome> call = kit.start(get(API + "/a"));

            kit.cache.purgeAll();
            held.answer(200, "before purge", "Cache-Control", "max-age=60");
            Bodies.text((FetchResponse) call.join());

            assertThat(cached(kit, API + "/a")).isEqualTo("gone");
        }

        @Test
        void countsPerUpstream() {
            CacheTestKit kit = new CacheTestKit();
            kit.origin.respond(200, "abc", "Cache-Control", "max-age=60");
            kit.get("/a");
            kit.get("/a");
            kit.get("/a");

            var stats = kit.cache.stats("shop");

            assertThat(stats.misses()).isEqualTo(1);
            assertThat(stats.hits()).isEqualTo(2);
            assertThat(stats.bytesServed()).isEqualTo(6);
            assertThat(stats.bytesStored()).isPositive();
            assertThat(stats.hitRatio()).isEqualTo(2.0 / 3);
            assertThat(kit.cache.stats("nobody")).isEqualTo(CacheStats.EMPTY);
        }

        @Test
        void recordsTimeSpentInTheCache() {
            CacheTestKit kit = new CacheTestKit();
            kit.origin.respond(200, "abc", "Cache-Control", "max-age=60");
            kit.get("/a");

            Result hit = kit.get("/a");

            assertThat(hit.response().trace().serverTiming()).contains("cache;dur=0.0");
            assertThat(CacheStage.cacheStatus(hit.response().trace())).isEqualTo("sluice; hit");
        }
    }
}
