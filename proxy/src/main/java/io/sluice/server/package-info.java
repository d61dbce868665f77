/**
 * The Undertow side: bridging request and response bodies between Undertow exchanges and the
 * pipeline's reactive streams with backpressure, writing Sluice's own JSON errors, and the admin
 * listener's health endpoints. Handlers never block an IO thread: they dispatch the exchange and
 * finish it from the pipeline's completion.
 */
package io.sluice.server;
