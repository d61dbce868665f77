/**
 * Sending requests upstream: the pipeline's last stage, {@link io.sluice.send.SendStage}, and the
 * transports it picks between. {@code http://} origins, and {@code https://} ones whose policy does
 * not ask for HTTP/2, go over {@link io.sluice.send.Http1Transport}, Undertow's HTTP/1.1 client on the
 * data port's own IO threads (the call's {@link io.sluice.fetch.Call#affinity}), with the response
 * head kept byte for byte ({@link io.sluice.send.HeadCapture}, {@link io.sluice.server.RawHead}) and
 * checked before it is relayed; those whose policy asks for HTTP/2 go over
 * {@link io.sluice.send.Http2Transport}, Undertow's HTTP/2 client on the same threads, one
 * multiplexed connection per IO thread and destination. The {@code java.net.http} client of the
 * policy's TLS profile ({@link io.sluice.send.UpstreamClients}) is left for the one response
 * Undertow's client cannot read (a body that runs to the connection's close). All connect only to
 * addresses the address guard checked; {@link io.sluice.send.RefuseEarlyStage} applies the same check to IP literals before a
 * request spends a token (it lives here, not in {@code guard}, because the kernel types the guard's
 * refusals, so {@code guard} cannot depend on the kernel). The CONNECT tunnel's own last stage and the
 * TLS interception stay in {@code connect} and {@code tls}.
 */
package io.sluice.send;
