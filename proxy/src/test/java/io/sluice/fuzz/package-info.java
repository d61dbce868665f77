/**
 * Shared pieces of the Jazzer fuzz targets ({@code *FuzzTest}), which live next to the parsers they
 * drive so that they can reach package-private entry points. See docs/reliability.md, "Fuzzing".
 */
package io.sluice.fuzz;
