"""Sluice bounded soak; run through deploy/soak/run.sh [--minutes N] [--workers W].

Starts the origins (origin.py) and Sluice (the jar) on loopback, drives mixed traffic from W
client threads for N minutes (10% of requests hit an injected fault), PUTs an upstream's limits
every 30 s, samples Sluice every 10 s, and reports into deploy/soak/out/. Exit 1 when a request
was lost, a gauge did not return to 0 or fds / threads / heap-after-GC rose over the second half.
Python 3 stdlib only; matplotlib, when installed, adds soak.png.
"""

import argparse
import collections
import csv
import http.client
import json
import os
import random
import re
import secrets
import socket
import subprocess
import sys
import threading
import time
import urllib.request

HERE = os.path.dirname(os.path.abspath(__file__))
OUT = os.path.join(HERE, "out")
FAULTS = ["reset_before", "reset_after_headers", "hang", "drip", "short_body", "bad_status", "retry_after"]
# Sluice's flaky upstream has total: 4s and max_wait: 2s; a batch has timeout_ms 8000. An answer
# must arrive within its deadline plus this margin, else the request counts as lost.
DEADLINE_S = {"origin": 5.0, "cached": 5.0, "flaky": 4.0, "batch": 8.0}
MARGIN_S = 2.0


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def log(msg):
    print(f"[soak {time.strftime('%H:%M:%S')}] {msg}", flush=True)


CONFIG = """\
listen: 127.0.0.1:{port}
admin: {{listen: "127.0.0.1:{admin}", token: "{token}"}}
defaults:
  cache: {{enabled: false}}
upstreams:
  origin:
    base_url: http://127.0.0.1:{normal}
    allow_private: true
    limits: [{{rate: 2000/s, burst: 200}}]
    max_concurrency: 32
    timeouts: {{connect: 1s, response: 3s, total: 5s}}
    retry: {{max_attempts: 2, base_delay: 50ms, max_delay: 500ms}}
  cached:
    base_url: http://127.0.0.1:{cached}
    allow_private: true
    cache: {{enabled: true, max_ttl: 1h}}
    timeouts: {{connect: 1s, response: 3s, total: 5s}}
  flaky:
    base_url: http://127.0.0.1:{faulty}
    allow_private: true
    max_concurrency: 16
    max_wait: 2s
    timeouts: {{connect: 1s, response: 1500ms, total: 4s}}
    retry: {{max_attempts: 3, base_delay: 50ms, max_delay: 500ms}}
"""


class Stats:
    def __init__(self):
        self.lock = threading.Lock()
        self.sent = 0
        self.answered = 0
        self.lost = 0
        self.outcomes = collections.Counter()
        self.lost_examples = []
        self.max_elapsed = collections.defaultdict(float)

    def record(self, kind, outcome, answered, elapsed, detail=""):
        with self.lock:
            self.sent += 1
            self.outcomes[f"{kind}: {outcome}"] += 1
            self.max_elapsed[kind] = max(self.max_elapsed[kind], elapsed)
            if answered:
                self.answered += 1
            else:
                self.lost += 1
                if len(self.lost_examples) < 20:
                    self.lost_examples.append(f"{kind} {outcome} {elapsed:.1f}s {detail}")


class Client:
    """One client thread's keep-alive connection to Sluice's data port, reopened after any error."""

    def __init__(self, port):
        self.port = port
        self.conn = None

    def call(self, method, target, deadline, body=None, headers=None):
        """(status, body or None if the body was cut, error text)"""
        if self.conn is None:
            self.conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=deadline + MARGIN_S)
        try:
            self.conn.request(method, target, body=body, headers=headers or {})
            resp = self.conn.getresponse()
        except Exception as e:  # no status line: the request was not answered
            self.close()
            return None, None, type(e).__name__
        try:
            data = resp.read()
            if resp.getheader("Connection", "").lower() == "close":
                self.close()
            return resp.status, data, resp.getheader("Proxy-Status", "")
        except Exception as e:  # status arrived, body was cut (passthrough of a fault mid-body)
            self.close()
            return resp.status, None, type(e).__name__

    def close(self):
        if self.conn is not None:
            self.conn.close()
            self.conn = None


def proxy_status_error(ps):
    m = re.search(r"error=([a-z_]+)", ps or "")
    return m.group(1) if m else ""


def one_request(client, rnd, ports, stats):
    fault = rnd.choice(FAULTS) if rnd.random() < 0.10 else None
    r = rnd.random()
    if fault:
        form = rnd.choice(["route", "forward", "batch"])
    elif r < 0.35:
        form = "route"
    elif r < 0.60:
        form = "forward"
    elif r < 0.75:
        form = "batch"
    else:
        form = "cache"
    n = rnd.randrange(1_000_000)
    if fault:
        upstream, path = "flaky", f"/fault/{fault}?n={n}"
    elif form == "cache":
        upstream, path = "cached", f"/static/{rnd.randrange(20)}"
    else:
        upstream, path = "origin", f"/item/{n}"
    origin = f"http://127.0.0.1:{ports[upstream]}"
    kind = f"{form}/{fault}" if fault else form
    t0 = time.monotonic()
    if form == "batch":
        items = [{"id": "f", "url": origin + path}] if fault else []
        for i in range(rnd.randint(1, 4)):
            items.append({"id": str(i), "url": f"http://127.0.0.1:{ports['origin']}/item/{n}-{i}"})
        doc = json.dumps({"requests": items, "timeout_ms": 8000, "concurrency": 8}).encode()
        status, data, err = client.call("POST", "/v1/batch", DEADLINE_S["batch"], doc, {"Content-Type": "application/json"})
        elapsed = time.monotonic() - t0
        if status != 200 or data is None:
            return stats.record(kind, f"batch {status} {err}", False, elapsed)
        try:
            results = json.loads(data)["responses"]
            assert len(results) == len(items)
        except Exception as e:
            return stats.record(kind, f"batch unparsable {e!r}", False, elapsed)
        # the batch's outcome is its fault item's, or "all 200"
        watch = [x for x in results if x.get("id") == "f"] or results
        labels = sorted({str(x.get("status")) if "status" in x else x.get("error", {}).get("type", "?") for x in watch})
        ok = all("status" in x or "type" in x.get("error", {}) for x in results)
        return stats.record(kind, "+".join(labels), ok and elapsed <= DEADLINE_S["batch"] + MARGIN_S, elapsed)
    if form == "forward":
        target, headers = origin + path, {}
    else:
        target, headers = f"/{upstream}{path}", {}
    status, data, err = client.call("GET", target, DEADLINE_S[upstream], headers=headers)
    elapsed = time.monotonic() - t0
    if status is None:
        return stats.record(kind, f"no answer ({err})", False, elapsed)
    label = str(status)
    if data is None:
        label += " body cut"
    elif status >= 400:
        label += f" {proxy_status_error(err)}".rstrip()
    return stats.record(kind, label, elapsed <= DEADLINE_S[upstream] + MARGIN_S, elapsed)


def scrape(admin):
    with urllib.request.urlopen(f"http://127.0.0.1:{admin}/metrics", timeout=5) as r:
        text = r.read().decode()
    sums = collections.Counter()
    for line in text.splitlines():
        if line.startswith("#"):
            continue
        m = re.match(r'^([a-zA-Z_:]+)(\{[^}]*\})?\s+(\S+)', line)
        if not m:
            continue
        name, labels, value = m.group(1), m.group(2) or "", float(m.group(3))
        if name in ("sluice_in_flight", "sluice_queued", "sluice_tunnels_open"):
            sums[name] += value
        elif name == "jvm_memory_used_bytes" and 'area="heap"' in labels:
            sums["heap"] += value
    return sums


def proc_status(pid):
    fields = {}
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            k, _, v = line.partition(":")
            fields[k] = v.strip()
    return int(fields["VmRSS"].split()[0]) * 1024, int(fields["Threads"])


def sample(pid, admin, jcmd, t0):
    # heap after GC: a full GC through jcmd, then the heap gauge
    subprocess.run([jcmd, str(pid), "GC.run"], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, timeout=30)
    m = scrape(admin)
    rss, threads = proc_status(pid)
    fds = len(os.listdir(f"/proc/{pid}/fd"))
    return {"t": round(time.monotonic() - t0, 1), "rss_mb": round(rss / 2**20, 1), "heap_after_gc_mb": round(m["heap"] / 2**20, 2),
            "fds": fds, "threads": threads, "in_flight": int(m["sluice_in_flight"]), "queued": int(m["sluice_queued"]),
            "tunnels_open": int(m["sluice_tunnels_open"])}


def slope(points):
    n = len(points)
    if n < 2:
        return 0.0
    mx = sum(x for x, _ in points) / n
    my = sum(y for _, y in points) / n
    den = sum((x - mx) ** 2 for x, _ in points)
    return sum((x - mx) * (y - my) for x, y in points) / den if den else 0.0


def admin_put(admin, token, body):
    req = urllib.request.Request(f"http://127.0.0.1:{admin}/api/upstreams/origin", data=json.dumps(body).encode(), method="PUT",
                                 headers={"Authorization": f"Bearer {token}", "Content-Type": "application/json"})
    with urllib.request.urlopen(req, timeout=5) as r:
        return r.status


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--minutes", type=float, default=10)
    ap.add_argument("--workers", type=int, default=16)
    ap.add_argument("--advisory-slopes", action="store_true",
                    help="report rising fds/threads/heap but do not fail on them (a short CI run has too few samples to judge)")
    args = ap.parse_args()
    java, jar = os.environ["SOAK_JAVA"], os.environ["SOAK_JAR"]
    jcmd = os.path.join(os.path.dirname(java), "jcmd")
    os.makedirs(OUT, exist_ok=True)
    procs = []
    try:
        origin = subprocess.Popen([sys.executable, os.path.join(HERE, "origin.py")], stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
        procs.append(origin)
        normal, cached, faulty = map(int, origin.stdout.readline().split())
        port, admin, token = free_port(), free_port(), secrets.token_hex(16)
        config = os.path.join(OUT, "sluice-soak.yaml")
        # Admin changes persist to <config>.state.json and are layered over the config at the next
        # start: a previous run's state names that run's origin ports, so each run starts without it.
        state = os.path.join(OUT, "sluice-soak.state.json")
        if os.path.exists(state):
            os.remove(state)
        with open(config, "w") as f:
            f.write(CONFIG.format(port=port, admin=admin, token=token, normal=normal, cached=cached, faulty=faulty))
        sluice_log = open(os.path.join(OUT, "sluice.log"), "w")
        sluice = subprocess.Popen([java, "-Xmx256m", "-jar", jar, "--config", config], stdout=sluice_log, stderr=subprocess.STDOUT)
        procs.append(sluice)
        for _ in range(300):
            try:
                urllib.request.urlopen(f"http://127.0.0.1:{admin}/readyz", timeout=1).read()
                break
            except Exception:
                if sluice.poll() is not None:
                    raise SystemExit(f"soak: Sluice exited {sluice.returncode}; see {OUT}/sluice.log")
                time.sleep(0.1)
        log(f"Sluice pid {sluice.pid} data :{port} admin :{admin}; origins normal :{normal} cached :{cached} faulty :{faulty}")
        ports = {"origin": normal, "cached": cached, "flaky": faulty}

        stats = Stats()
        stop = threading.Event()
        duration = args.minutes * 60

        def worker(i):
            rnd, client = random.Random(i), Client(port)
            while not stop.is_set():
                one_request(client, rnd, ports, stats)
            client.close()

        t0 = time.monotonic()
        threads = [threading.Thread(target=worker, args=(i,), daemon=True) for i in range(args.workers)]
        for t in threads:
            t.start()
        samples, admin_changes, admin_errors = [], 0, []
        next_sample, next_admin = t0, t0 + 30
        while time.monotonic() - t0 < duration:
            now = time.monotonic()
            if now >= next_sample:
                s = sample(sluice.pid, admin, jcmd, t0)
                s["sent"] = stats.sent
                samples.append(s)
                log(f"t={s['t']:6.0f}s sent={stats.sent} lost={stats.lost} rss={s['rss_mb']}MB heap={s['heap_after_gc_mb']}MB "
                    f"fds={s['fds']} threads={s['threads']} in_flight={s['in_flight']} queued={s['queued']}")
                next_sample += 10
            if now >= next_admin:
                wide = admin_changes % 2 == 0
                body = {"base_url": f"http://127.0.0.1:{normal}", "allow_private": True,
                        "limits": [{"rate": "1500/s" if wide else "2000/s", "burst": 150 if wide else 200}],
                        "max_concurrency": 16 if wide else 32, "timeouts": {"connect": "1s", "response": "3s", "total": "5s"},
                        "retry": {"max_attempts": 2, "base_delay": "50ms", "max_delay": "500ms"}}
                try:
                    st = admin_put(admin, token, body)
                    admin_changes += 1
                    if st not in (200, 201):
                        admin_errors.append(st)
                except Exception as e:
                    admin_errors.append(repr(e))
                next_admin += 30
            time.sleep(0.2)
        stop.set()
        for t in threads:
            t.join(timeout=DEADLINE_S["batch"] + MARGIN_S + 5)
        stuck = sum(t.is_alive() for t in threads)
        load_seconds = time.monotonic() - t0
        log(f"load stopped after {load_seconds:.0f}s; {stats.sent} sent")

        # in-flight gauges back to 0 after the load stops (Sluice gets 10 s)
        gauges = None
        for _ in range(50):
            m = scrape(admin)
            gauges = {k: m[k] for k in ("sluice_in_flight", "sluice_queued", "sluice_tunnels_open")}
            if not any(gauges.values()):
                break
            time.sleep(0.2)
        final = sample(sluice.pid, admin, jcmd, t0)
        final["sent"] = stats.sent
        samples.append(final)

        # slopes over the second half of the load; a metric "rises" when slope x span exceeds its tolerance
        during = samples[:-1]
        second = during[len(during) // 2:]
        span = (second[-1]["t"] - second[0]["t"]) if len(second) > 1 else 0
        tolerance = {"fds": (8, 0.10), "threads": (4, 0.10), "heap_after_gc_mb": (8, 0.15)}
        slopes = {}
        for key, (absolute, relative) in tolerance.items():
            pts = [(s["t"], s[key]) for s in second]
            sl = slope(pts)
            mean = sum(y for _, y in pts) / len(pts) if pts else 0
            allowed = max(absolute, relative * mean)
            slopes[key] = {"per_min": round(sl * 60, 3), "rise_over_second_half": round(sl * span, 2), "mean": round(mean, 2),
                           "allowed": round(allowed, 2), "flat": sl * span <= allowed}

        failures = []
        misrouted = sum(v for k, v in stats.outcomes.items() if k in ("route: 502 connection_refused", "forward: 403 destination_ip_prohibited", "batch: blocked"))
        if misrouted:
            failures.append(f"{misrouted} normal requests misrouted (refused or blocked): the soak's config did not apply")
        if stats.lost:
            failures.append(f"{stats.lost} requests lost")
        if stuck:
            failures.append(f"{stuck} client threads still waiting")
        if any(gauges.values()):
            failures.append(f"gauges not back to 0: {gauges}")
        advisories = []
        slope_findings = advisories if args.advisory_slopes else failures
        if len(second) < 3:
            slope_findings.append("too few samples in the second half for a slope (run at least 1 minute)")
        for key, s in slopes.items():
            if not s["flat"]:
                slope_findings.append(f"{key} rising: +{s['rise_over_second_half']} over the second half (allowed {s['allowed']})")
        for line in advisories:
            print(f"soak: advisory: {line}")
        if admin_errors:
            failures.append(f"admin changes failed: {admin_errors}")
        if sluice.poll() is not None:
            failures.append(f"Sluice exited {sluice.returncode}")

        report = {"minutes": args.minutes, "workers": args.workers, "load_seconds": round(load_seconds, 1), "sent": stats.sent,
                  "answered": stats.answered, "lost": stats.lost, "lost_examples": stats.lost_examples,
                  "requests_per_s": round(stats.sent / load_seconds, 1), "admin_changes": admin_changes,
                  "outcomes": dict(sorted(stats.outcomes.items())),
                  "max_elapsed_s": {k: round(v, 2) for k, v in sorted(stats.max_elapsed.items())},
                  "gauges_after_load": gauges, "slopes_second_half": slopes, "samples": samples,
                  "verdict": "PASS" if not failures else "FAIL", "failures": failures}
        write_outputs(report)
        print_report(report)
        return 0 if not failures else 1
    finally:
        for p in reversed(procs):
            if p.poll() is None:
                if p is procs[0]:
                    p.stdin.close()
                p.terminate()
                try:
                    p.wait(timeout=15)
                except subprocess.TimeoutExpired:
                    p.kill()
                    p.wait()


def write_outputs(report):
    with open(os.path.join(OUT, "report.json"), "w") as f:
        json.dump(report, f, indent=1)
    keys = list(report["samples"][0].keys())
    with open(os.path.join(OUT, "samples.csv"), "w", newline="") as f:
        w = csv.DictWriter(f, fieldnames=keys)
        w.writeheader()
        w.writerows(report["samples"])
    try:
        import matplotlib
        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        with open(os.path.join(OUT, "chart.txt"), "w") as f:
            f.write(ascii_chart(report["samples"]))
        return
    fig, axes = plt.subplots(5, 1, figsize=(8, 11), sharex=True)
    t = [s["t"] for s in report["samples"]]
    for ax, key in zip(axes, ["rss_mb", "heap_after_gc_mb", "fds", "threads", "in_flight"]):
        ax.plot(t, [s[key] for s in report["samples"]], marker=".")
        ax.set_ylabel(key)
        ax.grid(alpha=0.3)
    axes[-1].set_xlabel("seconds")
    fig.suptitle(f"Sluice soak, {report['minutes']} min: {report['sent']} requests, {report['lost']} lost, {report['verdict']}")
    fig.savefig(os.path.join(OUT, "soak.png"), dpi=90)


def ascii_chart(samples):
    lines = []
    for key in ["rss_mb", "heap_after_gc_mb", "fds", "threads", "in_flight"]:
        vals = [s[key] for s in samples]
        lo, hi = min(vals), max(vals)
        lines.append(f"{key}  (min {lo}, max {hi})")
        for s in samples:
            width = 0 if hi == lo else int(40 * (s[key] - lo) / (hi - lo))
            lines.append(f"  t={s['t']:6.0f}s {s[key]:>9} |{'#' * (width + 1)}")
        lines.append("")
    return "\n".join(lines)


def print_report(r):
    print()
    print(f"requests sent {r['sent']}, answered {r['answered']}, lost {r['lost']} "
          f"({r['requests_per_s']}/s over {r['load_seconds']} s, {r['workers']} clients, {r['admin_changes']} admin changes)")
    for ex in r["lost_examples"]:
        print(f"  lost: {ex}")
    print("outcomes:")
    for k, v in r["outcomes"].items():
        print(f"  {v:>7}  {k}")
    print("slowest answer by kind (s):", ", ".join(f"{k} {v}" for k, v in r["max_elapsed_s"].items()))
    print("second-half slopes:")
    for k, s in r["slopes_second_half"].items():
        print(f"  {k:<17} {s['per_min']:+.3f}/min, rise {s['rise_over_second_half']:+} (allowed {s['allowed']}, mean {s['mean']}) "
              f"{'flat' if s['flat'] else 'RISING'}")
    print(f"gauges after load: {r['gauges_after_load']}")
    print(f"verdict: {r['verdict']}" + ("" if not r["failures"] else " — " + "; ".join(r["failures"])))
    print(f"output: {OUT}/ (report.json, samples.csv, " + ("soak.png)" if os.path.exists(os.path.join(OUT, "soak.png")) else "chart.txt)"))


if __name__ == "__main__":
    sys.exit(main())
