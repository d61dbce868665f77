package io.sluice.send;

import io.sluice.fetch.FetchException;
import io.sluice.server.ChunkGrammar;
import io.sluice.server.RawHead;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.xnio.channels.StreamSinkChannel;
import org.xnio.conduits.AbstractStreamSourceConduit;
import org.xnio.conduits.ConduitReadableByteChannel;
import org.xnio.conduits.Conduits;
import org.xnio.conduits.StreamSourceConduit;

/**
 * The bytes of an upstream connection under Undertow's HTTP/1.1 client, with two jobs while a
 * response head is expected ({@link #expectResponse}); the rest of the time it passes bytes through.
 *
 * <p>It keeps the final response head exactly as it arrived, so that field values can be forwarded
 * byte for byte ({@link RawHead}): Undertow's parser collapses each run of spaces and tabs inside a
 * value into one, which changes {@code Expires}, asctime dates and anything signed. Undertow still
 * parses the same bytes and decides the framing; Sluice only re-reads values it has already accepted.
 *
 * <p>It takes out interim responses (RFC 9110 §15.2: 1xx other than {@code 101}) before Undertow
 * sees them, and keeps their heads (bounded) so that they can be forwarded ({@link #interimHeads}).
 * Undertow's client skips {@code 100} but takes any other 1xx as the final response and then
 * misreads the real one. A 1xx never has a body (RFC 9112 §6.3), so one ends at its first empty
 * line; a head with a bare CR or LF is not taken out but left to Undertow's strict parser, which
 * refuses it, so this never decides where a message ends when Undertow would decide otherwise.
 *
 * <p>It checks a chunked response body against RFC 9112 §7.1 ({@link ChunkGrammar}) before
 * Undertow's decoder reads it: that decoder, the same lenient one as on the server side, drops bytes
 * between a chunk's data and its CRLF, takes a bare LF as a line end and reads {@code 0x5} as a last
 * chunk, so {@code 3\r\nbogus\r\n0\r\n\r\n} would reach the client as a valid {@code bog}. The
 * valid prefix is passed on; the next read fails with a typed {@code upstream sent ...} error.
 */
final class HeadCapture extends AbstractStreamSourceConduit<StreamSourceConduit> {
    /** Interim heads kept per response, at most, and their bytes together: early hints are small. */
    static final int MAX_INTERIM_HEADS = 8;

    static final int MAX_INTERIM_BYTES = 16 * 1024;

    private final List<Integer> interims = new ArrayList<>(2);
    /** The interim heads kept to be forwarded (not {@code 100}), within the bounds above. */
    private final List<byte[]> interimHeads = new ArrayList<>(2);

    private int interimBytes;
    /** The head so far, when it spans more than one read; else unused. */
    private byte[] head = new byte[512];

    private int headLength;
    private ByteBuffer scratch;
    private ByteBuffer pending;
    private boolean armed;
    private long limit;
    private byte[] finalHead;
    /** Progress through CR LF CR LF. */
    private int matched;

    private byte previous;
    private boolean bareLineEnd;

    private boolean headRequest;
    private int maxTrailerBytes;
    /** Checks the final response's chunked body while it is read, else null. */
    private ChunkGrammar chunks;
    /** Why the body was refused; thrown by every read once the valid bytes before it are passed on. */
    private IOException malformed;

    HeadCapture(StreamSourceConduit next) {
        super(next);
    }

    /**
     * A request is about to go out: keep the head of its response, up to {@code limit} bytes (past
     * that, the head is passed on unkept and {@link #finalHead} is null).
     */
    void expectResponse(long limit, boolean headRequest) {
        this.limit = limit;
        this.headRequest = headRequest;
        this.maxTrailerBytes = (int) Math.min(limit, Integer.MAX_VALUE);
        chunks = null;
        malformed = null;
        armed = true;
        interims.clear();
        interimHeads.clear();
        interimBytes = 0;
        finalHead = null;
        startHead();
    }

    /** The final response's head as it arrived (status line to the empty line), or null. */
    byte[] finalHead() {
        return finalHead;
    }

    /** Why the final response's chunked body was refused, or null. */
    FetchException malformedBody() {
        return malformed == null ? null : (FetchException) malformed.getCause();
    }

    /** The interim statuses taken out before the final response, in order. */
    List<Integer> interims() {
        return interims;
    }

    /**
     * The interim heads taken out, as they arrived, to be forwarded: all but {@code 100} (Sluice never
     * forwards an {@code Expect}, so a {@code 100} answers nothing the client asked; RFC 9110 §15.2
     * lets a proxy drop it), the first {@link #MAX_INTERIM_HEADS} within {@link #MAX_INTERIM_BYTES}.
     */
    List<byte[]> interimHeads() {
        return interimHeads;
    }

    @Override
    public int read(ByteBuffer dst) throws IOException {
        if (pending != null) return drain(dst);
        if (malformed != null) throw malformed;
        if (!armed && chunks != null) return readChecked(dst);
        if (!armed) return next.read(dst);
        // Bytes are read into a buffer of ours and scanned there; what follows the head goes to
        // Undertow from the same buffer (pending), so the buffer is only reused once drained.
        if (scratch == null) scratch = ByteBuffer.allocate(4096);
        while (armed) {
            scratch.clear();
            int n = next.read(scratch);
            if (n == 0) return 0;
            if (n < 0) {
                // Closed mid-head: Undertow gets what came and reports the close itself.
                armed = false;
                if (headLength == 0) return -1;
                pending = ByteBuffer.wrap(Arrays.copyOf(head, headLength));
                break;
            }
            scan(scratch.array(), 0, n);
        }
        return drain(dst);
    }

    /** Scans {@code in[from, to)}, one read's bytes, for the end of the head and for interim heads. */
    private void scan(byte[] in, int from, int to) {
        int headStart = from; // where the current head's bytes in this read begin
        int m = matched;
        byte prev = previous;
        boolean bare = bareLineEnd;
        for (int i = from; i < to; i++) {
            byte b = in[i];
            if (b == '\n') {
                if (prev != '\r') bare = true;
                m = (m == 1 || m == 3) ? m + 1 : 0;
            } else if (b == '\r') {
                if (prev == '\r') bare = true;
                m = (m == 0 || m == 2) ? m + 1 : 1;
            } else {
                if (prev == '\r') bare = true;
                m = 0;
            }
            prev = b;
            if (m == 4) {
                int end = i + 1;
                byte[] complete = completeHead(in, headStart, end);
                int status = interimStatus(complete);
                if (status > 0 && !bare) {
                    // Taken out: Undertow never sees it.
                    interims.add(status);
                    if (status != 100
                            && interimHeads.size() < MAX_INTERIM_HEADS
                            && interimBytes + complete.length <= MAX_INTERIM_BYTES) {
                        interimHeads.add(complete);
                        interimBytes += complete.length;
                    }
                    startHead();
                    m = 0;
                    prev = 0;
                    bare = false;
                    headStart = end;
                    continue;
                }
                finalHead = bare ? null : complete;
                if (!headRequest && chunkedBody(complete)) {
                    chunks = new ChunkGrammar(maxTrailerBytes, "server.max_response_header_size");
                }
                handOn(complete, in, headStart, end, to);
                return;
            }
            if (headLength + (i + 1 - headStart) > limit) {
                handOn(completeHead(in, headStart, i + 1), in, headStart, i + 1, to);
                return;
            }
        }
        append(in, headStart, to);
        matched = m;
        previous = prev;
        bareLineEnd = bare;
    }

    /** The whole head, earlier reads' part followed by {@code in[from, to)}. */
    private byte[] completeHead(byte[] in, int from, int to) {
        if (headLength == 0) return Arrays.copyOfRange(in, from, to);
        append(in, from, to);
        return Arrays.copyOf(head, headLength);
    }

    private void append(byte[] in, int from, int to) {
        int n = to - from;
        if (headLength + n > head.length) head = Arrays.copyOf(head, Math.max(head.length * 2, headLength + n));
        System.arraycopy(in, from, head, headLength, n);
        headLength += n;
    }

    /**
     * Passes the head ({@code headBytes}, whose last part is {@code in[from, end)}) and the rest of
     * this read ({@code in[end, to)}) to Undertow, and stops looking.
     */
    private void handOn(byte[] headBytes, byte[] in, int from, int end, int to) {
        armed = false;
        if (chunks != null) to = checked(ByteBuffer.wrap(in), end, to);
        if (headBytes.length == end - from) {
            // The head came in this read: hand on the read's own bytes, uncopied.
            pending = ByteBuffer.wrap(in, from, to - from);
        } else {
            ByteBuffer all = ByteBuffer.allocate(headBytes.length + to - end);
            all.put(headBytes).put(in, end, to - end).flip();
            pending = all;
        }
        if (!pending.hasRemaining()) pending = null;
    }

    /** Reads body bytes into {@code dst} and passes on only those the chunk grammar accepts. */
    private int readChecked(ByteBuffer dst) throws IOException {
        int from = dst.position();
        int n = next.read(dst);
        if (n <= 0) return n;
        int end = checked(dst, from, from + n);
        dst.position(end);
        if (end == from && malformed != null) throw malformed;
        return end - from;
    }

    /**
     * Runs the grammar over {@code buf[from, to)}; returns the end of what may be passed on: all of
     * it while the body is valid or once it ended (bytes after it are Undertow's to judge), else the
     * index of the refused byte, with {@link #malformed} set.
     */
    private int checked(ByteBuffer buf, int from, int to) {
        int valid = chunks.check(buf, from, to);
        String failure = chunks.failure();
        if (failure != null) {
            chunks = null;
            FetchException typed = ProtocolError.INVALID_FRAMING.failure(
                    "upstream sent a malformed chunked body (" + failure + "; RFC 9112 §7.1)");
            malformed = new IOException(typed.getMessage(), typed);
            return valid;
        }
        if (chunks.done()) chunks = null;
        return to;
    }

    /**
     * Whether the final head {@code h} announces a chunked body: a status that has one (not 1xx, 204,
     * 304) and a {@code Transfer-Encoding} field line whose value is {@code chunked}. Any other
     * coding, or one with {@code Content-Length}, is refused by {@code Http1Exchange} as soon as the
     * head is parsed, so its body is never relayed. Runs on every response: read on the bytes.
     */
    static boolean chunkedBody(byte[] h) {
        if (h.length > 12 && (h[9] == '1' || startsWith(h, 9, "204") || startsWith(h, 9, "304"))) {
            return false;
        }
        int line = 0;
        while (line < h.length) {
            int end = line;
            while (end < h.length && h[end] != '\r') end++;
            int colon = line;
            while (colon < end && h[colon] != ':') colon++;
            if (colon - line == 17 && regionIgnoringCase(h, line, "transfer-encoding")) {
                int v = colon + 1;
                int w = end;
                while (v < w && (h[v] == ' ' || h[v] == '\t')) v++;
                while (w > v && (h[w - 1] == ' ' || h[w - 1] == '\t')) w--;
                if (w - v == 7 && regionIgnoringCase(h, v, "chunked")) return true;
            }
            line = end + 2;
        }
        return false;
    }

    private static boolean startsWith(byte[] h, int at, String s) {
        if (at + s.length() > h.length) return false;
        for (int i = 0; i < s.length(); i++) {
            if (h[at + i] != s.charAt(i)) return false;
        }
        return true;
    }

    private static boolean regionIgnoringCase(byte[] h, int at, String lower) {
        for (int i = 0; i < lower.length(); i++) {
            if (Character.toLowerCase((char) (h[at + i] & 0xff)) != lower.charAt(i)) return false;
        }
        return true;
    }

    private void startHead() {
        headLength = 0;
        matched = 0;
        previous = 0;
        bareLineEnd = false;
    }

    /** The status of an interim (1xx, not 101) status line at the start of {@code h}, else 0. */
    private static int interimStatus(byte[] h) {
        if (h.length < 13 || h[0] != 'H' || h[1] != 'T' || h[2] != 'T' || h[3] != 'P' || h[4] != '/') return 0;
        if (h[5] != '1' || h[6] != '.' || h[8] != ' ' || h[9] != '1' || h[12] != ' ') return 0;
        if (!isDigit(h[7]) || !isDigit(h[10]) || !isDigit(h[11])) return 0;
        int status = 100 + (h[10] - '0') * 10 + (h[11] - '0');
        return status == 101 ? 0 : status;
    }

    private static boolean isDigit(byte b) {
        return b >= '0' && b <= '9';
    }

    private int drain(ByteBuffer dst) {
        int n = Math.min(dst.remaining(), pending.remaining());
        ByteBuffer slice = pending.slice(pending.position(), n);
        dst.put(slice);
        pending.position(pending.position() + n);
        if (!pending.hasRemaining()) pending = null;
        return n;
    }

    @Override
    public long read(ByteBuffer[] dsts, int offs, int len) throws IOException {
        if (passingThrough()) return next.read(dsts, offs, len);
        for (int i = offs; i < offs + len; i++) {
            if (dsts[i].hasRemaining()) return read(dsts[i]);
        }
        return 0;
    }

    @Override
    public long transferTo(long position, long count, FileChannel target) throws IOException {
        if (passingThrough()) return next.transferTo(position, count, target);
        return target.transferFrom(new ConduitReadableByteChannel(this), position, count);
    }

    @Override
    public long transferTo(long count, ByteBuffer throughBuffer, StreamSinkChannel target) throws IOException {
        if (passingThrough()) return next.transferTo(count, throughBuffer, target);
        return Conduits.transfer(this, count, throughBuffer, target);
    }

    private boolean passingThrough() {
        return pending == null && !armed && chunks == null && malformed == null;
    }

    @Override
    public void resumeReads() {
        next.resumeReads();
        // Bytes held here, or a failure, make no read-ready event of their own.
        if (pending != null || malformed != null) next.wakeupReads();
    }

    @Override
    public void awaitReadable() throws IOException {
        if (pending == null && malformed == null) next.awaitReadable();
    }

    @Override
    public void awaitReadable(long time, TimeUnit timeUnit) throws IOException {
        if (pending == null && malformed == null) next.awaitReadable(time, timeUnit);
    }

    @Override
    public void terminateReads() throws IOException {
        pending = null;
        armed = false;
        chunks = null;
        next.terminateReads();
    }
}
