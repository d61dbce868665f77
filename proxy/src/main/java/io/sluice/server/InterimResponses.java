package io.sluice.server;

import io.sluice.fetch.HopByHop;
import io.sluice.fetch.Interim;
import io.undertow.server.HttpServerExchange;
import io.undertow.server.protocol.http.HttpServerConnection;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.util.List;
import org.xnio.IoUtils;
import org.xnio.channels.StreamSinkChannel;

/**
 * Forwards an upstream's interim responses (RFC 9110 §15.2: "A proxy MUST forward 1xx responses
 * unless the proxy itself requested [them]"; RFC 8297 for {@code 103 Early Hints}) to an HTTP/1.1
 * client, before the final response.
 *
 * <p>Undertow's server has no API for this: {@code ServerConnection.sendOutOfBandResponse} serves
 * {@code Expect: 100-continue} only and throws for any other request. So the heads are written on
 * the connection's own sink, below the exchange's response conduits, before the final response
 * starts: at that point nothing of this exchange's response has been written, and the previous
 * response on the connection was flushed whole before its exchange completed, so the bytes land
 * between two complete messages. Not sent to HTTP/1.0 clients (§15.2: they cannot parse a 1xx), and
 * not over HTTP/2, whose server connection in Undertow has no such way either.
 */
public final class InterimResponses {
    private InterimResponses() {}

    /**
     * Writes {@code interims} ahead of {@code exchange}'s response where the client can take them,
     * then runs {@code then} (at once, or on this IO thread once they are flushed).
     */
    public static void send(HttpServerExchange exchange, List<Interim> interims, Runnable then) {
        if (interims.isEmpty()
                || !exchange.isHttp11()
                || exchange.isResponseStarted()
                || !(exchange.getConnection() instanceof HttpServerConnection http)) {
            then.run();
            return;
        }
        ByteBuffer bytes = ByteBuffer.wrap(encode(interims));
        StreamSinkChannel sink = http.getChannel().getSinkChannel();
        try {
            if (writeAndFlush(sink, bytes)) {
                then.run();
                return;
            }
        } catch (IOException e) {
            // The connection is gone; the final response fails on it the usual way.
            IoUtils.safeClose(http);
            then.run();
            return;
        }
        // The socket's buffer is full: the final response waits until the interim heads are out.
        sink.getWriteSetter().set(channel -> {
            boolean done;
            try {
                done = writeAndFlush(channel, bytes);
            } catch (IOException e) {
                IoUtils.safeClose(http);
                done = true;
            }
            if (done) {
                channel.suspendWrites();
                channel.getWriteSetter().set(null);
                then.run();
            }
        });
        sink.resumeWrites();
    }

    private static boolean writeAndFlush(StreamSinkChannel sink, ByteBuffer bytes) throws IOException {
        while (bytes.hasRemaining()) {
            if (sink.write(bytes) == 0) return false;
        }
        return sink.flush();
    }

    /** The heads as HTTP/1.1 bytes; values are ISO-8859-1 text, one char per byte as they arrived. */
    static byte[] encode(List<Interim> interims) {
        ByteArrayOutputStream out = new ByteArrayOutputStream(256);
        for (Interim interim : interims) {
            StringBuilder head = new StringBuilder(128)
                    .append("HTTP/1.1 ")
                    .append(interim.status())
                    .append(' ')
                    .append(reason(interim.status()))
                    .append("\r\n");
            interim.headers().forEach((name, values) -> {
                if (name.equalsIgnoreCase("via")) return;
                for (String value : values)
                    head.append(name).append(": ").append(value).append("\r\n");
            });
            // RFC 9110 §7.6.3: Via on each message forwarded, interim ones too.
            head.append("Via: ").append(HopByHop.via(interim.headers())).append("\r\n\r\n");
            out.writeBytes(head.toString().getBytes(StandardCharsets.ISO_8859_1));
        }
        return out.toByteArray();
    }

    private static String reason(int status) {
        return switch (status) {
            case 102 -> "Processing";
            case 103 -> "Early Hints";
            default -> ""; // RFC 9112 §4: the reason phrase may be empty
        };
    }
}
