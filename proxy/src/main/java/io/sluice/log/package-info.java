/**
 * Sluice's own log output: one backend for every library (java.util.logging, which SLF4J and
 * jboss-logging users reach through their JUL bridges), written one line per record as text or as
 * JSON for container log pipelines ({@code log.format}), and the optional access log
 * ({@code log.access}).
 */
package io.sluice.log;
