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

    private static void frame(ByteArrayOutputStream out, int type, int stream, byte[] payload) {
        out.write(payload.length >>> 16);
        out.write(payload.length >>> 8);
        out.write(payload.length);
        out.write(type);
        out.write(0);
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
