package io.sluice.config;

import java.nio.file.Path;
import java.util.List;
import java.util.Optional;

/**
 * TLS to one upstream (design, "TLS to upstreams"): {@code caFile} holds PEM roots trusted in
 * addition to the JDK's and the global {@code tls.ca_file}; {@code clientCert} and {@code
 * clientKey} (PEM, the key PKCS#8) are presented when the upstream asks for a client certificate;
 * no protocol older than {@code minVersion} is offered. Verification cannot be turned off. With
 * {@code http2}, HTTP/2 is offered by ALPN and the upstream is spoken to over Undertow's HTTP/2 client,
 * one multiplexed connection per IO thread ({@code send/Http2Transport}); without it (the default), over
 * HTTP/1.1 with pooled keep-alive connections on the IO threads.
 *
 * <p>Only paths are held: the files are read and checked by {@link ConfigLoader} and read again
 * when the upstream's client is built, so key material never reaches a {@code toString}, the admin
 * API or the state file. Equal records are one TLS profile and share one client.
 */
public record UpstreamTls(
        Optional<Path> caFile, Optional<Path> clientCert, Optional<Path> clientKey, String minVersion, boolean http2) {
    public static final UpstreamTls DEFAULT =
            new UpstreamTls(Optional.empty(), Optional.empty(), Optional.empty(), TlsVersions.DEFAULT, false);

    /** The same trust, certificate and versions: one TLS context serves both. */
    public UpstreamTls withoutHttp2() {
        return http2 ? new UpstreamTls(caFile, clientCert, clientKey, minVersion, false) : this;
    }

    public UpstreamTls {
        if (clientCert.isPresent() != clientKey.isPresent()) {
            throw new IllegalArgumentException(
                    clientCert.isPresent()
                            ? "client_key: required with client_cert (" + clientCert.get() + ")"
                            : "client_cert: required with client_key (" + clientKey.get() + ")");
        }
        TlsVersions.check(minVersion);
    }

    /** The JSSE protocol names to enable: {@code minVersion} and every newer version. */
    public List<String> protocols() {
        return TlsVersions.atLeast(minVersion);
    }

    public boolean hasClientCertificate() {
        return clientCert.isPresent();
    }
}
