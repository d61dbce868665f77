package io.sluice.fetch;

import io.sluice.server.ChunkGrammar;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.util.ArrayList;
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
 *
 * <p>It checks a chunked response body against RFC 9112 §7.1 ({@link ChunkGrammar}) before
 * Undertow's decoder reads it: that decoder, the same lenient one as on the server side, drops bytes
 * between a chunk's data and its CRLF, takes a bare LF as a line end and reads {@code 0x5} as a last
 * chunk, so {@code 3\r\nbogus\r\n0\r\n\r\n} would reach the client as a valid {@code bog}. The
 * valid prefix is passed on; the next read fails with a typed {@code upstream sent ...} error.
 */
final class HeadCapture extends AbstractStreamSourceConduit<StreamSourceConduit> {
    private final ByteArrayOutputStream head = new ByteArrayOutputStream(512);
    private final List<Integer> interims = new ArrayList<>(2);
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
        head.reset();
        interims.clear();
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

    @Override
    public int read(ByteBuffer dst) throws IOException {
        if (pending != null) return drain(dst);
        if (malformed != null) throw malformed;
        if (!armed && chunks != null) return readChecked(dst);
        if (!armed) return next.read(dst);
        if (scratch == null) scratch = ByteBuffer.allocate(4096);
        while (armed) {
            scratch.clear();
            int n = next.read(scratch);
            if (n == 0) return 0;
            if (n < 0) {
                // Closed mid-head: Undertow gets what came and reports the close itself.
                armed = false;
                if (head.size() == 0) return -1;
                pending = ByteBuffer.wrap(head.toByteArray());
                break;
            }
            scratch.flip();
            scan(scratch);
        }
        return drain(dst);
    }

    private void scan(ByteBuffer in) {
        while (in.hasRemaining()) {
            byte b = in.get();
            head.write(b);
            if (b == '\n' && previous != '\r') bareLineEnd = true;
            if (previous == '\r' && b != '\n') bareLineEnd = true;
            matched = switch (matched) {
                case 0, 2 -> b == '\r' ? matched + 1 : 0;
                case 1, 3 -> b == '\n' ? matched + 1 : (b == '\r' ? 1 : 0);
                default -> 0;
            };
            previous = b;
            if (matched == 4) {
                byte[] complete = head.toByteArray();
                int status = interimStatus(complete);
                if (status > 0 && !bareLineEnd) {
                    interims.add(status);
                    startHead();
                    continue;
                }
                finalHead = bareLineEnd ? null : complete;
                if (!headRequest && chunkedBody(complete)) {
                    chunks = new ChunkGrammar(maxTrailerBytes, "server.max_response_header_size");
                }
                handOn(complete, in);
                return;
            }
            if (head.size() > limit) {
                handOn(head.toByteArray(), in);
                return;
            }
        }
    }

    /** Passes {@code headBytes} and the rest of {@code in} to Undertow, and stops looking. */
    private void handOn(byte[] headBytes, ByteBuffer in) {
        armed = false;
        int end = chunks == null ? in.limit() : checked(in, in.position(), in.limit());
        ByteBuffer all = ByteBuffer.allocate(headBytes.length + end - in.position());
        all.put(headBytes).put(in.slice(in.position(), end - in.position())).flip();
        in.position(in.limit());
        pending = all;
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
     * head is parsed, so its body is never relayed.
     */
    private static boolean chunkedBody(byte[] h) {
        String text = new String(h, java.nio.charset.StandardCharsets.ISO_8859_1);
        if (text.length() > 12 && (text.charAt(9) == '1' || text.startsWith("204", 9) || text.startsWith("304", 9))) {
            return false;
        }
        for (String line : text.split("\r\n")) {
            int colon = line.indexOf(':');
            if (colon > 0
                    && line.substring(0, colon).equalsIgnoreCase("transfer-encoding")
                    && line.substring(colon + 1).strip().equalsIgnoreCase("chunked")) {
                return true;
            }
        }
        return false;
    }

    private void startHead() {
        head.reset();
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
