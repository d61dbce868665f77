package io.sluice.server;

import io.undertow.conduits.ChunkedStreamSourceConduit;
import io.undertow.conduits.ReadDataStreamSourceConduit;
import io.undertow.connector.PooledByteBuffer;
import io.undertow.server.Connectors;
import io.undertow.server.HttpServerExchange;
import io.undertow.server.protocol.http.HttpServerConnection;
import io.undertow.util.AttachmentKey;
import java.io.IOException;
import java.nio.ByteBuffer;
import org.xnio.conduits.StreamSourceConduit;

/**
 * Puts a {@link ChunkGrammar} under Undertow's chunked decoder for one request: the raw bytes pass
 * the grammar on their way to the decoder, which only ever sees a valid prefix of the body. A
 * refused byte fails the read above the decoder (the decoder itself would close the connection on
 * any error from below, before a {@code 400} could be sent) with {@link Malformed}; the exchange is
 * then not persistent and its request is over, so nothing after the bad byte is read again, as a
 * body or as a next request. Bodies that stream upstream abort there (see {@code send/Http1Exchange.abort}):
 * the upstream never sees a complete request with an altered body.
 */
final class StrictChunkedBody {
    private static final AttachmentKey<String> MALFORMED = AttachmentKey.create(String.class);

    /** The request body broke RFC 9112 §7.1's framing; the message says how. */
    static final class Malformed extends IOException {
        Malformed(String message) {
            super("malformed chunked body: " + message);
        }
    }

    private StrictChunkedBody() {}

    /** Why {@code exchange}'s chunked body was refused while it streamed, or null. */
    static String malformed(HttpServerExchange exchange) {
        return exchange.getAttachment(MALFORMED);
    }

    /**
     * Checks what already arrived with the head and, if that is valid, rebuilds the request's source
     * as Undertow's decoder over the grammar. Returns why the body is refused, or null. Must run
     * before anything reads the body.
     */
    static String install(HttpServerExchange exchange, HttpServerConnection connection, ChunkGrammar grammar) {
        PooledByteBuffer early = connection.getExtraBytes();
        int pending = 0;
        if (early != null) {
            ByteBuffer bytes = early.getBuffer();
            grammar.check(bytes, bytes.position(), bytes.limit());
            if (grammar.failure() != null) return grammar.failure();
            pending = bytes.remaining();
        }
        var below = new Validating(
                new ReadDataStreamSourceConduit(connection.getOriginalSourceConduit(), connection),
                connection,
                grammar,
                pending);
        // The drain listener Undertow gives its own decoder (HttpTransferEncoding's, not public).
        var decoder = new ChunkedStreamSourceConduit(below, exchange, chunked -> {
            if (!chunked.isFinished()) exchange.setPersistent(false);
            Connectors.terminateRequest(exchange);
        });
        connection.getChannel().getSourceChannel().setConduit(new Failing(decoder, exchange, grammar));
        return null;
    }

    /**
     * Below the decoder. The decoder pushes bytes it read but did not use back into the connection
     * ({@code ungetRequestBytes}), and reads them again through here: those are counted as
     * {@code replay} (the growth of the connection's pending bytes between two reads) and not checked
     * twice. On a refused byte only the valid prefix is handed up.
     */
    private static final class Validating extends ReadThroughConduit {
        private final HttpServerConnection connection;
        private final ChunkGrammar grammar;
        private int replay;
        private int pendingAfterLastRead;

        Validating(StreamSourceConduit next, HttpServerConnection connection, ChunkGrammar grammar, int checked) {
            super(next);
            this.connection = connection;
            this.grammar = grammar;
            this.replay = checked;
            this.pendingAfterLastRead = checked;
        }

        @Override
        public int read(ByteBuffer dst) throws IOException {
            if (grammar.failure() != null) return 0;
            int pending = pending();
            if (pending > pendingAfterLastRead) replay += pending - pendingAfterLastRead;
            int start = dst.position();
            int n = next.read(dst);
            if (n > 0 && !grammar.done()) {
                int skip = Math.min(replay, n);
                replay -= skip;
                int end = grammar.check(dst, start + skip, start + n);
                if (grammar.failure() != null) {
                    dst.position(end);
                    n = end - start;
                }
            } else if (n > 0) {
                replay = Math.max(0, replay - n);
            }
            pendingAfterLastRead = pending();
            return n;
        }

        private int pending() {
            PooledByteBuffer extra = connection.getExtraBytes();
            return extra == null ? 0 : extra.getBuffer().remaining();
        }
    }

    /** Above the decoder: turns the grammar's refusal into {@link Malformed} and ends the request. */
    private static final class Failing extends ReadThroughConduit {
        private final HttpServerExchange exchange;
        private final ChunkGrammar grammar;

        Failing(StreamSourceConduit next, HttpServerExchange exchange, ChunkGrammar grammar) {
            super(next);
            this.exchange = exchange;
            this.grammar = grammar;
        }

        @Override
        public int read(ByteBuffer dst) throws IOException {
            check();
            int n = next.read(dst);
            check();
            return n;
        }

        @Override
        public long read(ByteBuffer[] dsts, int offset, int length) throws IOException {
            check();
            long n = next.read(dsts, offset, length);
            check();
            return n;
        }

        private void check() throws Malformed {
            String failure = grammar.failure();
            if (failure == null) return;
            exchange.putAttachment(MALFORMED, failure);
            exchange.setPersistent(false);
            // The request is over here: Undertow must not drain (parse) the rest when the exchange ends.
            Connectors.terminateRequest(exchange);
            throw new Malformed(failure);
        }
    }
}
