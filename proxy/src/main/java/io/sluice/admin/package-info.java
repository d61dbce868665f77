/**
 * Operating Sluice: the admin API on the admin port ({@link io.sluice.admin.AdminApi}: upstream
 * policies with live state, authenticated and audited changes that are validated as config,
 * persisted atomically to a state file by {@link io.sluice.admin.PolicyStore} and applied at once;
 * cache purge; the effective config with secrets redacted), and the two listeners behind its live
 * view: {@link io.sluice.admin.RecentRequests} (a ring of recent calls with their decision trace)
 * and {@link io.sluice.admin.UpstreamStats} (the last minute's rates, latency percentiles and hit
 * ratio per upstream).
 */
package io.sluice.admin;
