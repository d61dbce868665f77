/**
 * HTTP header values, read and written: pure parsers and formatters with no I/O and no Sluice
 * policy, so that each field is read one way wherever Sluice meets it. HTTP dates in all three
 * forms of RFC 9110 §5.6.7 ({@link io.sluice.http.HttpDates}, the only date reader), {@code
 * Retry-After} ({@link io.sluice.http.RetryAfter}), an upstream's rate-limit fields ({@link
 * io.sluice.http.RateLimitHeaders} for what is left and when it resets, {@link
 * io.sluice.http.RateLimitPolicy} for the quotas it announces), {@code Cache-Control} directives
 * ({@link io.sluice.http.Directives}) and the field names of {@code Vary} ({@link
 * io.sluice.http.Vary}). What Sluice does with a value (pause an upstream, cap a learned limit,
 * store a response) belongs to the feature package that asks: {@code limit}, {@code retry},
 * {@code cache}. Time comes in as an argument ({@code now}), never from a clock.
 */
package io.sluice.http;
