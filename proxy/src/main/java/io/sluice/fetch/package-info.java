/**
 * The one fetch pipeline. Both front doors (batch items and passthrough requests) build a
 * {@link io.sluice.fetch.FetchRequest}, open a {@link io.sluice.fetch.Call} on the
 * {@link io.sluice.fetch.Pipeline} and receive a {@link io.sluice.fetch.FetchOutcome}: a response
 * whose body streams, or a typed failure. The pipeline is a list of {@link io.sluice.fetch.Stage}s
 * assembled in {@link io.sluice.fetch.Pipeline#stages} and read top to bottom; each stage has one
 * job (resolve the upstream, the deadline, admission, sending) and calls the next, OkHttp-style.
 * Nothing here blocks: every wait is a {@link java.util.concurrent.CompletableFuture}. The last
 * stage, {@link io.sluice.fetch.Send}, sends {@code http://} requests over
 * {@link io.sluice.fetch.Http1Transport} on the data port's IO threads and {@code https://} ones over
 * the shared {@code java.net.http} client. What
 * happens to calls is reported, as paired events, to one {@link io.sluice.fetch.FetchListener}
 * (metrics, the admin's recent requests and live statistics); each call's
 * {@link io.sluice.fetch.Trace} says where its time went.
 */
package io.sluice.fetch;
