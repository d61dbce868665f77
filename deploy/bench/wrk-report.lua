-- Every request gets a unique query string (so a cache, when enabled, always misses; nginx ignores
-- it), and the run ends with one JSON line of exact figures for bench.py to parse. The start time
-- is part of it: each wrk run counts from 1 again, and without it a later round would ask for the
-- URLs of the one before, turning the cache's misses into revalidations.
local counter = 0
local prefix = ""
local threads = {}

function setup(thread)
    thread:set("id", #threads)
    table.insert(threads, thread)
end

function init(args)
    prefix = wrk.path .. "?s=" .. tostring(os.time()) .. "&t=" .. tostring(id) .. "&n="
end

function request()
    counter = counter + 1
    return wrk.format(nil, prefix .. counter)
end

function done(summary, latency, requests)
    local e = summary.errors
    io.write(string.format(
        'BENCH {"requests":%d,"duration_us":%d,"bytes":%d,"connect_errors":%d,"read_errors":%d,' ..
        '"write_errors":%d,"status_errors":%d,"timeouts":%d,"p50_us":%d,"p90_us":%d,"p99_us":%d,' ..
        '"p999_us":%d,"mean_us":%.1f,"max_us":%d}\n',
        summary.requests, summary.duration, summary.bytes, e.connect, e.read, e.write, e.status, e.timeout,
        latency:percentile(50), latency:percentile(90), latency:percentile(99), latency:percentile(99.9),
        latency.mean, latency.max))
end
