package io.sluice.send;

import io.sluice.server.ReadThroughConduit;
import java.io.IOException;
import java.nio.ByteBuffer;
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
 * It runs on the connection's IO thread, as do the lookups.
 */
final class Http2FrameTap extends ReadThroughConduit {
    static final int REFUSED_STREAM = 0x7;
    private static final int TYPE_RST_STREAM = 0x3;
    private static final int TYPE_GOAWAY = 0x7;
    private static final int FRAME_HEADER = 9;
    /** A frame type RFC 9113 does not define, nor does any extension Undertow knows. */
    private static final byte UNDEFINED_TYPE = (byte) 0xf7;
    /**
     * Resets kept for their exchanges to look up: a stream's is looked up when Undertow fails the stream,
     * or, after its response head, when the exchange lets go of the stream.
     */
    private static final int KEPT_RESETS = 64;

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

    Http2FrameTap(StreamSourceConduit next) {
        super(next);
    }

    /** Told the last stream id of each GOAWAY the origin sends, on the IO thread, while the frame is read. */
    void onGoAway(java.util.function.IntConsumer goneAway) {
        this.goneAway = goneAway;
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
                int length = (frame[0] & 0xff) << 16 | (frame[1] & 0xff) << 8 | (frame[2] & 0xff);
                int type = frame[3] & 0xff;
                int wanted = type == TYPE_RST_STREAM ? 4 : type == TYPE_GOAWAY ? 8 : 0;
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
        if (type == TYPE_RST_STREAM && want == FRAME_HEADER + 4) {
            resets.put(int31(FRAME_HEADER - 4), int32(FRAME_HEADER));
        } else if (type == TYPE_GOAWAY && want == FRAME_HEADER + 8) {
            lastStreamProcessed = Math.min(lastStreamProcessed, int31(FRAME_HEADER));
            goneAway.accept(lastStreamProcessed);
        }
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
