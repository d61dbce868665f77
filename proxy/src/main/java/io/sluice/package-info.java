/**
 * Entry points. {@link io.sluice.Main} parses the command line and loads the config;
 * {@link io.sluice.SluiceBuilder} wires everything together — the shared HTTP client and
 * executors, the fetch pipeline, the data port's front doors and the admin port — and
 * {@link io.sluice.Sluice} starts it and drains in-flight requests on shutdown.
 * {@link io.sluice.StandardPipeline} holds the order of the pipeline's stages, read top to bottom;
 * the builder and the tests that run the standard order build their pipelines with it.
 */
package io.sluice;
