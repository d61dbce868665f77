/**
 * Sluice's own certificate authority and the leaf certificates it mints for TLS interception. When a
 * client sends {@code CONNECT host:port} through Sluice as its HTTPS proxy, Sluice answers 200 and
 * terminates the client's TLS itself, presenting a leaf for the SNI name (or, for clients that send
 * none, the CONNECT host) signed by the CA that the client was told to trust.
 * {@link io.sluice.tls.CertificateAuthority} loads an operator's CA or generates one on first start
 * and keeps it on disk; {@link io.sluice.tls.InterceptTls} turns it into a server {@code SSLContext}
 * whose key manager mints leaves on demand, one signature per host and key type, cached on the
 * injected {@link io.sluice.time.TimeSource}.
 */
package io.sluice.tls;
