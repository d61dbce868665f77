package io.sluice.server;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import org.xnio.channels.StreamSinkChannel;
import org.xnio.conduits.AbstractStreamSourceConduit;
import org.xnio.conduits.ConduitReadableByteChannel;
import org.xnio.conduits.Conduits;
import org.xnio.conduits.StreamSourceConduit;

/**
 * A source conduit that sees every byte it hands up in {@link #read(ByteBuffer)}: a vectored read fills
 * the first buffer with room through it, and transfers are made of such reads, so no byte passes by
 * another way. For conduits that check or watch a stream under Undertow's parsers.
 */
public abstract class ReadThroughConduit extends AbstractStreamSourceConduit<StreamSourceConduit> {
    protected ReadThroughConduit(StreamSourceConduit next) {
        super(next);
    }

    @Override
    public long read(ByteBuffer[] dsts, int offs, int len) throws IOException {
        for (int i = offs; i < offs + len; i++) {
            if (dsts[i].hasRemaining()) return read(dsts[i]);
        }
        return 0;
    }

    @Override
    public long transferTo(long position, long count, FileChannel target) throws IOException {
        return target.transferFrom(new ConduitReadableByteChannel(this), position, count);
    }

    @Override
    public long transferTo(long count, ByteBuffer throughBuffer, StreamSinkChannel target) throws IOException {
        return Conduits.transfer(this, count, throughBuffer, target);
    }
}
