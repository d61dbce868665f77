package io.sluice.fetch;

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
 * sees them. Undertow's client skips {@code 100} but takes any other 1xx as the final response and
 * then misreads the real one. A 1xx never has a body (RFC 9112 §6.3), so one ends at its first empty
 * line; a head with a bare CR or LF is not taken out but left to Undertow's strict parser, which
 * refuses it, so this never decides where a message ends when Undertow would decide otherwise.
 */
final class HeadCapture extends AbstractStreamSourceConduit<StreamSourceConduit> {
    private final List<Integer> interims = new ArrayList<>(2);
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

    HeadCapture(StreamSourceConduit next) {
        super(next);
    }

    /**
     * A request is about to go out: keep the head of its response, up to {@code limit} bytes (past
     * that, the head is passed on unkept and {@link #finalHead} is null).
     */
    void expectResponse(long limit) {
        this.limit = limit;
        armed = true;
        interims.clear();
        finalHead = null;
        startHead();
    }

    /** The final response's head as it arrived (status line to the empty line), or null. */
    byte[] finalHead() {
        return finalHead;
    }

    /** The interim statuses taken out before the final response, in order. */
    List<Integer> interims() {
        return interims;
    }

    @Override
    public int read(ByteBuffer dst) throws IOException {
        if (pending != null) return drain(dst);
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
                    startHead();
                    m = 0;
                    prev = 0;
                    bare = false;
                    headStart = end;
                    continue;
                }
                finalHead = bare ? null : complete;
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
        if (pending == null && !armed) return next.read(dsts, offs, len);
        for (int i = offs; i < offs + len; i++) {
            if (dsts[i].hasRemaining()) return read(dsts[i]);
        }
        return 0;
    }

    @Override
    public long transferTo(long position, long count, FileChannel target) throws IOException {
        if (pending == null && !armed) return next.transferTo(position, count, target);
        return target.transferFrom(new ConduitReadableByteChannel(this), position, count);
    }

    @Override
    public long transferTo(long count, ByteBuffer throughBuffer, StreamSinkChannel target) throws IOException {
        if (pending == null && !armed) return next.transferTo(count, throughBuffer, target);
        return Conduits.transfer(this, count, throughBuffer, target);
    }

    @Override
    public void resumeReads() {
        next.resumeReads();
        // Bytes held here make no read-ready event of their own.
        if (pending != null) next.wakeupReads();
    }

    @Override
    public void awaitReadable() throws IOException {
        if (pending == null) next.awaitReadable();
    }

    @Override
    public void awaitReadable(long time, TimeUnit timeUnit) throws IOException {
        if (pending == null) next.awaitReadable(time, timeUnit);
    }

    @Override
    public void terminateReads() throws IOException {
        pending = null;
        armed = false;
        next.terminateReads();
    }
}
