package io.sluice.server;

import io.sluice.fetch.Fields;
import io.undertow.connector.PooledByteBuffer;
import io.undertow.server.HttpHandler;
import io.undertow.server.HttpServerExchange;
import io.undertow.server.protocol.http.HttpServerConnection;
import io.undertow.util.AttachmentKey;
import io.undertow.util.Methods;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.util.Arrays;
import org.xnio.StreamConnection;
import org.xnio.conduits.StreamSourceConduit;

/**
 * Each HTTP/1 request head as the client sent it, so that field values can be forwarded byte for
 * byte: Undertow's request parser turns each run of spaces and tabs inside a value into its first
 * character, which changes any value that is compared or signed byte for byte. This is the request
 * side of {@code send/HeadCapture}: a conduit under Undertow's parser keeps the head's bytes, and
 * {@link RawHead} re-reads the field lines Undertow has already parsed and accepted; unless the two
 * readings agree field for field, Undertow's is used. No framing is decided here.
 *
 * <p>Where a head starts: at the connection's first byte, and after that where the previous request
 * ended. When an exchange completes its body has been read, and the bytes Undertow holds unread
 * ({@code getExtraBytes}, pipelined ones included) are the start of the next head; the capture is
 * armed again from them, before Undertow parses them. Body bytes are never kept. A kept head is used
 * only if it ends exactly where Undertow's parser stopped (every byte handed up but those Undertow
 * holds unread), so it is never paired with another request's parse.
 *
 * <p>The conduit must be the connection's source when Undertow's {@link HttpServerConnection} is
 * made ({@link #install}, before the open listener sees the connection), so that it is that
 * connection's {@code getOriginalSourceConduit()}; where it is not (a timeout conduit on top of it,
 * an HTTP/2 connection), heads are simply not kept and Undertow's values are used.
 */
public final class RawRequestHeads implements HttpHandler {
    private static final AttachmentKey<byte[]> HEAD = AttachmentKey.create(byte[].class);

    private final HttpHandler next;
    private final int limit;

    /**
     * @param limit the most head bytes kept ({@code server.max_header_size}, which Undertow enforces
     *     anyway); a longer head is not kept
     */
    public RawRequestHeads(HttpHandler next, int limit) {
        this.next = next;
        this.limit = limit;
    }

    /** Puts a capture under whatever reads {@code connection} from now on; its first byte starts a head. */
    public void install(StreamConnection connection) {
        install(connection, limit);
    }

    /** {@link #install(StreamConnection)} for a connection whose requests reach this handler another way. */
    public static void install(StreamConnection connection, int limit) {
        var source = connection.getSourceChannel();
        source.setConduit(new Capture(source.getConduit(), limit));
    }

    /**
     * The request fields of {@code exchange} as the client sent them (names as first spelled, values
     * byte for byte, in order, obs-folds as one space), or null where they are not known or do not
     * match what Undertow parsed.
     */
    public static Fields fields(HttpServerExchange exchange) {
        byte[] head = exchange.getAttachment(HEAD);
        return head == null ? null : RawHead.fields(head, exchange.getRequestHeaders(), name -> true);
    }

    /**
     * Whether the head of {@code exchange}, as the client sent it, continues a field line with an
     * obs-fold (a line starting with SP or HTAB, RFC 9112 §5.2); false where the head was not kept.
     */
    public static boolean obsFolded(HttpServerExchange exchange) {
        byte[] head = exchange.getAttachment(HEAD);
        if (head == null) return false;
        int i = 0;
        while (i < head.length && head[i] != '\n') i++; // the request line cannot be folded
        for (i++; i < head.length; i++) {
            if (head[i - 1] == '\n' && (head[i] == ' ' || head[i] == '\t')) return true;
        }
        return false;
    }

    @Override
    public void handleRequest(HttpServerExchange exchange) throws Exception {
        if (exchange.getConnection() instanceof HttpServerConnection http
                && http.getOriginalSourceConduit() instanceof Capture capture) {
            byte[] head = capture.take(http.getExtraBytes());
            if (head != null) exchange.putAttachment(HEAD, head);
            exchange.addExchangeCompleteListener((done, nextListener) -> {
                // Runs before Undertow's connection looks at its unread bytes for the next request. After
                // an upgrade or a CONNECT, what follows is not HTTP/1 (a tunnel's bytes pass unkept).
                boolean tunnel = done.getRequestMethod().equals(Methods.CONNECT) && done.getStatusCode() / 100 == 2;
                if (done.isPersistent() && !done.isUpgrade() && !tunnel) {
                    capture.rearm(http.getExtraBytes());
                }
                nextListener.proceed();
            });
        }
        next.handleRequest(exchange);
    }

    @Override
    public String toString() {
        return "RawRequestHeads(" + next + ")";
    }

    /** Keeps the bytes of one head while armed; passes every byte on unchanged either way. */
    static final class Capture extends ReadThroughConduit {
        private final int limit;
        private byte[] head = new byte[256];
        private int length;
        /** Progress through CR LF CR LF. */
        private int matched;

        private boolean armed = true;
        /** Bytes handed up so far: a head is known by where it ends in the connection's stream. */
        private long delivered;
        /** The last complete head, until taken, and where it ended. */
        private byte[] complete;

        private long completeEnd;

        Capture(StreamSourceConduit next, int limit) {
            super(next);
            this.limit = limit;
        }

        /**
         * The head kept since the last {@link #rearm} (or the connection's start) if it ends where
         * Undertow's parser stopped, that is all bytes handed up but {@code unread}; else null. So a
         * head is never paired with another request's parse (one that reached no handler, say).
         */
        byte[] take(PooledByteBuffer unread) {
            long end = delivered - (unread == null ? 0 : unread.getBuffer().remaining());
            byte[] taken = complete != null && completeEnd == end ? complete : null;
            complete = null;
            return taken;
        }

        /** The next head starts with {@code unread}'s remaining bytes (may be null), then what is read next. */
        void rearm(PooledByteBuffer unread) {
            armed = true;
            length = 0;
            matched = 0;
            complete = null;
            if (unread != null) {
                ByteBuffer b = unread.getBuffer();
                scan(b, b.position(), b.limit(), delivered - b.remaining());
            }
        }

        /** Keeps {@code b[from, to)}, which start at {@code at} in the stream, up to the end of the head. */
        private void scan(ByteBuffer b, int from, int to, long at) {
            int m = matched;
            int i = from;
            for (; i < to && m < 4; i++) {
                byte c = b.get(i);
                if (c == '\n') m = (m == 1 || m == 3) ? m + 1 : 0;
                else if (c == '\r') m = (m == 0 || m == 2) ? m + 1 : 1;
                else m = 0;
            }
            matched = m;
            int n = i - from;
            if (length + n > limit) {
                // Too long to keep (Undertow refuses it anyway past server.max_header_size).
                armed = false;
                length = 0;
                return;
            }
            if (length + n > head.length) head = Arrays.copyOf(head, Math.max(head.length * 2, length + n));
            b.get(from, head, length, n);
            length += n;
            if (m == 4) {
                armed = false;
                complete = Arrays.copyOf(head, length);
                completeEnd = at + n;
                length = 0;
                if (head.length > 4096) head = new byte[256];
            }
        }

        @Override
        public int read(ByteBuffer dst) throws IOException {
            int from = dst.position();
            int n = next.read(dst);
            if (n > 0) {
                if (armed) scan(dst, from, from + n, delivered);
                delivered += n;
            }
            return n;
        }

        @Override
        public long read(ByteBuffer[] dsts, int offs, int len) throws IOException {
            if (!armed) {
                long n = next.read(dsts, offs, len);
                if (n > 0) delivered += n;
                return n;
            }
            int[] from = new int[len];
            for (int i = 0; i < len; i++) from[i] = dsts[offs + i].position();
            long n = next.read(dsts, offs, len);
            long at = delivered;
            for (int i = 0; i < len && n > 0; i++) {
                ByteBuffer b = dsts[offs + i];
                int got = b.position() - from[i];
                if (armed && got > 0) scan(b, from[i], b.position(), at);
                at += got;
            }
            if (n > 0) delivered += n;
            return n;
        }
    }
}
