"""CPU per proxied request with 100,000 live per-key buckets against one per-upstream bucket (issue 31).

    BENCH_JAVA=$JAVA_HOME/bin/java python3 deploy/bench/keys/run.py   (JDK >= 21; the jar from
    BENCH_JAR, default proxy/target/sluice.jar; needs nginx and wrk; ~2.5 min)

Two Sluice processes, one nginx origin; wrk -t1 -c32 sends each request with one of 100,000 X-Tenant
values (keys.lua). A 25 s warm-up gives every key its bucket (the admin API's live.keys.live is
printed at the end), then 4 rounds of 8 s, order alternating. Cache off in both, so only admission
differs.
"""
import os, sys, json, subprocess, tempfile
HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.dirname(HERE))
import bench
out = tempfile.mkdtemp(prefix="keys-"); os.chmod(out, 0o755)
nginx = bench.Nginx(out).start()
common = """listen: 127.0.0.1:${BENCH_SLUICE_PORT}
admin: {listen: "127.0.0.1:${BENCH_SLUICE_ADMIN_PORT}"}
upstreams:
  origin:
    base_url: http://127.0.0.1:${BENCH_ORIGIN_PORT}
    allow_private: true
    cache: {enabled: false}
"""
cfgs = {"one bucket": common + "    limits: [{rate: 1000000/s}]\n",
        "100k keys": common + "    key: header:X-Tenant\n    max_keys: 200000\n    limits: [{rate: 1000000/s, per: key}]\n"}
procs = {}
try:
    for name, text in cfgs.items():
        p = os.path.join(out, name.replace(" ", "_") + ".yaml"); open(p, "w").write(text)
        procs[name] = bench.Sluice(out, name.replace(" ", "_"), p, nginx.origin_port).start()
    def run(name, secs):
        s = procs[name]
        c0 = bench.cpu_seconds(s.pid)
        done = subprocess.run(["wrk", "-t1", "-c32", f"-d{secs}s", "-s", os.path.join(HERE, "keys.lua"), f"http://127.0.0.1:{s.port}/origin/item.json"], capture_output=True, text=True)
        c1 = bench.cpu_seconds(s.pid)
        r = json.loads([l for l in done.stdout.splitlines() if l.startswith("BENCH ")][0][6:])
        r["cpu_us_per_req"] = (c1 - c0) / r["requests"] * 1e6
        r["rps"] = r["requests"] / (r["duration_us"] / 1e6)
        return r
    for name in procs: run(name, 25)   # warm-up: every one of the 100,000 keys gets its bucket
    for rnd in range(4):
        for name in (list(procs) if rnd % 2 == 0 else list(procs)[::-1]):
            r = run(name, 8)
            print(f"{name:12s} {r['rps']:8.0f} req/s  p50 {r['p50_us']} us  p99 {r['p99_us']} us  CPU {r['cpu_us_per_req']:.1f} us/req  non-2xx {r['status_errors']}", flush=True)
    s = procs["100k keys"]
    import urllib.request
    try: print(urllib.request.urlopen(f"http://127.0.0.1:{s.admin_port}/api/upstreams/origin").read().decode().split('"keys"')[1][:200])
    except Exception as e: print("admin:", e)
finally:
    for s in procs.values(): s.stop()
    nginx.stop()
