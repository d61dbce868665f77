package io.sluice.send;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.ByteArrayOutputStream;
import java.nio.ByteBuffer;
import java.util.ArrayDeque;
import java.util.Deque;
import org.junit.jupiter.api.Test;
import org.xnio.conduits.StreamSourceConduit;

/**
 * {@link Http2FrameTap} follows frame lengths across reads of any size and passes every byte on, but a
 * GOAWAY's type byte, which it turns into an undefined type for the parser above to drop.
 */
class Http2FrameTapTest {

    @Test
    void readsResetCodesAndTheGoAwayWhereverTheReadsSplitTheFrames() throws Exception {
        ByteArrayOutputStream wire = new ByteArrayOutputStream();
        frame(wire, 0x4, 0, new byte[18]); // SETTINGS with three settings
        frame(wire, 0x1, 1, new byte[40]); // HEADERS of stream 1
        frame(wire, 0x0, 1, new byte[300]); // DATA of stream 1
        frame(wire, 0x3, 3, int32(Http2FrameTap.REFUSED_STREAM)); // RST_STREAM 3 REFUSED_STREAM
        frame(wire, 0x3, 5, int32(0x8)); // RST_STREAM 5 CANCEL
        frame(wire, 0x0, 7, new byte[0]); // an empty DATA frame
        byte[] goAway = new byte[12];
        System.arraycopy(int32(9), 0, goAway, 0, 4); // last stream 9, then NO_ERROR and debug data
        int goAwayAt = wire.size();
        frame(wire, 0x7, 0, goAway);
        frame(wire, 0x0, 11, new byte[3]); // DATA after it
        byte[] bytes = wire.toByteArray();
        byte[] expected = bytes.clone();
        expected[goAwayAt + 3] = (byte) 0xf7;

        for (int chunk : new int[] {1, 2, 5, 9, 13, 64, bytes.length}) {
            Deque<byte[]> reads = new ArrayDeque<>();
            for (int i = 0; i < bytes.length; i += chunk) {
                reads.add(java.util.Arrays.copyOfRange(bytes, i, Math.min(bytes.length, i + chunk)));
            }
            Http2FrameTap tap = new Http2FrameTap(source(reads));
            java.util.List<Integer> goneAway = new java.util.ArrayList<>();
            tap.onGoAway(goneAway::add);
            ByteArrayOutputStream passed = new ByteArrayOutputStream();
            ByteBuffer buffer = ByteBuffer.allocate(100);
            int n;
            while ((n = tap.read(buffer)) > 0) {
                passed.write(buffer.array(), 0, n);
                buffer.clear();
            }

            assertThat(passed.toByteArray())
                    .as("read %d bytes at a time", chunk)
                    .isEqualTo(expected);
            assertThat(goneAway).containsExactly(9);
            assertThat(tap.resetBy(3)).as("chunk %d", chunk).isEqualTo(Http2FrameTap.REFUSED_STREAM);
            assertThat(tap.resetBy(3)).as("asked once").isEqualTo(-1);
            assertThat(tap.resetBy(5)).isEqualTo(0x8);
            assertThat(tap.resetBy(1)).isEqualTo(-1);
            assertThat(tap.beyondGoAway(9)).isFalse();
            assertThat(tap.beyondGoAway(11)).as("chunk %d", chunk).isTrue();
        }
    }

    @Test
    void withoutAGoAwayNoStreamIsBeyondIt() throws Exception {
        ByteArrayOutputStream wire = new ByteArrayOutputStream();
        frame(wire, 0x4, 0, new byte[0]);
        Deque<byte[]> reads = new ArrayDeque<>();
        reads.add(wire.toByteArray());
        Http2FrameTap tap = new Http2FrameTap(source(reads));
        tap.read(ByteBuffer.allocate(64));

        assertThat(tap.beyondGoAway(Integer.MAX_VALUE)).isFalse();
    }

    /**
     * Each open stream's DATA is counted, padding aside (Undertow credits padding itself); once Sluice lets
     * go of a stream the origin has not ended, the DATA that still arrives for it is reported to be
     * credited; a reset of a stream mid-body is reported, one after its body's end is not.
     */
    @Test
    void countsEachOpenStreamsDataAndReportsWhatNoReaderWillTakeOut() throws Exception {
        ByteArrayOutputStream before = new ByteArrayOutputStream();
        frame(before, 0x0, 0, 1, new byte[300]);
        byte[] padded = new byte[61];
        padded[0] = 10; // pad length: 50 bytes of data, then 10 of padding
        frame(before, 0x0, 0x8, 1, padded);
        frame(before, 0x0, 0, 3, new byte[100]);
        frame(before, 0x0, 0x1, 5, new byte[20]); // END_STREAM
        frame(before, 0x0, 0, 7, new byte[40]);
        frame(before, 0x3, 0, 7, int32(0x2)); // RST_STREAM INTERNAL_ERROR, mid-body
        frame(before, 0x0, 0x1, 9, new byte[8]);
        frame(before, 0x3, 0, 9, int32(0x0)); // RST_STREAM NO_ERROR, after the body's end
        ByteArrayOutputStream after = new ByteArrayOutputStream();
        frame(after, 0x0, 0, 3, new byte[200]);
        frame(after, 0x0, 0x8, 3, padded); // the whole frame counts once no one reads the stream
        frame(after, 0x0, 0x1, 3, new byte[50]);
        frame(after, 0x0, 0, 3, new byte[10]); // past its end: not the origin's to send
        frame(after, 0x0, 0, 5, new byte[30]);

        for (int chunk : new int[] {1, 2, 5, 9, 13, 64, 1_000}) {
            Http2FrameTap tap = new Http2FrameTap(source(chunks(before.toByteArray(), after.toByteArray(), chunk)));
            long[] uncredited = {0};
            java.util.List<Integer> resetMidBody = new java.util.ArrayList<>();
            tap.onUncredited(bytes -> uncredited[0] += bytes);
            tap.onOpenStreamReset(resetMidBody::add);
            for (int stream : new int[] {1, 3, 5, 7, 9}) tap.track(stream);
            readAll(tap, before.size());

            assertThat(resetMidBody).as("chunk %d", chunk).containsExactly(7);
            assertThat(tap.release(1)).as("chunk %d", chunk).isEqualTo(350);
            assertThat(tap.release(3)).isEqualTo(100);
            assertThat(tap.release(5)).isEqualTo(20);
            assertThat(tap.release(7)).isEqualTo(40);
            assertThat(tap.release(9)).isEqualTo(8);
            assertThat(tap.release(11)).as("never tracked").isZero();
            assertThat(uncredited[0]).isZero();

            readAll(tap, after.size());

            assertThat(uncredited[0]).as("chunk %d", chunk).isEqualTo(200 + 61 + 50);
        }
    }

    /** {@code first} then {@code second} in reads of {@code chunk} bytes, none across the two. */
    private static Deque<byte[]> chunks(byte[] first, byte[] second, int chunk) {
        Deque<byte[]> reads = new ArrayDeque<>();
        for (byte[] bytes : new byte[][] {first, second}) {
            for (int i = 0; i < bytes.length; i += chunk) {
                reads.add(java.util.Arrays.copyOfRange(bytes, i, Math.min(bytes.length, i + chunk)));
            }
        }
        return reads;
    }

    private static void readAll(Http2FrameTap tap, int bytes) throws java.io.IOException {
        for (int read = 0; read < bytes; ) {
            ByteBuffer buffer = ByteBuffer.allocate(bytes - read);
            read += tap.read(buffer);
        }
    }

    private static void frame(ByteArrayOutputStream out, int type, int stream, byte[] payload) {
        frame(out, type, 0, stream, payload);
    }

    private static void frame(ByteArrayOutputStream out, int type, int flags, int stream, byte[] payload) {
        out.write(payload.length >>> 16);
        out.write(payload.length >>> 8);
        out.write(payload.length);
        out.write(type);
        out.write(flags);
        out.writeBytes(int32(stream));
        out.writeBytes(payload);
    }

    private static byte[] int32(int v) {
        return new byte[] {(byte) (v >>> 24), (byte) (v >>> 16), (byte) (v >>> 8), (byte) v};
    }

    /** A conduit whose reads hand out {@code reads} one by one, then the end of the stream. */
    private static StreamSourceConduit source(Deque<byte[]> reads) {
        return (StreamSourceConduit) java.lang.reflect.Proxy.newProxyInstance(
                Http2FrameTapTest.class.getClassLoader(), new Class<?>[] {StreamSourceConduit.class}, (p, m, a) -> {
                    if (m.getName().equals("read") && a.length == 1) {
                        if (reads.isEmpty()) return -1;
                        byte[] next = reads.peek();
                        ByteBuffer dst = (ByteBuffer) a[0];
                        int n = Math.min(dst.remaining(), next.length);
                        dst.put(next, 0, n);
                        reads.pop();
                        if (n < next.length) reads.push(java.util.Arrays.copyOfRange(next, n, next.length));
                        return n;
                    }
                    throw new UnsupportedOperationException(m.getName());
                });
    }
}
