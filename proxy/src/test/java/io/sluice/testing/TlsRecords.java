package io.sluice.testing;

import java.nio.ByteBuffer;

/** Test help: TLS handshake bytes re-framed into smaller records, as a client may legally send them. */
public final class TlsRecords {
    private TlsRecords() {}

    /**
     * The handshake bytes of the single record in {@code record} (from its position), re-framed into
     * records of at most {@code size} bytes each with the same type and version.
     */
    public static ByteBuffer recut(ByteBuffer record, int size) {
        ByteBuffer in = record.duplicate();
        byte[] header = new byte[5];
        in.get(header);
        ByteBuffer out = ByteBuffer.allocate(in.remaining() * 6 + 64); // a record of one byte takes six
        while (in.hasRemaining()) {
            int n = Math.min(size, in.remaining());
            out.put(header, 0, 3).putShort((short) n);
            byte[] part = new byte[n];
            in.get(part);
            out.put(part);
        }
        return out.flip();
    }
}
