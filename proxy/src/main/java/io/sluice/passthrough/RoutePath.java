package io.sluice.passthrough;

import io.sluice.fetch.ErrorType;
import io.sluice.fetch.FetchException;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;

/**
 * The path a route-form request names below its upstream's {@code base_url}: dot-segments resolved
 * (RFC 3986 §5.2.4), including their percent-encoded forms, and nothing that could climb out of the
 * base path. Upstreams and the servers behind them normalise paths differently (some decode
 * {@code %2e}, some take {@code %2f} or a backslash as a separator, Tomcat reads {@code ..;x} as
 * {@code ..}); what Sluice sends is therefore already resolved, and whatever another server could
 * read as leaving the prefix is refused rather than guessed at.
 */
final class RoutePath {
    private RoutePath() {}

    /**
     * Resolves {@code rest} (the raw, still percent-encoded path after {@code /{upstream}}, empty or
     * starting with {@code /}). A {@code ..} that would climb above {@code rest}'s root (the base
     * URL's path) and a segment holding an encoded slash or backslash are refused.
     */
    static String resolve(String rest) {
        if (rest.isEmpty()) return rest;
        // Nearly every path has no dot-segment, no percent-encoding and no backslash: it is already
        // resolved, and is returned as it is without splitting it.
        if (rest.indexOf('%') < 0 && rest.indexOf('\\') < 0 && !rest.contains("/.")) return rest;
        return bySegments(rest);
    }

    /** {@link #resolve} the long way, segment by segment: {@code rest} is not empty. */
    static String bySegments(String rest) {
        String[] segments = rest.substring(1).split("/", -1);
        List<String> out = new ArrayList<>(segments.length);
        boolean trailingSlash = false;
        for (int i = 0; i < segments.length; i++) {
            String segment = segments[i];
            boolean last = i == segments.length - 1;
            String lower = segment.toLowerCase(Locale.ROOT);
            if (lower.contains("%2f") || lower.contains("%5c") || segment.indexOf('\\') >= 0) {
                throw refused(rest, "an encoded slash or a backslash inside a path segment");
            }
            String dots = lower.replace("%2e", ".");
            int params = dots.indexOf(';');
            String bare = params < 0 ? dots : dots.substring(0, params);
            if (bare.equals(".") || bare.equals("..")) {
                if (params >= 0) throw refused(rest, "a dot-segment with parameters");
                if (bare.equals("..")) {
                    if (out.isEmpty()) throw refused(rest, "\"..\" above the upstream's base_url path");
                    out.remove(out.size() - 1);
                }
                // RFC 3986 §5.2.4: a final "." or ".." leaves the path ending in "/".
                trailingSlash = last;
                continue;
            }
            out.add(segment);
            trailingSlash = false;
        }
        return "/" + String.join("/", out) + (trailingSlash && !out.isEmpty() ? "/" : "");
    }

    private static FetchException refused(String rest, String why) {
        return new FetchException(ErrorType.INVALID_REQUEST, "path \"" + rest + "\" refused: " + why);
    }
}
