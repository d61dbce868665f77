package io.sluice.server;

import io.undertow.util.AttachmentKey;
import java.net.URI;

/**
 * Marks an exchange read inside an intercepted {@code CONNECT} tunnel. Its value is the tunnel's
 * origin ({@code https://host:port}, from the CONNECT target): requests inside are sent there, never
 * to whatever their own {@code Host} says (a mismatch is answered {@code 421} before this is set).
 */
public final class Intercepted {
    public static final AttachmentKey<URI> ORIGIN = AttachmentKey.create(URI.class);

    private Intercepted() {}
}
