package io.sluice.guard;

import java.net.InetAddress;
import java.util.List;

/**
 * A checked answer for one host that the JDK resolver keeps returning while the pin is open. Hold it
 * from before the request is sent until its response headers have arrived (or the attempt failed): the
 * {@code HttpClient} resolves the host when it opens or picks a connection, and a pin closed too early
 * reopens the window for DNS rebinding.
 */
public interface Pin extends AutoCloseable {

    /** The addresses the JDK will connect to for this host, all of them checked. */
    List<InetAddress> addresses();

    /** Releases this hold on the host's pin; the pin goes when its last holder closes. Idempotent. */
    @Override
    void close();
}
