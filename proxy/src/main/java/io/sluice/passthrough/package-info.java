/**
 * The passthrough front door: {@code ANY /{upstream}/{path}} for upstreams with a {@code base_url},
 * and absolute-form requests ({@code GET http://host/path}) so that {@code HTTP_PROXY} works
 * unchanged. Bodies stream both ways; Sluice's own verdicts travel in standard headers
 * ({@code Cache-Status}, {@code Proxy-Status}, {@code Retry-After}, {@code Server-Timing}).
 */
package io.sluice.passthrough;
