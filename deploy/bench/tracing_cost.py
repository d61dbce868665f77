#!/usr/bin/python3
"""What tracing costs a bare route-form passthrough request: CPU per request of the Sluice JVM with
tracing off, at sample_ratio 0 and at 1.0, three Sluices side by side against one nginx origin,
rounds alternated (the order rotates), figures the median over rounds.

  deploy/bench/tracing_cost.py [--rounds 3] [--seconds 10] [--connections 16] [--warm 15]

Needs nginx, wrk and the jar (./sluice build). The OTLP endpoint is an nginx location answering 200
to every export, so the collector costs Sluice only the sending. Every process started here is
stopped here.
"""
import argparse
import os
import subprocess
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from bench import HERE, Sluice, cpu_seconds, free_port, log, median, wait_http, wrk  # noqa: E402

NGINX_CONF = """
worker_processes 1;
pid {prefix}/nginx.pid;
error_log {prefix}/error.log warn;
daemon on;
events {{ worker_connections 4096; }}
http {{
    access_log off;
    client_body_temp_path {prefix}/tmp;
    keepalive_requests 1000000;
    server {{
        listen 127.0.0.1:{origin};
        location / {{ return 200 '{body}'; }}
    }}
    server {{
        listen 127.0.0.1:{collector};
        client_max_body_size 64m;
        location /v1/traces {{ client_body_in_single_buffer on; return 200; }}
    }}
}}
"""

BARE = open(os.path.join(HERE, "sluice-bare.yaml")).read()


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--seconds", type=int, default=10)
    parser.add_argument("--connections", type=int, default=16)
    parser.add_argument("--warm", type=int, default=15, help="seconds of warm-up per Sluice (JIT)")
    args = parser.parse_args()
    out = os.path.join(HERE, "out", "tracing")
    prefix = os.path.join(out, "nginx")
    os.makedirs(os.path.join(prefix, "tmp"), exist_ok=True)
    origin, collector = free_port(), free_port()
    conf = os.path.join(prefix, "nginx.conf")
    with open(conf, "w") as f:
        f.write(NGINX_CONF.format(prefix=prefix, origin=origin, collector=collector, body="x" * 1024))
    subprocess.run(["/usr/sbin/nginx", "-p", prefix, "-c", conf, "-e", os.path.join(prefix, "error.log")], check=True)
    sluices = []
    try:
        wait_http(f"http://127.0.0.1:{origin}/item.json")
        variants = {
            "off": "",
            "ratio 0": f"tracing: {{otlp_endpoint: 'http://127.0.0.1:{collector}', sample_ratio: 0}}\n",
            "ratio 1.0": f"tracing: {{otlp_endpoint: 'http://127.0.0.1:{collector}', sample_ratio: 1.0}}\n",
        }
        for name, tracing in variants.items():
            path = os.path.join(out, f"sluice-{name.replace(' ', '')}.template.yaml")
            with open(path, "w") as f:
                f.write(BARE + tracing)
            sluices.append((name, Sluice(out, name.replace(" ", ""), path, origin).start()))
        for name, s in sluices:
            log(f"warm-up {name}")
            wrk(f"http://127.0.0.1:{s.port}/origin/item.json", args.connections, args.warm)
        per_request = {name: [] for name, _ in sluices}
        rps = {name: [] for name, _ in sluices}
        for r in range(args.rounds):
            order = sluices[r % len(sluices):] + sluices[:r % len(sluices)]
            for name, s in order:
                before = cpu_seconds(s.pid)
                result = wrk(f"http://127.0.0.1:{s.port}/origin/item.json", args.connections, args.seconds)
                used = cpu_seconds(s.pid) - before
                if result["errors"]:
                    log(f"  {name}: {result['errors']} errors")
                per_request[name].append(used / result["requests"] * 1e6)
                rps[name].append(result["rps"])
                log(f"  round {r + 1} {name}: {result['rps']:.0f} req/s, {per_request[name][-1]:.1f} µs CPU/request")
        base = median(per_request["off"])
        print(f"\nload average {os.getloadavg()[0]:.1f}; {args.rounds} rounds of {args.seconds}s, "
              f"wrk -t1 -c{args.connections}")
        print("| tracing | req/s | Sluice CPU per request | vs off |")
        print("|---|---|---|---|")
        for name, _ in sluices:
            cpu = median(per_request[name])
            print(f"| {name} | {median(rps[name]):.0f} | {cpu:.1f} µs | {(cpu / base - 1) * 100:+.1f} % |")
    finally:
        for _, s in sluices:
            s.stop()
        with open(os.path.join(prefix, "nginx.pid")) as f:
            subprocess.run(["kill", "-QUIT", f.read().strip()])


if __name__ == "__main__":
    main()
