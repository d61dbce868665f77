"""Section (w): large downloads from an HTTPS origin across a round trip. Imported by bench.py
(run.sh --only w).

A stream of HTTP/2 is sent at most its receive window per round trip, so on a loopback origin the
window never shows, and a long way off it decides a large download's time. Here the nginx TLS origin
of section (t) serves a 10 MiB file behind delay_relay.py, which adds a round trip of 20 ms and of
80 ms; then, rounds rotating, one download at a time with curl:

  nginx proxy_pass https:// to the origin's HTTP/1.1 port (reference; keepalive upstream pool);
  Sluice route form to the HTTP/1.1 port, and to the HTTP/2 port (tls.http2), with the default 1 MB
  stream window and with tls.http2_window: 8MB;
  curl straight to the origin's HTTP/2 port (the client's own windows).

Every download is checked: status 200 and all 10 MiB. The relay buffers without bound, so TCP's own
window hardly counts: the HTTP/1.1 rows are flattered, and the HTTP/2 rows show what the streams'
windows cost.
"""
import os
import subprocess
import sys
import tempfile
import time

import bench
import tls_bench

HERE = os.path.dirname(os.path.abspath(__file__))
FILE_BYTES = 10 * 1024 * 1024
ROUND_TRIPS_MS = (20, 80)


def download(url, cafile=None, http2=False, resolve=None):
    """Seconds one download took, or None if it failed (status, size or curl itself)."""
    command = ["curl", "-sS", "-o", "/dev/null", "-w", "%{http_code} %{size_download} %{time_total}", "--max-time",
               "120"]
    if cafile:
        command += ["--cacert", cafile]
    if http2:
        command += ["--http2"]
    if resolve:
        command += ["--resolve", resolve]
    done = subprocess.run(command + [url], capture_output=True, text=True, timeout=150)
    fields = done.stdout.split()
    if done.returncode != 0 or len(fields) != 3 or fields[0] != "200" or int(fields[1]) != FILE_BYTES:
        bench.log(f"bench (w): {url} failed: {done.stdout.strip()} {done.stderr.strip()}")
        return None
    return float(fields[2])


def _not_yet(what):
    raise OSError(f"{what}: the download failed")


class Relay:
    def __init__(self, target_port, round_trip_ms):
        self.port = bench.free_port()
        self.process = subprocess.Popen([sys.executable, os.path.join(HERE, "delay_relay.py"), str(self.port),
                                         str(target_port), str(round_trip_ms / 2)])

    def stop(self):
        self.process.terminate()
        self.process.wait(timeout=10)


def run(out, rounds):
    """Returns the section's results; raises SystemExit if any download failed."""
    work = tempfile.mkdtemp(prefix="sluice-bench-latency-")
    os.chmod(work, 0o755)  # nginx's workers read under it
    tls_dir = os.path.join(work, "certs")
    os.makedirs(tls_dir)
    os.chmod(tls_dir, 0o755)
    tls_bench.make_certificates(tls_dir)
    ca_origin = f"{tls_dir}/origin-ca.pem"
    origin_ports = {"@H1_PORT@": bench.free_port(), "@H2_PORT@": bench.free_port(),
                    "@STATUS_PORT@": bench.free_port(), "@TLS_DIR@": tls_dir}
    www = os.path.join(work, "origin", "www")
    os.makedirs(www)
    with open(os.path.join(www, "big.bin"), "wb") as f:
        f.write(os.urandom(FILE_BYTES))
    for p in (os.path.join(work, "origin"), www):
        os.chmod(p, 0o755)
    os.chmod(os.path.join(www, "big.bin"), 0o644)

    started = []
    results = {"rounds": rounds, "file_bytes": FILE_BYTES, "round_trips": {}}
    failed = []
    try:
        origin = tls_bench.NginxTls(os.path.join(work, "origin"), "tls/nginx-origin.conf.in", origin_ports).start()
        started.append(origin)
        shipped = ["@" + os.path.join(HERE, "..", "jvm.options")]
        for rtt in ROUND_TRIPS_MS:
            h1 = Relay(origin_ports["@H1_PORT@"], rtt)
            started.append(h1)
            h2 = Relay(origin_ports["@H2_PORT@"], rtt)
            started.append(h2)
            # nginx proxy_pass to the origin through the relay: its template's H1 port is the relay's.
            proxy_ports = {**origin_ports, "@H1_PORT@": h1.port, "@PROXY_PORT@": bench.free_port()}
            proxy = tls_bench.NginxTls(os.path.join(work, f"proxy-{rtt}"), "tls/nginx-proxy.conf.in", proxy_ports).start()
            started.append(proxy)
            config = tls_bench.render("tls/sluice-tls.yaml", os.path.join(work, f"sluice-{rtt}.yaml"),
                                      {"${BENCH_TLS_DIR}": tls_dir, "${BENCH_TLS_H1_PORT}": h1.port,
                                       "${BENCH_TLS_H2_PORT}": h2.port, "${BENCH_TLS_PROVIDER}": "auto"})
            sluice = bench.Sluice(out, f"latency-{rtt}", config, h1.port, jvm_options=shipped).start()
            started.append(sluice)
            rows = {
                "nginx proxy_pass https (HTTP/1.1 upstream)":
                    lambda: download(f"http://127.0.0.1:{proxy_ports['@PROXY_PORT@']}/big.bin"),
                "Sluice route form, HTTP/1.1 origin":
                    lambda: download(f"http://127.0.0.1:{sluice.port}/origin/big.bin"),
                "Sluice route form, HTTP/2 origin":
                    lambda: download(f"http://127.0.0.1:{sluice.port}/origin_h2/big.bin"),
                "Sluice route form, HTTP/2 origin, http2_window 8MB":
                    lambda: download(f"http://127.0.0.1:{sluice.port}/origin_h2_wide/big.bin"),
                "curl straight to the origin, HTTP/2":
                    lambda: download(f"https://localhost:{h2.port}/big.bin", ca_origin, http2=True,
                                     resolve=f"localhost:{h2.port}:127.0.0.1"),
            }
            # Each path once before anything is timed (connections, handshakes, the JIT's first pass).
            for name, fetch in rows.items():
                tls_bench.wait_until(lambda: fetch() or _not_yet(name), f"{name} ({rtt} ms)")
            times = {name: [] for name in rows}
            names = list(rows)
            for r in range(rounds):
                for name in names[r % len(names):] + names[:r % len(names)]:
                    took = rows[name]()
                    if took is None:
                        failed.append(f"{name} ({rtt} ms)")
                    else:
                        times[name].append(took)
            results["round_trips"][str(rtt)] = times
            bench.log(f"bench (w): {rtt} ms: " + "; ".join(f"{n}: {sorted(t)}" for n, t in times.items()))
    finally:
        for process in reversed(started):
            try:
                process.stop()
            except Exception as e:  # every process gets its stop
                bench.log(f"bench (w): stopping {process}: {e}")
    results["failed_rows"] = failed
    return results


def markdown(results):
    lines = [f"## (w) A {results['file_bytes'] // (1024 * 1024)} MiB download across a round trip",
             "",
             "Seconds per download (median, and the fastest and slowest of "
             f"{results['rounds']}), one at a time, through `delay_relay.py` (unbounded buffering: "
             "the HTTP/1.1 rows are flattered).",
             "",
             "| round trip | " + " | ".join(next(iter(results["round_trips"].values())).keys()) + " |",
             "|---|" + "---|" * len(next(iter(results["round_trips"].values())))]
    for rtt, times in results["round_trips"].items():
        cells = []
        for t in times.values():
            if not t:
                cells.append("failed")
                continue
            s = sorted(t)
            cells.append(f"{s[len(s) // 2]:.2f} ({s[0]:.2f}–{s[-1]:.2f})")
        lines.append(f"| {rtt} ms | " + " | ".join(cells) + " |")
    if results["failed_rows"]:
        lines += ["", "FAILED downloads: " + ", ".join(results["failed_rows"])]
    return "\n".join(lines) + "\n"
