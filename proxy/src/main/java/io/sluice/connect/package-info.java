/**
 * {@code CONNECT host:port}: what an app that sets {@code HTTPS_PROXY} sends for every {@code https://}
 * URL. Per upstream, Sluice intercepts it (terminates the client's TLS with a leaf certificate from its
 * own CA and sends each request inside through the normal pipeline), passes it as a metered byte pipe
 * ({@code tunnel}), or refuses it. The address guard and the {@code SSL_ports} rule decide before the
 * {@code 200} is sent, so a refusal is always an HTTP answer with {@code Proxy-Status}.
 */
package io.sluice.connect;
