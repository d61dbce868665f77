package io.sluice.fetch;

import java.net.http.HttpRequest;
import java.nio.ByteBuffer;
import java.util.concurrent.Flow;

/**
 * A request body: none, bytes in memory (replayable, so the request can be retried or
 * redirected), or a stream from the client (sent once, never buffered whole).
 */
public sealed interface RequestBody {

    /** Whether the body can be sent more than once. */
    boolean replayable();

    /** Bytes that will be sent, or -1 when a stream of unknown length. */
    long length();

    HttpRequest.BodyPublisher publisher();

    static RequestBody empty() {
        return Empty.INSTANCE;
    }

    static RequestBody of(byte[] bytes) {
        return bytes.length == 0 ? Empty.INSTANCE : new Bytes(bytes);
    }

    static RequestBody streaming(Flow.Publisher<ByteBuffer> publisher, long length) {
        return new Streaming(publisher, length);
    }

    enum Empty implements RequestBody {
        INSTANCE;

        @Override
        public boolean replayable() {
            return true;
        }

        @Override
        public long length() {
            return 0;
        }

        @Override
        public HttpRequest.BodyPublisher publisher() {
            return HttpRequest.BodyPublishers.noBody();
        }
    }

    record Bytes(byte[] bytes) implements RequestBody {
        @Override
        public boolean replayable() {
            return true;
        }

        @Override
        public long length() {
            return bytes.length;
        }

        @Override
        public HttpRequest.BodyPublisher publisher() {
            return HttpRequest.BodyPublishers.ofByteArray(bytes);
        }
    }

    record Streaming(Flow.Publisher<ByteBuffer> source, long length) implements RequestBody {
        @Override
        public boolean replayable() {
            return false;
        }

        @Override
        public HttpRequest.BodyPublisher publisher() {
            return length >= 0
                    ? HttpRequest.BodyPublishers.fromPublisher(source, length)
                    : HttpRequest.BodyPublishers.fromPublisher(source);
        }
    }
}
