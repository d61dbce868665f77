package io.sluice.send;

import io.sluice.server.ReadThroughConduit;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.Map;
import org.xnio.conduits.StreamSourceConduit;

/**
 * The frames an HTTP/2 origin sends, watched under Undertow's HTTP/2 client for what that client does
 * not pass on: the error code of a {@code RST_STREAM} (it fails the stream with a bare "stream was
 * reset") and the last stream id of a {@code GOAWAY}. Both say whether the origin processed a stream
 * (RFC 9113 §8.7): one reset with {@code REFUSED_STREAM}, or numbered above a GOAWAY's last stream id,
 * was not, and may be sent again whatever its method. nginx refuses streams so once a connection has
 * carried its {@code keepalive_requests} (1,000 by default). Any reset also says the stream is not to
 * be reset back (§5.4.2), which Sluice cannot tell from Undertow once a response head has been handed
 * over (it reports a later reset only while the body is unread, and only once its parser reaches the
 * frame); the tap has it as soon as it is read, ahead of the frames before it still to be parsed.
 *
 * <p>Only frame headers are read (RFC 9113 §4.1: a 24-bit length, type, flags, stream id) and payloads
 * skipped by their length, so the tap cannot decide anything the parser above it decides otherwise.
 * Bytes pass unchanged but one: a GOAWAY's type byte becomes that of a frame type no one defined,
 * which the parser above drops unread (§4.1: "implementations MUST ignore and discard frames of
 * unknown types"). Undertow's client, on a GOAWAY, fails every open stream, the ones the origin goes
 * on to answer included (§6.8: streams up to the last stream id "might still complete
 * successfully"); so an origin that goes away gracefully, as nginx does after {@code
 * keepalive_requests}, would lose requests it processed. Sluice acts on the GOAWAY itself instead
 * ({@link #onGoAway}): no new streams on the connection, those above the last stream id sent again.
 *
 * <p>It also keeps the connection's receive window whole (RFC 9113 §6.9). Undertow credits that window
 * only for bytes a reader takes out of a stream, and drops uncredited what a stream had buffered when it
 * was reset, by either side, and the DATA that still arrives for a stream Sluice reset; the origin counts
 * those bytes all the same, so every download given up mid-body would shrink the window for good, until
 * no stream of the connection is sent anything. The tap counts each stream's flow-controlled DATA bytes
 * ({@link #track}, {@link #release}): the exchange credits what it did not read, and the tap credits
 * DATA that arrives after ({@link #onUncredited}). Padding Undertow credits itself, as it parses a frame
 * into its stream, so the count leaves it out; the padding of a frame read before a stream is let go of
 * and parsed after is not credited by anyone (at most 256 bytes a frame, and nginx does not pad).
 *
 * <p>It runs on the connection's IO thread, as do the lookups.
 */
final class Http2FrameTap extends ReadThroughConduit {
    static final int REFUSED_STREAM = 0x7;
    private static final int TYPE_DATA = 0x0;
    private static final int TYPE_HEADERS = 0x1;
    private static final int TYPE_RST_STREAM = 0x3;
    private static final int FLAG_END_STREAM = 0x1;
    private static final int FLAG_PADDED = 0x8;
    private static final int TYPE_GOAWAY = 0x7;
    private static final int FRAME_HEADER = 9;
    /** A frame type RFC 9113 does not define, nor does any extension Undertow knows. */
    private static final byte UNDEFINED_TYPE = (byte) 0xf7;
    /**
     * Resets kept for their exchanges to look up: a stream's is looked up when Undertow fails the stream,
     * or, after its response head, when the exchange lets go of the stream.
     */
    private static final int KEPT_RESETS = 64;

    private static final int KEPT_ABANDONED = 1_024;

    /** The frame header and the payload bytes wanted of it (a reset's code, a GOAWAY's last stream). */
    private final byte[] frame = new byte[FRAME_HEADER + 8];

    private int have;
    private int want = FRAME_HEADER;
    private long skip;
    private final Map<Integer, Integer> resets = new LinkedHashMap<>() {
        @Override
        protected boolean removeEldestEntry(Map.Entry<Integer, Integer> eldest) {
            return size() > KEPT_RESETS;
        }
    };
    private int lastStreamProcessed = Integer.MAX_VALUE;
    private java.util.function.IntConsumer goneAway = last -> {};
    /** The streams Sluice has open: the DATA bytes each was sent, and whether the origin ended it. */
    private final Map<Integer, Received> open = new HashMap<>();
    /**
     * Streams let go of before the origin ended them: DATA that still arrives for them is credited by
     * the tap. An origin stops sending on a stream once it has read the reset, without a frame that says
     * so, so the oldest are forgotten: DATA arrives for a reset stream for about a round trip, in which
     * fewer streams than this are let go of; one forgotten early leaves its later DATA uncredited.
     */
    private final Map<Integer, Boolean> abandoned = new LinkedHashMap<>() {
        @Override
        protected boolean removeEldestEntry(Map.Entry<Integer, Boolean> eldest) {
            return size() > KEPT_ABANDONED;
        }
    };

    private java.util.function.IntConsumer uncredited = bytes -> {};
    private java.util.function.IntConsumer openStreamReset = stream -> {};
    private int uncreditedInRead;

    /** What one open stream was sent. */
    private static final class Received {
        long data;
        boolean ended;
    }

    Http2FrameTap(StreamSourceConduit next) {
        super(next);
    }

    /** Told the last stream id of each GOAWAY the origin sends, on the IO thread, while the frame is read. */
    void onGoAway(java.util.function.IntConsumer goneAway) {
        this.goneAway = goneAway;
    }

    /**
     * Told, after a read, how many DATA bytes it carried for streams let go of ({@link #release}): bytes
     * the origin counted against the connection's window that no reader will take out, which the window
     * is to be credited with.
     */
    void onUncredited(java.util.function.IntConsumer uncredited) {
        this.uncredited = uncredited;
    }

    /**
     * Told the id of each stream Sluice has open that the origin resets before its body's end, while the
     * frame is read: a body whose client stopped reading may not learn of it until it reads again, and
     * the DATA Undertow drops with the stream would stay uncredited meanwhile.
     */
    void onOpenStreamReset(java.util.function.IntConsumer openStreamReset) {
        this.openStreamReset = openStreamReset;
    }

    /** {@code streamId} was opened: its DATA is counted from now on. */
    void track(int streamId) {
        open.put(streamId, new Received());
    }

    /**
     * Sluice is done with {@code streamId}: its DATA is no longer counted, and, unless the origin ended
     * the stream, DATA that still arrives for it is credited ({@link #onUncredited}).
     *
     * @return the stream's flow-controlled DATA bytes (padding aside) read from the origin so far
     */
    long release(int streamId) {
        Received received = open.remove(streamId);
        if (received == null) return 0;
        if (!received.ended) abandoned.put(streamId, Boolean.TRUE);
        return received.data;
    }

    /** The error code the origin reset {@code streamId} with (forgotten once asked), or -1 if it did not. */
    int resetBy(int streamId) {
        Integer code = resets.remove(streamId);
        return code == null ? -1 : code;
    }

    /** Whether the origin went away with a last processed stream below {@code streamId}. */
    boolean beyondGoAway(int streamId) {
        return streamId > lastStreamProcessed;
    }

    @Override
    public int read(ByteBuffer dst) throws IOException {
        int from = dst.position();
        int n = next.read(dst);
        if (n > 0) watch(dst, from, n);
        if (uncreditedInRead > 0) {
            int bytes = uncreditedInRead;
            uncreditedInRead = 0;
            uncredited.accept(bytes);
        }
        return n;
    }

    private void watch(ByteBuffer bytes, int from, int n) {
        int i = from;
        int end = from + n;
        while (i < end) {
            if (have == 0 && skip > 0) {
                int skipped = (int) Math.min(skip, end - i);
                i += skipped;
                skip -= skipped;
                continue;
            }
            frame[have++] = bytes.get(i++);
            if (have == 4 && frame[3] == TYPE_GOAWAY) bytes.put(i - 1, UNDEFINED_TYPE);
            if (have == FRAME_HEADER) {
                int length = frameLength();
                int type = frame[3] & 0xff;
                boolean padded = type == TYPE_DATA && (frame[4] & FLAG_PADDED) != 0;
                int wanted = type == TYPE_RST_STREAM ? 4 : type == TYPE_GOAWAY ? 8 : padded ? 1 : 0;
                wanted = Math.min(wanted, length);
                want = FRAME_HEADER + wanted;
                skip = length - wanted;
            }
            if (have >= FRAME_HEADER && have == want) {
                seen();
                have = 0;
                want = FRAME_HEADER;
            }
        }
    }

    private void seen() {
        int type = frame[3] & 0xff;
        if (type == TYPE_DATA) {
            data();
        } else if (type == TYPE_HEADERS && (frame[4] & FLAG_END_STREAM) != 0) {
            ended(int31(FRAME_HEADER - 4)); // trailers, or a response with no body
        } else if (type == TYPE_RST_STREAM && want == FRAME_HEADER + 4) {
            int stream = int31(FRAME_HEADER - 4);
            resets.put(stream, int32(FRAME_HEADER));
            // Mid-body, Undertow drops what the stream holds; once the body has ended it keeps it to be read.
            Received received = open.get(stream);
            boolean midBody = received != null && !received.ended;
            ended(stream);
            if (midBody) openStreamReset.accept(stream);
        } else if (type == TYPE_GOAWAY && want == FRAME_HEADER + 8) {
            lastStreamProcessed = Math.min(lastStreamProcessed, int31(FRAME_HEADER));
            goneAway.accept(lastStreamProcessed);
        }
    }

    /** A DATA frame's header (and pad length) is read: its bytes count against the connection's window. */
    private void data() {
        int stream = int31(FRAME_HEADER - 4);
        int length = frameLength();
        Received received = open.get(stream);
        if (received != null) {
            boolean padded = (frame[4] & FLAG_PADDED) != 0 && want == FRAME_HEADER + 1;
            received.data += padded ? Math.max(0, length - 1 - (frame[FRAME_HEADER] & 0xff)) : length;
        } else if (abandoned.containsKey(stream)) {
            uncreditedInRead += length;
        }
        if ((frame[4] & FLAG_END_STREAM) != 0) ended(stream);
    }

    private void ended(int stream) {
        Received received = open.get(stream);
        if (received != null) received.ended = true;
        abandoned.remove(stream);
    }

    /** The frame's payload length, from its header (24 bits). */
    private int frameLength() {
        return (frame[0] & 0xff) << 16 | (frame[1] & 0xff) << 8 | (frame[2] & 0xff);
    }

    private int int31(int at) {
        return int32(at) & 0x7fff_ffff;
    }

    private int int32(int at) {
        return (frame[at] & 0xff) << 24
                | (frame[at + 1] & 0xff) << 16
                | (frame[at + 2] & 0xff) << 8
                | (frame[at + 3] & 0xff);
    }
}
