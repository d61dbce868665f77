package io.sluice.send;

import io.sluice.config.ServerConfig;
import io.sluice.fetch.FetchException;
import java.util.List;
import java.util.Map;

/**
 * How large an upstream's response header block may be: {@code server.max_response_header_size}
 * bytes (each field counted as it travels, {@code name: value} and its line end) and
 * {@code server.max_response_headers} field lines. Past either, the response is refused as
 * {@code too_large} instead of being copied, held and passed on: a broken or hostile upstream could
 * otherwise pin megabytes per request (RFC 9110 §5.4 lets a recipient refuse oversized fields).
 */
public record ResponseHeaderLimits(long maxBytes, int maxFields) {
    /** Bounds the JDK client does not apply; for components that talk to no upstream. */
    public static final ResponseHeaderLimits NONE = new ResponseHeaderLimits(Long.MAX_VALUE, Integer.MAX_VALUE);

    public ResponseHeaderLimits {
        if (maxBytes < 1) throw new IllegalArgumentException("max response header bytes must be positive: " + maxBytes);
        if (maxFields < 1)
            throw new IllegalArgumentException("max response header fields must be positive: " + maxFields);
    }

    public static ResponseHeaderLimits of(ServerConfig server) {
        return new ResponseHeaderLimits(server.maxResponseHeaderSize().bytes(), server.maxResponseHeaders());
    }

    /**
     * The value for {@code jdk.http.maxHeaderSize}, the only bound {@code java.net.http} has (JDK 21+,
     * read once per JVM; 384 KB unless set): just above these limits, since the JDK counts 32 bytes
     * more per field, so that Sluice's own count is what refuses a response and the JDK's stops a
     * header block that never ends from growing past it.
     */
    public long jdkMaxHeaderSize() {
        return Math.min(Integer.MAX_VALUE, maxBytes + 32L * Math.min(maxFields, 1 << 20) + 1024);
    }

    /** Counts fields one by one; {@link #exceeded} says whether a limit was passed. */
    Tally tally() {
        return new Tally();
    }

    /** The failure for a header block past a limit, or null if {@code headers} fits. */
    FetchException check(Map<String, List<String>> headers) {
        Tally tally = tally();
        headers.forEach((name, values) -> {
            for (String value : values) tally.add(name.length(), value.length());
        });
        return tally.exceeded();
    }

    final class Tally {
        private long bytes;
        private int fields;

        void add(int nameLength, int valueLength) {
            bytes += nameLength + valueLength + 4L; // ": " and CRLF
            fields++;
        }

        FetchException exceeded() {
            if (bytes > maxBytes) {
                return ProtocolError.HEADERS_TOO_LARGE.failure(
                        "upstream response headers exceed " + size(maxBytes) + " (server.max_response_header_size)");
            }
            if (fields > maxFields) {
                return ProtocolError.TOO_MANY_HEADERS.failure("upstream response has more than " + maxFields
                        + " header fields (server.max_response_headers)");
            }
            return null;
        }
    }

    /** The failure for a header block past a limit, or null if {@code headers} fits. */
    FetchException check(io.undertow.util.HeaderMap headers) {
        Tally tally = tally();
        for (io.undertow.util.HeaderValues values : headers) {
            int name = values.getHeaderName().length();
            for (String value : values) tally.add(name, value.length());
        }
        return tally.exceeded();
    }

    /**
     * A client's own bound ({@code jdk.http.maxHeaderSize}, Undertow's HTTP/2 header-list size) was hit
     * before Sluice could count: the same refusal.
     */
    FetchException hitBeforeCounted() {
        return ProtocolError.HEADERS_TOO_LARGE.failure(
                "upstream response headers exceed " + size(maxBytes) + " (server.max_response_header_size)");
    }

    static String size(long bytes) {
        if (bytes % (1024 * 1024) == 0) return bytes / (1024 * 1024) + " MB";
        if (bytes % 1024 == 0) return bytes / 1024 + " KB";
        return bytes + " bytes";
    }
}
