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
 * HTTP/1.1 with pooled keep-alive connections on the IO threads. {@code http2Window} is each HTTP/2
 * stream's receive window (the connection's is {@link #HTTP2_WINDOWS_PER_CONNECTION} of them): what a
 * stream may be sent per round trip, and what it may hold while its client does not read.
 *
 * <p>Only paths are held: the files are read and checked by {@link ConfigLoader} and read again
 * when the upstream's client is built, so key material never reaches a {@code toString}, the admin
 * API or the state file. Equal records are one TLS profile and share one client.
 */
public record UpstreamTls(
        Optional<Path> caFile,
        Optional<Path> clientCert,
        Optional<Path> clientKey,
        String minVersion,
        boolean http2,
        DataSize http2Window) {
    /**
     * A stream's receive window unless {@code http2_window} says otherwise: 1 MiB (RFC 9113's default is
     * 65,535 bytes; Chrome announces 6 MB, Go's client 4 MiB). See docs/decisions.md.
     */
    public static final DataSize DEFAULT_HTTP2_WINDOW = DataSize.ofMegabytes(1);

    /** The smallest {@code http2_window}: RFC 9113's default window. */
    public static final DataSize MIN_HTTP2_WINDOW = DataSize.ofKilobytes(64);

    /** The largest {@code http2_window}: its connection's window is then 256 MiB. */
    public static final DataSize MAX_HTTP2_WINDOW = DataSize.ofMegabytes(8);

    /** Streams of a connection that may stop being read before the others are sent nothing. */
    public static final int HTTP2_WINDOWS_PER_CONNECTION = 32;

    public static final UpstreamTls DEFAULT = new UpstreamTls(
            Optional.empty(), Optional.empty(), Optional.empty(), TlsVersions.DEFAULT, false, DEFAULT_HTTP2_WINDOW);

    /** The same trust, certificate and versions: one TLS context serves both. */
    public UpstreamTls withoutHttp2() {
        return http2 || !http2Window.equals(DEFAULT_HTTP2_WINDOW)
                ? new UpstreamTls(caFile, clientCert, clientKey, minVersion, false, DEFAULT_HTTP2_WINDOW)
                : this;
    }

    public UpstreamTls {
        if (clientCert.isPresent() != clientKey.isPresent()) {
            throw new IllegalArgumentException(
                    clientCert.isPresent()
                            ? "client_key: required with client_cert (" + clientCert.get() + ")"
                            : "client_cert: required with client_key (" + clientKey.get() + ")");
        }
        TlsVersions.check(minVersion);
        checkHttp2Window(http2Window);
    }

    /** {@code window} if it is an {@code http2_window} Sluice takes; else an exception saying the range. */
    public static DataSize checkHttp2Window(DataSize window) {
        if (window.bytes() < MIN_HTTP2_WINDOW.bytes() || window.bytes() > MAX_HTTP2_WINDOW.bytes()) {
            throw new IllegalArgumentException(
                    "expected " + MIN_HTTP2_WINDOW + " to " + MAX_HTTP2_WINDOW + ", got " + window);
        }
        return window;
    }

    /** {@link #http2Window} in bytes. */
    public int http2WindowBytes() {
        return http2Window.toIntExact();
    }

    /** The JSSE protocol names to enable: {@code minVersion} and every newer version. */
    public List<String> protocols() {
        return TlsVersions.atLeast(minVersion);
    }

    public boolean hasClientCertificate() {
        return clientCert.isPresent();
    }
}
