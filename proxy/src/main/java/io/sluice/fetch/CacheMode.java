package io.sluice.fetch;

/** A request's wish about the response cache (batch {@code cache}; passthrough {@code Cache-Control}). */
public enum CacheMode {
    /** Use the cache by RFC 9111 rules. */
    DEFAULT,
    /** Neither read nor store ({@code no-store}). */
    BYPASS,
    /** Revalidate any stored response before using it ({@code no-cache}). */
    REVALIDATE,
    /** Answer only from the cache; a miss is a 504 ({@code only-if-cached}). */
    ONLY_IF_CACHED
}
