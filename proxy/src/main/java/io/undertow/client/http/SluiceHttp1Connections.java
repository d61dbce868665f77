package io.undertow.client.http;

import io.undertow.client.ClientConnection;
import io.undertow.connector.ByteBufferPool;
import org.xnio.OptionMap;
import org.xnio.StreamConnection;

/**
 * Sluice's one door into Undertow's HTTP/1.1 client, in Undertow's package because the constructor
 * it calls is package-private: Undertow's client over a connection Sluice opened itself. Sluice opens
 * it so it can put a conduit under Undertow's parser ({@code io.sluice.send.HeadCapture}) that keeps
 * the response head's bytes as they arrived; everything above that conduit is Undertow's, unchanged.
 * Checked at compile time, so an Undertow upgrade that changes the constructor fails the build.
 */
public final class SluiceHttp1Connections {
    private SluiceHttp1Connections() {}

    /** Undertow's HTTP/1.1 client connection over {@code connection}, as its own provider makes it. */
    public static ClientConnection over(StreamConnection connection, OptionMap options, ByteBufferPool buffers) {
        return new HttpClientConnection(connection, options, buffers);
    }
}
