package io.sluice.server;

import java.nio.ByteBuffer;

/**
 * The chunked transfer coding's framing (RFC 9112 §7.1), checked byte by byte as a request body
 * arrives (and, in {@code io.sluice.fetch}, an upstream's response body); it validates, Undertow's
 * own decoder still decodes. Undertow's decoder is lenient where this one is not: it skips whatever
 * follows a chunk's data up to the next LF, so a chunk longer than its size is silently cut; it
 * takes a bare LF as a line end; and it reads a size line up to its first non-hex byte, so
 * {@code 0x5} is a last chunk. A parser behind or in front of Sluice
 * that reads such a body differently sees a different request (the 2025 "funky chunks" class); this
 * grammar refuses all of them. See {@code docs/undertow-chunked-lenience.md}.
 */
public final class ChunkGrammar {
    private static final int SIZE_START = 0;
    private static final int SIZE = 1;
    private static final int SIZE_BWS = 2;
    private static final int EXTENSION = 3;
    private static final int SIZE_LF = 4;
    private static final int DATA = 5;
    private static final int DATA_CR = 6;
    private static final int DATA_LF = 7;
    private static final int TRAILER_START = 8;
    private static final int TRAILER_NAME = 9;
    private static final int TRAILER_VALUE = 10;
    private static final int TRAILER_LF = 11;
    private static final int END_LF = 12;
    private static final int DONE = 13;
    private static final int FAILED = 14;
    private static final int EXT_NAME_START = 15;
    private static final int EXT_NAME = 16;

    /** A chunk-size line (size and extensions) longer than this is refused: nothing needs more. */
    static final int MAX_SIZE_LINE = 4096;

    private final int maxTrailerBytes;
    private final String limitKey;
    private int state = SIZE_START;
    private long size;
    private long remaining;
    private int lineBytes;
    private int trailerBytes;
    private String failure;

    /** @param maxTrailerBytes the most the trailer section may hold ({@code server.max_header_size}) */
    ChunkGrammar(int maxTrailerBytes) {
        this(maxTrailerBytes, "server.max_header_size");
    }

    /** @param limitKey the config key of {@code maxTrailerBytes}, named when the trailers exceed it */
    public ChunkGrammar(int maxTrailerBytes, String limitKey) {
        this.maxTrailerBytes = maxTrailerBytes;
        this.limitKey = limitKey;
    }

    /** Why the body was refused, or null while it is valid so far. */
    public String failure() {
        return failure;
    }

    /** Whether the body's last chunk, trailers and final CRLF have all been seen. */
    public boolean done() {
        return state == DONE;
    }

    /**
     * Checks {@code buf}'s bytes at absolute indexes {@code [from, to)} without moving its position.
     * Returns the index just past the last byte that belongs to a valid body: {@code to} while the
     * body goes on, less when the body ended inside the range (what follows is the next request's)
     * or when a byte was refused (then {@link #failure()} says why and the index is that byte's).
     */
    public int check(ByteBuffer buf, int from, int to) {
        int i = from;
        while (i < to && state != DONE && state != FAILED) {
            if (state == DATA) {
                int skip = (int) Math.min(remaining, to - i);
                remaining -= skip;
                i += skip;
                if (remaining == 0) state = DATA_CR;
                continue;
            }
            if (!accept(buf.get(i) & 0xff)) return i;
            i++;
        }
        return i;
    }

    private boolean accept(int b) {
        switch (state) {
            case SIZE_START -> {
                if (hex(b) < 0) return fail("invalid chunk size: " + describe(b) + " where a hex digit was expected");
                lineBytes = 1;
                size = hex(b);
                state = SIZE;
            }
            case SIZE -> {
                if (++lineBytes > MAX_SIZE_LINE) return fail("chunk-size line longer than " + MAX_SIZE_LINE + " bytes");
                if (hex(b) >= 0) {
                    if (size > (Long.MAX_VALUE >> 4)) return fail("chunk size overflows");
                    size = (size << 4) | hex(b);
                } else if (b == ';') {
                    state = EXT_NAME_START;
                } else if (b == ' ' || b == '\t') {
                    state = SIZE_BWS;
                } else if (b == '\r') {
                    state = SIZE_LF;
                } else if (b == '\n') {
                    return fail("bare LF ends a chunk-size line (CRLF required)");
                } else {
                    return fail("invalid chunk size: " + describe(b) + " after the hex digits");
                }
            }
            case SIZE_BWS -> {
                // RFC 9112 §7.1.1: whitespace after the size only before an extension's ";".
                if (++lineBytes > MAX_SIZE_LINE) return fail("chunk-size line longer than " + MAX_SIZE_LINE + " bytes");
                if (b == ';') state = EXT_NAME_START;
                else if (b != ' ' && b != '\t') return fail("invalid chunk size: " + describe(b) + " after whitespace");
            }
            case EXT_NAME_START, EXT_NAME -> {
                // RFC 9112 §7.1.1: chunk-ext = *( BWS ";" BWS chunk-ext-name [ BWS "=" BWS chunk-ext-val ] ),
                // the name a token: "3;=x" or "3;" is no extension a stricter parser would skip alike.
                if (++lineBytes > MAX_SIZE_LINE) return fail("chunk-size line longer than " + MAX_SIZE_LINE + " bytes");
                if (tchar(b)) {
                    state = EXT_NAME;
                } else if (state == EXT_NAME_START && (b == ' ' || b == '\t')) {
                    // BWS before the name
                } else if (state == EXT_NAME && b != '\n' && fieldByte(b)) {
                    // "=", whitespace or ";" after a name. The rest of the line is only checked for
                    // bytes no field may hold: a quoted value may contain ";" and "=".
                    state = b == ';' ? EXT_NAME_START : EXTENSION;
                } else if (state == EXT_NAME && b == '\r') {
                    state = SIZE_LF;
                } else if (b == '\n') {
                    return fail("bare LF in a chunk extension (CRLF required)");
                } else {
                    return fail("invalid chunk extension: " + describe(b) + " where a name was expected");
                }
            }
            case EXTENSION -> {
                if (++lineBytes > MAX_SIZE_LINE) return fail("chunk-size line longer than " + MAX_SIZE_LINE + " bytes");
                if (b == '\r') state = SIZE_LF;
                else if (b == '\n') return fail("bare LF in a chunk extension (CRLF required)");
                else if (!fieldByte(b)) return fail("invalid byte " + describe(b) + " in a chunk extension");
            }
            case SIZE_LF -> {
                if (b != '\n') return fail("CR not followed by LF after a chunk size");
                if (size == 0) {
                    state = TRAILER_START;
                } else {
                    remaining = size;
                    state = DATA;
                }
            }
            case DATA_CR -> {
                if (b != '\r') {
                    return fail(
                            b == '\n'
                                    ? "bare LF after chunk data (CRLF required)"
                                    : "chunk data longer than its declared size " + size + " (CRLF expected)");
                }
                state = DATA_LF;
            }
            case DATA_LF -> {
                if (b != '\n') return fail("CR not followed by LF after chunk data");
                state = SIZE_START;
            }
            case TRAILER_START -> {
                if (b == '\r') {
                    state = END_LF;
                } else if (tchar(b)) {
                    state = TRAILER_NAME;
                    return countTrailer();
                } else {
                    return fail(
                            b == '\n'
                                    ? "bare LF after the last chunk (CRLF required)"
                                    : "invalid trailer field: " + describe(b) + " where a field name was expected");
                }
            }
            case TRAILER_NAME -> {
                if (b == ':') state = TRAILER_VALUE;
                else if (!tchar(b)) return fail("invalid byte " + describe(b) + " in a trailer field name");
                return countTrailer();
            }
            case TRAILER_VALUE -> {
                if (b == '\r') state = TRAILER_LF;
                else if (b == '\n') return fail("bare LF in the trailer section (CRLF required)");
                else if (!fieldByte(b)) return fail("invalid byte " + describe(b) + " in a trailer field value");
                return countTrailer();
            }
            case TRAILER_LF -> {
                if (b != '\n') return fail("CR not followed by LF in the trailer section");
                state = TRAILER_START;
            }
            case END_LF -> {
                if (b != '\n') return fail("CR not followed by LF at the end of the chunked body");
                state = DONE;
            }
            default -> throw new IllegalStateException("state " + state);
        }
        return true;
    }

    private boolean countTrailer() {
        return ++trailerBytes <= maxTrailerBytes
                || fail("trailer section larger than " + maxTrailerBytes + " bytes (" + limitKey + ")");
    }

    private boolean fail(String why) {
        failure = why;
        state = FAILED;
        return false;
    }

    private static int hex(int b) {
        if (b >= '0' && b <= '9') return b - '0';
        if (b >= 'a' && b <= 'f') return b - 'a' + 10;
        if (b >= 'A' && b <= 'F') return b - 'A' + 10;
        return -1;
    }

    /** RFC 9110 §5.5 field-vchar, SP and HTAB; no other control byte, no DEL. */
    private static boolean fieldByte(int b) {
        return b == '\t' || (b >= 0x20 && b != 0x7f);
    }

    /** RFC 9110 §5.6.2 tchar. */
    private static boolean tchar(int b) {
        return (b >= '0' && b <= '9')
                || (b >= 'a' && b <= 'z')
                || (b >= 'A' && b <= 'Z')
                || "!#$%&'*+-.^_`|~".indexOf(b) >= 0;
    }

    private static String describe(int b) {
        return b >= 0x21 && b < 0x7f ? "'" + (char) b + "'" : String.format("0x%02x", b);
    }
}
