/**
 * The pipeline kernel. Both front doors (batch items and passthrough requests) build a
 * {@link io.sluice.fetch.FetchRequest}, open a {@link io.sluice.fetch.Call} on the
 * {@link io.sluice.fetch.Pipeline} and receive a {@link io.sluice.fetch.FetchOutcome}: a response
 * whose body streams, or a typed failure ({@link io.sluice.fetch.FetchException}, one
 * {@link io.sluice.fetch.ErrorType} each, turned into a {@link io.sluice.fetch.FetchFailure} in
 * {@link io.sluice.fetch.Failures} only). The pipeline is a list of {@link io.sluice.fetch.Stage}s,
 * put in order in {@code io.sluice.StandardPipeline} and read top to bottom; each stage has one
 * job and calls the next through its {@link io.sluice.fetch.Stage.Chain}, OkHttp-style. Nothing here
 * blocks: every wait is a {@link java.util.concurrent.CompletableFuture}. What happens to calls is
 * reported, as paired events, to one {@link io.sluice.fetch.FetchListener} (metrics, the admin's
 * recent requests and live statistics); each call's {@link io.sluice.fetch.Trace} says where its time
 * went.
 *
 * <p>The kernel knows no transport: the stages live in their features' packages ({@code redirect},
 * {@code cache}, {@code retry}, {@code limit}, {@code send}, {@code connect}), and the thread a front
 * door received a call on travels as an opaque {@link java.util.concurrent.Executor}
 * ({@link io.sluice.fetch.Call#affinity}) that only the transport interprets. Two stages stay here
 * because they compute the per-hop values the chain carries: {@link io.sluice.fetch.ResolveUpstreamStage}
 * hands the governing upstream down ({@link io.sluice.fetch.Stage.Chain#upstream}; the kernel carries
 * an {@code io.sluice.upstream.Upstream}, so a stage in {@code upstream} would make the two packages
 * depend on each other), and {@link io.sluice.fetch.DeadlineStage} arms the call's deadline, a timer
 * on the call's private state that the pipeline disarms when the call ends.
 */
package io.sluice.fetch;
