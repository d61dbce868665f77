/**
 * Entry points. {@link io.sluice.Main} parses the command line and loads the config;
 * {@link io.sluice.Sluice} wires everything together — the shared HTTP client and executors, the
 * fetch pipeline, the data port's front doors and the admin port — and drains in-flight requests
 * on shutdown. {@link io.sluice.StandardPipeline} holds the order of the pipeline's stages, read top
 * to bottom; Sluice and the tests that run the standard order build their pipelines with it.
 */
package io.sluice;
