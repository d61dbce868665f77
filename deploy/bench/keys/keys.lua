-- One of 100,000 tenants per request, in X-Tenant; the same report line as wrk-report.lua.
local counter = 0
function request()
  counter = counter + 1
  local tenant = (counter * 7919) % 100000
  return wrk.format(nil, wrk.path .. "?n=" .. counter, {["X-Tenant"] = "tenant-" .. tenant})
end
function done(summary, latency, requests)
  local e = summary.errors
  io.write(string.format('BENCH {"requests":%d,"duration_us":%d,"status_errors":%d,"p50_us":%d,"p99_us":%d}\n',
    summary.requests, summary.duration, e.status, latency:percentile(50), latency:percentile(99)))
end
