/**
 * Entry points. {@link io.sluice.Main} parses the command line and loads the config;
 * {@link io.sluice.Sluice} wires everything together — the shared HTTP client and executors, the
 * fetch pipeline (assembled in {@code Sluice#assemblePipeline}, read top to bottom), the data port's
 * front doors and the admin port — and drains in-flight requests on shutdown.
 */
package io.sluice;
