/**
 * Server-side request forgery defence: before Sluice connects anywhere, {@link io.sluice.guard.AddressGuard}
 * resolves the target host, refuses loopback, private, link-local and cloud-metadata, carrier-grade NAT,
 * unique-local and IPv4-embedding addresses unless the upstream opted in with {@code allow_private}, and
 * pins the checked answer so that the JDK resolver hands the shared {@code HttpClient} exactly those
 * addresses while the request holds its {@link io.sluice.guard.Pin}. Pinning is what defeats DNS rebinding:
 * the name cannot resolve to something else between the check and the connect. The pins reach the JDK
 * through {@link io.sluice.guard.PinningResolverProvider}, a process-wide resolver that answers pinned hosts
 * from the pin table and passes every other lookup (Redis, anything else in the process) to the built-in
 * resolver untouched.
 */
package io.sluice.guard;
