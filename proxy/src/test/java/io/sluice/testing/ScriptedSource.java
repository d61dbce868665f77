package io.sluice.testing;

import java.lang.reflect.Proxy;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.util.ArrayDeque;
import java.util.Arrays;
import java.util.Deque;
import org.xnio.conduits.StreamSourceConduit;

/**
 * An XNIO source conduit that gives scripted bytes, read by read, then end of stream: for testing a
 * conduit that sits under a parser against every way the bytes can be cut into reads. Only
 * {@code read(ByteBuffer)} is supported; anything else fails the test that calls it.
 */
public final class ScriptedSource {
    private ScriptedSource() {}

    /** {@code text} in reads of at most {@code size} bytes. */
    public static StreamSourceConduit inReadsOf(String text, int size) {
        Deque<byte[]> reads = new ArrayDeque<>();
        byte[] all = text.getBytes(StandardCharsets.ISO_8859_1);
        for (int i = 0; i < all.length; i += size) {
            reads.add(Arrays.copyOfRange(all, i, Math.min(all.length, i + size)));
        }
        return of(reads);
    }

    /** Each of {@code parts} as one read (as far as the reader's buffer takes it). */
    public static StreamSourceConduit reads(String... parts) {
        Deque<byte[]> reads = new ArrayDeque<>();
        for (String part : parts) reads.add(part.getBytes(StandardCharsets.ISO_8859_1));
        return of(reads);
    }

    private static StreamSourceConduit of(Deque<byte[]> reads) {
        return (StreamSourceConduit) Proxy.newProxyInstance(
                StreamSourceConduit.class.getClassLoader(),
                new Class<?>[] {StreamSourceConduit.class},
                (p, m, args) -> {
                    if (!m.getName().equals("read") || !(args[0] instanceof ByteBuffer dst)) {
                        throw new UnsupportedOperationException(m.toString());
                    }
                    byte[] next = reads.poll();
                    if (next == null) return -1;
                    int n = Math.min(next.length, dst.remaining());
                    dst.put(next, 0, n);
                    if (n < next.length) reads.push(Arrays.copyOfRange(next, n, next.length));
                    return n;
                });
    }
}
