#!/usr/bin/python3
"""Sluice benchmark: Sluice side by side with what a user would pick instead, in one run.

Started by run.sh (which finds a JDK and builds the jar). Every load is bounded in requests or
time and stops by itself; every process started here is stopped here.

  (a) nginx serving a 1 KB JSON file directly
  (b) nginx proxy_pass to (a) with a keepalive upstream
  (c) Sluice passthrough (route form) to (a), no limits, no cache
  (c') the same with a rate limit (plentiful tokens) and the cache on (every request a miss)
  (c'') the same configuration in a process of its own, every miss stored: the origin sends
       max-age=60 for /fresh/ (its own process so that the collector's work on a full, turning
       cache is charged to this row, not to (c') as well)
  (d) a 5,000-item batch through Sluice vs Python aiohttp (one ClientSession, gather, Semaphore(64))
  (e) added latency per call at one connection, Sluice vs direct
  (f) on request only: CPU per request of each layer between the client and the origin, same
      minutes: nginx proxy_pass in its own process, a plain JDK NIO TCP relay (no HTTP), a minimal
      HTTP/1.1 proxy on plain NIO (both floor/Floor.java), Undertow's own ProxyHandler, and Sluice
  (t) on request only: HTTPS (tls_bench.py): a throwaway CA and an nginx TLS origin; direct, nginx
      proxy_pass https://, Sluice route form (h1 and h2 origin), squid ssl-bump vs Sluice intercepted
      CONNECT through a CONNECT-capable load client (tls/tlsload.c), and new-tunnel latency
  (w) on request only: a 10 MiB download from the same kind of TLS origin behind a relay adding a 20 ms
      and an 80 ms round trip (latency_bench.py): nginx proxy_pass, Sluice route form to HTTP/1.1 and
      to HTTP/2, and curl straight to HTTP/2; one download at a time, every one checked
  scale: a 100,000-item NDJSON batch in -Xmx256m (RSS and heap sampled), 10,000 connections

Contenders alternate within every round (the order rotates), and figures are medians over rounds.
"""
import argparse
import http.client
import json
import os
import platform
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import textwrap
import threading
import time
import urllib.request

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(os.path.dirname(HERE))
CLK_TCK = os.sysconf("SC_CLK_TCK")


def log(*args):
    print(*args, file=sys.stderr, flush=True)


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def cpu_seconds(pid):
    with open(f"/proc/{pid}/stat") as f:
        fields = f.read().rsplit(")", 1)[1].split()
    # fields[11], fields[12] are utime, stime (fields 14 and 15 of proc(5), counting from 1)
    return (int(fields[11]) + int(fields[12])) / CLK_TCK


def cpu_split(pids):
    """(user seconds, system seconds, context switches) summed over a process's threads, or over
    several processes' (nginx's workers) given a tuple."""
    user = system = switches = 0
    for pid in pids if isinstance(pids, tuple) else (pids,):
        with open(f"/proc/{pid}/stat") as f:
            fields = f.read().rsplit(")", 1)[1].split()
        user += int(fields[11]) / CLK_TCK
        system += int(fields[12]) / CLK_TCK
        for task in os.listdir(f"/proc/{pid}/task"):
            try:
                with open(f"/proc/{pid}/task/{task}/status") as f:
                    for line in f:
                        if "ctxt_switches" in line:
                            switches += int(line.split()[1])
            except OSError:
                pass
    return user, system, switches


def jstat_path():
    return os.path.join(os.path.dirname(os.environ.get("BENCH_JAVA", "java")), "jstat")


def young_gc(pid):
    """(young and mixed collections, seconds paused in them) since start, or None without jstat.

    jstat reads the JVM's performance-counter file, so asking costs the process nothing."""
    if not os.path.exists(jstat_path()):
        return None
    try:
        out = subprocess.run([jstat_path(), "-gc", str(pid)], capture_output=True, text=True, timeout=10).stdout
        header, values = out.split("\n")[:2]
        row = dict(zip(header.split(), values.split()))
        return int(row["YGC"]), float(row["YGCT"])
    except (OSError, ValueError, KeyError, subprocess.SubprocessError):
        return None


def rss_mib(pid):
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    return 0.0


class Nginx:
    """The origin and the proxy_pass contender in one nginx (nginx.conf.in), or, given the port of an
    origin already running, a proxy_pass of its own (nginx-proxy.conf.in)."""

    def __init__(self, out, name="nginx", template="nginx.conf.in", origin_port=None):
        self.prefix = os.path.join(out, name)
        self.template = template
        self.serves_origin = origin_port is None
        self.origin_port = origin_port or free_port()
        self.proxy_port = free_port()

    def start(self):
        os.makedirs(os.path.join(self.prefix, "tmp"), exist_ok=True)
        if self.serves_origin:
            self.write_documents()
        with open(os.path.join(HERE, self.template)) as f:
            conf = (f.read().replace("@PREFIX@", self.prefix)
                    .replace("@ORIGIN_PORT@", str(self.origin_port))
                    .replace("@PROXY_PORT@", str(self.proxy_port)))
        self.conf = os.path.join(self.prefix, "nginx.conf")
        with open(self.conf, "w") as f:
            f.write(conf)
        subprocess.run(["/usr/sbin/nginx", "-p", self.prefix, "-c", self.conf, "-e", os.path.join(self.prefix, "error.log")],
                       check=True)
        if self.serves_origin:
            wait_http(f"http://127.0.0.1:{self.origin_port}/item.json")
        wait_http(f"http://127.0.0.1:{self.proxy_port}/item.json")
        return self

    def write_documents(self):
        os.makedirs(os.path.join(self.prefix, "www"), exist_ok=True)
        # A 1 KB JSON document (exactly 1024 bytes).
        body = {"id": 1, "name": "item", "tags": ["a", "b", "c"], "pad": ""}
        body["pad"] = "x" * (1024 - len(json.dumps(body, separators=(",", ":"))))
        with open(os.path.join(self.prefix, "www", "item.json"), "w") as f:
            f.write(json.dumps(body, separators=(",", ":")))
        # The same document where the origin says it stays fresh (max-age=60), so a cache stores
        # every miss of it.
        os.makedirs(os.path.join(self.prefix, "www", "fresh"), exist_ok=True)
        with open(os.path.join(self.prefix, "www", "fresh", "item.json"), "w") as f:
            f.write(json.dumps(body, separators=(",", ":")))

    def master_pid(self):
        with open(os.path.join(self.prefix, "nginx.pid")) as f:
            return int(f.read().strip())

    @property
    def pid(self):
        """The workers, whose CPU is the proxy's (the master only waits)."""
        master = self.master_pid()
        with open(f"/proc/{master}/task/{master}/children") as f:
            return tuple(int(child) for child in f.read().split())

    def stop(self):
        try:
            pid = self.master_pid()
            os.kill(pid, signal.SIGQUIT)
            for _ in range(50):
                if not os.path.exists(f"/proc/{pid}"):
                    break
                time.sleep(0.1)
        except (OSError, ValueError):
            pass


def wait_http(url, timeout=60, process=None):
    deadline = time.time() + timeout
    while True:
        if process is not None and process.poll() is not None:
            raise SystemExit(f"bench: the process behind {url} exited with status {process.returncode}")
        try:
            with urllib.request.urlopen(url, timeout=2) as r:
                if r.status == 200:
                    return
        except OSError:
            pass
        if time.time() > deadline:
            raise SystemExit(f"bench: {url} did not answer within {timeout}s")
        time.sleep(0.2)


class JavaProcess:
    """A JVM the bench starts, logs to a file and stops (SIGTERM, then SIGKILL after 20 s)."""

    process = None

    @staticmethod
    def java_and_jar():
        return (os.environ.get("BENCH_JAVA", "java"),
                os.environ.get("BENCH_JAR", os.path.join(REPO, "proxy", "target", "sluice.jar")))

    def spawn(self, command, log_path):
        self.logfile = open(log_path, "w")
        self.process = subprocess.Popen(command, stdout=self.logfile, stderr=subprocess.STDOUT)

    @property
    def pid(self):
        return self.process.pid

    def stop(self):
        if self.process and self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        if self.process:
            self.logfile.close()


class Sluice(JavaProcess):
    def __init__(self, out, name, config, origin_port, jvm_options=()):
        self.name = name
        self.config = os.path.join(HERE, config)
        self.port = free_port()
        self.admin_port = free_port()
        self.origin_port = origin_port
        self.jvm_options = list(jvm_options)
        self.log_path = os.path.join(out, f"sluice-{name}.log")

    def start(self):
        # The YAML files are templates: ports are chosen free at start and written in here.
        with open(self.config) as f:
            text = (f.read().replace("${BENCH_SLUICE_PORT}", str(self.port))
                    .replace("${BENCH_SLUICE_ADMIN_PORT}", str(self.admin_port))
                    .replace("${BENCH_ORIGIN_PORT}", str(self.origin_port)))
        config = os.path.join(os.path.dirname(self.log_path), f"sluice-{self.name}.yaml")
        with open(config, "w") as f:
            f.write(text)
        java, jar = self.java_and_jar()
        self.spawn([java, *self.jvm_options, *os.environ.get("BENCH_JVM_OPTS", "").split(), "-jar", jar,
                    "--config", config], self.log_path)
        wait_http(f"http://127.0.0.1:{self.admin_port}/readyz", process=self.process)
        return self


class FloorProgram(JavaProcess):
    """One of section (f)'s Java programs under floor/, run from source (the JDK compiles it at
    start), with Sluice's jar on the class path for Undertow."""

    def __init__(self, out, source, arguments, upstream_port, threads=2):
        self.source = os.path.join(HERE, "floor", source)
        self.arguments = list(arguments)
        self.port = free_port()
        self.upstream_port = upstream_port
        self.threads = threads
        self.log_path = os.path.join(out, "-".join([source.removesuffix(".java"), *map(os.path.basename, self.arguments)]) + ".log")

    def start(self):
        java, jar = self.java_and_jar()
        self.spawn([java, "-cp", jar, self.source, *self.arguments,
                    str(self.port), str(self.upstream_port), str(self.threads)], self.log_path)
        wait_http(f"http://127.0.0.1:{self.port}/item.json", process=self.process)
        return self


def wrk(url, connections, seconds, threads=1, timeout="5s"):
    command = ["wrk", f"-t{threads}", f"-c{connections}", f"-d{seconds}s", "--timeout", timeout,
               "-s", os.path.join(HERE, "wrk-report.lua"), url]
    done = subprocess.run(command, capture_output=True, text=True, timeout=seconds + 120)
    for line in done.stdout.splitlines():
        if line.startswith("BENCH "):
            result = json.loads(line[6:])
            result["rps"] = result["requests"] / (result["duration_us"] / 1e6)
            result["errors"] = sum(result[k] for k in
                                   ("connect_errors", "read_errors", "write_errors", "status_errors", "timeouts"))
            return result
    raise RuntimeError(f"wrk gave no report: {done.stdout}\n{done.stderr}")


def median(values):
    return statistics.median(values) if values else None


# ---------------------------------------------------------------------------------------------
# (a)(b)(c)(c')(c'') throughput and latency at 32 connections


def throughput(contenders, rounds, seconds, warm_seconds, connections=32):
    for name, url, _ in contenders:
        log(f"  warm-up {name} ({warm_seconds}s)")
        wrk(url, connections, warm_seconds)
    runs = {name: [] for name, _, _ in contenders}
    for r in range(rounds):
        order = contenders[r % len(contenders):] + contenders[:r % len(contenders)]
        for name, url, pid in order:
            before = cpu_split(pid) if pid else None
            gc_before = young_gc(pid) if isinstance(pid, int) else None
            result = wrk(url, connections, seconds)
            if pid:
                after = cpu_split(pid)
                result["user_s"], result["system_s"] = after[0] - before[0], after[1] - before[1]
                result["cpu_s"] = result["user_s"] + result["system_s"]
                result["cpu_s_per_1000"] = result["cpu_s"] / result["requests"] * 1000
                result["context_switches_per_request"] = (after[2] - before[2]) / result["requests"]
                gc_after = young_gc(pid) if gc_before else None
                if gc_before and gc_after:
                    # The collector's stop-the-world share of the round: a tail that moves with it is
                    # the collector's; one that does not is the CPU's.
                    result["young_gcs"] = gc_after[0] - gc_before[0]
                    result["young_gc_ms"] = (gc_after[1] - gc_before[1]) * 1000
            runs[name].append(result)
            log(f"  round {r + 1}/{rounds} {name:>28}: {result['rps']:9.0f} req/s  p50 {result['p50_us']:6d} us"
                f"  p99 {result['p99_us']:6d} us  errors {result['errors']}"
                + (f"  cpu {result['cpu_s_per_1000']:.4f} s/1000 (user {result['user_s']:.1f} s, sys "
                   f"{result['system_s']:.1f} s, {result['context_switches_per_request']:.1f} switches/req)"
                   if pid else "")
                + (f"  gc {result['young_gcs']} pauses {result['young_gc_ms']:.0f} ms" if "young_gcs" in result else ""))
    summary = {}
    for name, results in runs.items():
        summary[name] = {
            "rps": median([x["rps"] for x in results]),
            "p50_us": median([x["p50_us"] for x in results]),
            "p99_us": median([x["p99_us"] for x in results]),
            "errors": sum(x["errors"] for x in results),
            "requests": sum(x["requests"] for x in results),
        }
        if "cpu_s_per_1000" in results[0]:
            summary[name]["cpu_s_per_1000"] = median([x["cpu_s_per_1000"] for x in results])
            summary[name]["context_switches_per_request"] = median(
                [x["context_switches_per_request"] for x in results])
        if "user_s" in results[0]:
            summary[name]["user_us_per_request"] = median([x["user_s"] / x["requests"] * 1e6 for x in results])
            summary[name]["system_us_per_request"] = median([x["system_s"] / x["requests"] * 1e6 for x in results])
        if all("young_gcs" in x for x in results):
            summary[name]["young_gcs"] = median([x["young_gcs"] for x in results])
            summary[name]["young_gc_ms"] = median([x["young_gc_ms"] for x in results])
    return summary, runs


# ---------------------------------------------------------------------------------------------
# (f) where the distance to nginx is: CPU per request of each layer, same minutes


def floor_markdown(results):
    seconds = results.get("seconds")
    lines = [f"| (f) layer, wrk -t1 -c32, {seconds} s rounds | req/s | p99 | user µs / req | system µs / req | total µs / req |",
             "|---|---|---|---|---|---|"]
    for name, s in results["floor"].items():
        lines.append(f"| {name} | {s['rps']:.0f} | {s['p99_us'] / 1000:.2f} ms | {s['user_us_per_request']:.1f} | "
                     f"{s['system_us_per_request']:.1f} | {s['user_us_per_request'] + s['system_us_per_request']:.1f} |")
    return "\n".join(lines) + "\n"


# ---------------------------------------------------------------------------------------------
# (d) batch vs aiohttp


def sluice_batch(port, urls, concurrency):
    document = json.dumps({"requests": [{"url": u} for u in urls], "concurrency": concurrency}).encode()
    start = time.perf_counter()
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=120)
    connection.request("POST", "/v1/batch", body=document, headers={"Content-Type": "application/json"})
    response = connection.getresponse()
    payload = json.loads(response.read())
    seconds = time.perf_counter() - start
    connection.close()
    items = payload["responses"]
    ok = sum(1 for item in items if item.get("status") == 200)
    return {"seconds": seconds, "ok": ok, "errors": len(items) - ok}


def aiohttp_batch(prefix, count, concurrency):
    done = subprocess.run(["/usr/bin/python3", os.path.join(HERE, "aiohttp_client.py"), prefix, str(count),
                           str(concurrency)], capture_output=True, text=True, timeout=300)
    if done.returncode != 0:
        raise RuntimeError(f"aiohttp client failed: {done.stderr}")
    return json.loads(done.stdout.strip().splitlines()[-1])


def batch(sluice_port, origin_port, rounds, warm_seconds, count=5000, concurrency=64):
    prefix = f"http://127.0.0.1:{origin_port}/item.json?i="
    # The batch path (JSON parse, per-item rendering) is code the passthrough warm-up never ran: give
    # the JIT the same time as the throughput contenders get, at least one whole batch.
    log(f"  warm-up batch ({warm_seconds}s)")
    until = time.time() + warm_seconds
    w = 0
    while True:
        sluice_batch(sluice_port, [f"{prefix}w{w}-{i}" for i in range(count)], concurrency)
        w += 1
        if time.time() >= until:
            break
    aiohttp_batch(prefix, 500, concurrency)
    runs = {"sluice": [], "aiohttp": []}
    for r in range(rounds):
        order = ["sluice", "aiohttp"] if r % 2 == 0 else ["aiohttp", "sluice"]
        for name in order:
            if name == "sluice":
                result = sluice_batch(sluice_port, [f"{prefix}{r}-{i}" for i in range(count)], concurrency)
            else:
                result = aiohttp_batch(prefix, count, concurrency)
            runs[name].append(result)
            log(f"  round {r + 1}/{rounds} {name:>8}: {result['seconds']:.3f} s  ok {result['ok']}  errors {result['errors']}")
    summary = {name: {"seconds": median([x["seconds"] for x in results]),
                      "errors": sum(x["errors"] for x in results)} for name, results in runs.items()}
    return summary, runs


# ---------------------------------------------------------------------------------------------
# Scale checks


def large_ndjson_batch(out, origin_port, count, concurrency=256):
    sluice = Sluice(out, "xmx256m", "sluice-bare.yaml", origin_port, ["-Xmx256m"]).start()
    samples = []
    stop = threading.Event()

    def sample():
        # jstat prints heap occupancy (KB) per generation every 250 ms; RSS comes from /proc.
        jstat = subprocess.Popen([jstat_path(), "-gc", str(sluice.pid), "250"], stdout=subprocess.PIPE, text=True) \
            if os.path.exists(jstat_path()) else None
        start = time.perf_counter()
        header = None
        try:
            while not stop.is_set():
                heap = old = None
                if jstat:
                    line = jstat.stdout.readline().split()
                    if line and line[0] == "S0C":
                        header = line
                        continue
                    if header and line:
                        row = dict(zip(header, line))
                        heap = sum(float(row.get(k, 0)) for k in ("S0U", "S1U", "EU", "OU")) / 1024
                        old = float(row.get("OU", 0)) / 1024  # what survived young collections
                else:
                    time.sleep(0.25)
                samples.append({"t": round(time.perf_counter() - start, 3), "rss_mib": round(rss_mib(sluice.pid), 1),
                                "heap_mib": None if heap is None else round(heap, 1),
                                "old_gen_mib": None if old is None else round(old, 1), "lines": lines[0]})
        finally:
            if jstat:
                jstat.terminate()
                jstat.wait()

    lines = [0]
    errors = 0
    prefix = f"http://127.0.0.1:{origin_port}/item.json?big="
    document = json.dumps({"requests": [{"url": f"{prefix}{i}"} for i in range(count)],
                           "concurrency": concurrency}).encode()
    sampler = threading.Thread(target=sample, daemon=True)
    try:
        sampler.start()
        start = time.perf_counter()
        connection = http.client.HTTPConnection("127.0.0.1", sluice.port, timeout=300)
        connection.request("POST", "/v1/batch", body=document,
                           headers={"Content-Type": "application/json", "Accept": "application/x-ndjson"})
        response = connection.getresponse()
        indexes = set()
        while True:
            line = response.readline()
            if not line:
                break
            item = json.loads(line)
            indexes.add(item["index"])
            if item.get("status") != 200:
                errors += 1
            lines[0] += 1
        seconds = time.perf_counter() - start
        connection.close()
        time.sleep(0.5)
    finally:
        stop.set()
        sampler.join(timeout=10)
        sluice.stop()
    rss = [s["rss_mib"] for s in samples]
    heap = [s["heap_mib"] for s in samples if s["heap_mib"] is not None]
    tenth = max(1, len(rss) // 10)
    return {
        "items": count, "lines": lines[0], "distinct_indexes": len(indexes), "errors": errors,
        "seconds": seconds, "concurrency": concurrency, "heap_limit": "-Xmx256m",
        "rss_mib_after_first_10pct": max(rss[:tenth]) if rss else None,
        "rss_mib_max": max(rss) if rss else None,
        "rss_mib_last_10pct": max(rss[-tenth:]) if rss else None,
        "heap_mib_max": max(heap) if heap else None,
        "old_gen_mib_max": max((s["old_gen_mib"] for s in samples if s["old_gen_mib"] is not None), default=None),
        "samples": samples,
    }


def established(port):
    done = subprocess.run(["ss", "-Htn", "state", "established", f"( sport = :{port} )"],
                          capture_output=True, text=True)
    return len(done.stdout.splitlines())


def many_connections(url, port, connections, seconds):
    peak = [0]
    stop = threading.Event()

    def watch():
        while not stop.is_set():
            peak[0] = max(peak[0], established(port))
            stop.wait(1.0)

    watcher = threading.Thread(target=watch, daemon=True)
    watcher.start()
    try:
        result = wrk(url, connections, seconds, threads=2, timeout="20s")
    finally:
        stop.set()
        watcher.join()
    result["peak_established"] = peak[0]
    result["connections"] = connections
    return result


# ---------------------------------------------------------------------------------------------
# Report


def machine():
    model = ""
    try:
        with open("/proc/cpuinfo") as f:
            model = next(line.split(":", 1)[1].strip() for line in f if line.startswith("model name"))
    except (OSError, StopIteration):
        pass
    java = os.environ.get("BENCH_JAVA", "java")
    jdk = subprocess.run([java, "-version"], capture_output=True, text=True).stderr.splitlines()
    nginx = subprocess.run(["/usr/sbin/nginx", "-v"], capture_output=True, text=True).stderr.strip()
    with open("/proc/meminfo") as f:
        mem = int(f.readline().split()[1]) // 1024
    return {"cpu": model, "cores": os.cpu_count(), "memory_mib": mem, "kernel": platform.release(),
            "jdk": jdk[0] if jdk else "", "nginx": nginx.replace("nginx version: ", ""),
            "load_average_at_start": os.getloadavg()}


def ratios(results):
    t = results["throughput"]
    proxy, sluice, policies = t["nginx proxy_pass"], t["sluice"], t.get("sluice +limits+cache")
    stored = t.get("sluice +limits+cache, stored")
    out = {
        "passthrough_rps_vs_proxy_pass": sluice["rps"] / proxy["rps"],
        "passthrough_p99_vs_proxy_pass": sluice["p99_us"] / proxy["p99_us"],
        "sluice_cpu_s_per_1000": sluice["cpu_s_per_1000"],
    }
    if policies:
        out["policies_rps_vs_bare"] = policies["rps"] / sluice["rps"]
        out["policies_p99_vs_bare"] = policies["p99_us"] / sluice["p99_us"]
    if stored:
        out["stored_rps_vs_bare"] = stored["rps"] / sluice["rps"]
        out["stored_p99_vs_bare"] = stored["p99_us"] / sluice["p99_us"]
    b = results.get("batch")
    if b:
        out["batch_speedup_vs_aiohttp"] = b["aiohttp"]["seconds"] / b["sluice"]["seconds"]
    one = results.get("one_connection")
    if one:
        out["added_p50_us_one_connection"] = one["sluice"]["p50_us"] - one["direct nginx"]["p50_us"]
    return out


TARGETS = [
    ("passthrough_rps_vs_proxy_pass", "passthrough req/s vs nginx proxy_pass", ">=", 1.0, "{:.2f}x"),
    ("passthrough_p99_vs_proxy_pass", "passthrough p99 vs nginx proxy_pass", "<=", 1.0, "{:.2f}x"),
    ("batch_speedup_vs_aiohttp", "5,000-item batch speed vs aiohttp", ">=", 3.0, "{:.2f}x"),
    ("added_p50_us_one_connection", "added p50 at one connection", "<=", 150, "{:.0f} us"),
    ("sluice_cpu_s_per_1000", "Sluice CPU per 1,000 passthrough requests", "<=", 0.1, "{:.3f} s"),
    # "Within 10% of the bare path": req/s at least 0.9x, p99 at most 1.1x.
    ("policies_rps_vs_bare", "req/s with limits+cache vs bare", ">=", 0.9, "{:.2f}x"),
    ("policies_p99_vs_bare", "p99 with limits+cache vs bare", "<=", 1.1, "{:.2f}x"),
    ("stored_rps_vs_bare", "req/s with limits+cache, every miss stored, vs bare", ">=", 0.9, "{:.2f}x"),
    ("stored_p99_vs_bare", "p99 with limits+cache, every miss stored, vs bare", "<=", 1.1, "{:.2f}x"),
]


def markdown(results):
    r = results["ratios"]
    lines = ["| target | measured | goal | met |", "|---|---|---|---|"]
    for key, label, op, goal, fmt in TARGETS:
        if key not in r:
            continue
        met = r[key] >= goal if op == ">=" else r[key] <= goal
        goal_text = fmt.format(goal)
        lines.append(f"| {label} | **{fmt.format(r[key])}** | {op} {goal_text} | {'yes' if met else 'NO'} |")
    seconds = results.get("seconds")
    lines += ["", f"| contender (wrk -t1 -c32) | req/s | p50 | p99 | CPU s / 1,000 req | GC pauses per {seconds} s round | errors |",
              "|---|---|---|---|---|---|---|"]
    for name, s in results["throughput"].items():
        cpu = f"{s['cpu_s_per_1000']:.3f}" if "cpu_s_per_1000" in s else "—"
        gc = f"{s['young_gcs']:.0f}, {s['young_gc_ms']:.0f} ms" if "young_gcs" in s else "—"
        lines.append(f"| {name} | {s['rps']:.0f} | {s['p50_us'] / 1000:.2f} ms | {s['p99_us'] / 1000:.2f} ms | {cpu} | {gc} | {s['errors']} |")
    if "one_connection" in results:
        lines += ["", "| one connection (wrk -t1 -c1) | req/s | p50 | p99 |", "|---|---|---|---|"]
        for name, s in results["one_connection"].items():
            lines.append(f"| {name} | {s['rps']:.0f} | {s['p50_us']} us | {s['p99_us']} us |")
    if "batch" in results:
        b = results["batch"]
        lines += ["", f"| {results['batch_items']:,} GETs, 64 in flight | seconds | items/s | errors |", "|---|---|---|---|"]
        for name, label in (("sluice", "Sluice `POST /v1/batch`"), ("aiohttp", "aiohttp gather + Semaphore(64)")):
            lines.append(f"| {label} | {b[name]['seconds']:.3f} | {results['batch_items'] / b[name]['seconds']:.0f} | {b[name]['errors']} |")
    if "scale_ndjson" in results:
        s = results["scale_ndjson"]
        lines += ["", f"Scale: {s['items']:,}-item NDJSON batch in {s['heap_limit']} ({s['concurrency']} in flight): "
                  f"{s['lines']:,} lines ({s['distinct_indexes']:,} distinct), {s['errors']} errors, {s['seconds']:.1f} s; "
                  f"RSS {s['rss_mib_after_first_10pct']:.0f} MiB after the first tenth, {s['rss_mib_last_10pct']:.0f} MiB "
                  f"in the last tenth, {s['rss_mib_max']:.0f} MiB peak; heap in use (garbage included) peaked at "
                  f"{s['heap_mib_max'] if s['heap_mib_max'] is not None else float('nan'):.0f} MiB, old generation at "
                  f"{s['old_gen_mib_max'] if s['old_gen_mib_max'] is not None else float('nan'):.0f} MiB."]
    if "scale_connections" in results:
        s = results["scale_connections"]
        lines += ["", f"Scale: {s['connections']:,} concurrent passthrough connections (wrk -t2 -c{s['connections']} "
                  f"-d{s['seconds']}s): {s['requests']:,} requests, {s['rps']:.0f} req/s, p99 {s['p99_us'] / 1000:.1f} ms, "
                  f"errors: connect {s['connect_errors']}, read {s['read_errors']}, write {s['write_errors']}, "
                  f"status {s['status_errors']}, timeout {s['timeouts']}; peak established client connections "
                  f"{s['peak_established']:,}."]
    m = results["machine"]
    lines += ["", f"Machine: {m['cpu']}, {m['cores']} cores, {m['memory_mib']:,} MiB; {m['jdk']}; nginx {m['nginx']}; "
              f"Linux {m['kernel']}; load average at start {', '.join(f'{x:.2f}' for x in m['load_average_at_start'])}. "
              f"{results['rounds']} rounds of {results['seconds']} s, contenders alternating; medians."]
    return "\n".join(lines) + "\n"


def chart(results, path):
    try:
        import matplotlib
        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        log("  (no matplotlib: apt-get install python3-matplotlib for the chart)")
        return False
    panels = 3 + ("scale_ndjson" in results)
    fig, axes = plt.subplots(1, panels, figsize=(5 * panels, 4.2))
    t = results["throughput"]
    names = list(t)
    colors = ["#999999", "#4477aa", "#ee6677", "#cc3311", "#882255"][:len(names)]
    ax = axes[0]
    ax.bar(range(len(names)), [t[n]["rps"] for n in names], color=colors)
    ax.set_xticks(range(len(names)), [textwrap.fill(n, 14) for n in names], fontsize=7)
    ax.set_title("passthrough req/s (wrk -t1 -c32, 1 KB)", fontsize=10)
    ax = axes[1]
    width = 0.38
    xs = range(len(names))
    ax.bar([x - width / 2 for x in xs], [t[n]["p50_us"] / 1000 for n in names], width, label="p50", color="#88ccee")
    ax.bar([x + width / 2 for x in xs], [t[n]["p99_us"] / 1000 for n in names], width, label="p99", color="#332288")
    ax.set_xticks(list(xs), [textwrap.fill(n, 14) for n in names], fontsize=7)
    ax.set_ylabel("ms")
    ax.legend(fontsize=8)
    ax.set_title("latency at 32 connections", fontsize=10)
    ax = axes[2]
    if "batch" in results:
        b = results["batch"]
        ax.bar([0, 1], [b["sluice"]["seconds"], b["aiohttp"]["seconds"]], color=["#ee6677", "#228833"])
        ax.set_xticks([0, 1], ["Sluice batch", "aiohttp\ngather+Semaphore(64)"], fontsize=8)
        ax.set_ylabel("seconds (lower is better)")
        ax.set_title(f"{results['batch_items']:,} GETs, 64 in flight", fontsize=10)
    if "scale_ndjson" in results:
        ax = axes[3]
        s = results["scale_ndjson"]["samples"]
        ax.plot([x["t"] for x in s], [x["rss_mib"] for x in s], label="RSS MiB", color="#ee6677")
        heap = [x for x in s if x["heap_mib"] is not None]
        ax.plot([x["t"] for x in heap], [x["heap_mib"] for x in heap], label="heap in use MiB", color="#4477aa")
        ax.plot([x["t"] for x in heap], [x["old_gen_mib"] for x in heap], label="old gen MiB", color="#228833")
        ax2 = ax.twinx()
        ax2.plot([x["t"] for x in s], [x["lines"] for x in s], color="#999999", linestyle=":", label="results")
        ax2.set_ylabel("results written", fontsize=8)
        ax.set_xlabel("seconds")
        ax.legend(fontsize=8, loc="upper left")
        ax.set_title(f"{results['scale_ndjson']['items']:,}-item NDJSON batch, -Xmx256m", fontsize=10)
    r = results["ratios"]
    headline = (f"Sluice passthrough {r['passthrough_rps_vs_proxy_pass']:.2f}x nginx proxy_pass req/s, "
                f"p99 {r['passthrough_p99_vs_proxy_pass']:.2f}x; batch {r.get('batch_speedup_vs_aiohttp', 0):.1f}x "
                f"faster than aiohttp; +{r.get('added_p50_us_one_connection', 0):.0f} us p50 at one connection; "
                f"{r['sluice_cpu_s_per_1000']:.3f} CPU-s / 1,000 req")
    fig.suptitle(headline, fontsize=10)
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    return True


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--quick", action="store_true", help="2 rounds of 3 s, no scale checks unless --scale")
    parser.add_argument("--rounds", type=int)
    parser.add_argument("--seconds", type=int)
    parser.add_argument("--scale", action=argparse.BooleanOptionalAction, default=None,
                        help="run the scale checks (default: on, off with --quick)")
    parser.add_argument("--only", default="abcde",
                        help="which of a,b,c,d,e,f,t,w to run (c includes c' and c''; f, not run by default, "
                             "splits passthrough's CPU by layer; t, not run by default, is HTTPS; w, not run by "
                             "default, is large HTTPS downloads across a round trip), e.g. --only c")
    parser.add_argument("--out", default=os.path.join(HERE, "out"))
    parser.add_argument("--warm", type=int, help="warm-up seconds per contender (default 60, 3 with --quick)")
    args = parser.parse_args()
    rounds = args.rounds or (2 if args.quick else 5)
    seconds = args.seconds or (3 if args.quick else 10)
    # Steady state is what a long-running sidecar lives in; on a busy 2-core machine C2 needs tens of
    # seconds to compile the whole pipeline (startup is measured on its own, by startup.sh). With
    # 30 s the cache path was still getting cheaper round by round (0.059 -> 0.035 CPU-s per 1,000).
    warm = args.warm or (3 if args.quick else 60)
    scale = args.scale if args.scale is not None else not args.quick
    os.makedirs(args.out, exist_ok=True)
    for tool in ("wrk", "/usr/sbin/nginx"):
        if not shutil.which(tool):
            raise SystemExit(f"bench: {tool} not found (apt-get install nginx-light wrk)")

    results = {"machine": machine(), "rounds": rounds, "seconds": seconds, "batch_items": 5000,
               "started": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())}
    if "w" in args.only:
        # (w) has its own processes: the TLS origin behind a relay that adds a round trip.
        import latency_bench
        results["latency"] = latency_bench.run(args.out, args.rounds or 3)
        report = latency_bench.markdown(results["latency"])
        print(report)
        with open(os.path.join(args.out, "latency.md"), "w") as f:
            f.write(report)
        if results["latency"]["failed_rows"]:
            raise SystemExit(f"bench (w): FAILED downloads: {', '.join(results['latency']['failed_rows'])}")
        if not set(args.only) & set("abcdeft"):
            with open(os.path.join(args.out, "results.json"), "w") as f:
                json.dump(results, f, indent=1)
            log(f"results: {args.out}/results.json, {args.out}/latency.md")
            return
    if "t" in args.only:
        # (t) has its own processes and, unless given, its own shorter defaults (7 rows in one run).
        import tls_bench
        results["tls"] = tls_bench.run(args.out, args.rounds or 3, args.seconds or 5, args.warm or 20)
        report = tls_bench.markdown(results["tls"])
        print(report)
        with open(os.path.join(args.out, "tls.md"), "w") as f:
            f.write(report)
        if not set(args.only) & set("abcdef"):
            with open(os.path.join(args.out, "results.json"), "w") as f:
                json.dump(results, f, indent=1)
            log(f"results: {args.out}/results.json, {args.out}/tls.md")
            if results["tls"]["failed_rows"]:
                raise SystemExit(f"bench (t): FAILED requests in: {', '.join(results['tls']['failed_rows'])}")
            return
        if results["tls"]["failed_rows"]:
            raise SystemExit(f"bench (t): FAILED requests in: {', '.join(results['tls']['failed_rows'])}")

    nginx = Nginx(args.out)
    started = []
    try:
        nginx.start()
        started.append(nginx)
        bare = Sluice(args.out, "bare", "sluice-bare.yaml", nginx.origin_port).start()
        started.append(bare)
        policies = Sluice(args.out, "policies", "sluice-policies.yaml", nginx.origin_port).start()
        started.append(policies)
        # (c'') in a process of its own: a full cache that keeps taking newcomers in leaves G1 with
        # survivors it copies at every young pause for up to 15 collections, and (c') measured in
        # the same process inherited those pauses (p99 1.27x bare against 1.07x alone, same minutes).
        stored = Sluice(args.out, "stored", "sluice-policies.yaml", nginx.origin_port).start()
        started.append(stored)
        direct_url = f"http://127.0.0.1:{nginx.origin_port}/item.json"
        proxy_url = f"http://127.0.0.1:{nginx.proxy_port}/item.json"
        sluice_url = f"http://127.0.0.1:{bare.port}/origin/item.json"
        policies_url = f"http://127.0.0.1:{policies.port}/origin/item.json"
        stored_url = f"http://127.0.0.1:{stored.port}/origin/fresh/item.json"
        wait_http(sluice_url)
        wait_http(policies_url)
        wait_http(stored_url)

        contenders = []
        if "a" in args.only:
            contenders.append(("direct nginx", direct_url, None))
        if "b" in args.only:
            contenders.append(("nginx proxy_pass", proxy_url, None))
        if "c" in args.only:
            # c': misses the cache cannot keep (validators, no freshness: stored from a URL's second
            # request on) and c'': misses it stores, every one, as from an API that sends max-age.
            contenders += [("sluice", sluice_url, bare.pid), ("sluice +limits+cache", policies_url, policies.pid),
                           ("sluice +limits+cache, stored", stored_url, stored.pid)]
        if contenders:
            log(f"(a)(b)(c)(c')(c'') throughput: {rounds} rounds of {seconds} s, wrk -t1 -c32")
            results["throughput"], results["throughput_runs"] = throughput(contenders, rounds, seconds, warm)
        if "e" in args.only:
            log("(e) one connection: wrk -t1 -c1")
            one = [("direct nginx", direct_url, None), ("nginx proxy_pass", proxy_url, None),
                   ("sluice", sluice_url, bare.pid)]
            results["one_connection"], results["one_connection_runs"] = throughput(
                one, rounds, max(3, seconds // 2), 2, connections=1)
        if "f" in args.only:
            log(f"(f) CPU per request by layer: {rounds} rounds of {seconds} s, wrk -t1 -c32")
            own_nginx = Nginx(args.out, "nginx-proxy", "nginx-proxy.conf.in", nginx.origin_port).start()
            started.append(own_nginx)
            relay = FloorProgram(args.out, "Floor.java", ["relay"], nginx.origin_port).start()
            started.append(relay)
            codec = FloorProgram(args.out, "Floor.java", ["http"], nginx.origin_port).start()
            started.append(codec)
            undertow = FloorProgram(args.out, "UndertowProxy.java", [], nginx.origin_port).start()
            started.append(undertow)
            layers = [("nginx proxy_pass, own process", f"http://127.0.0.1:{own_nginx.proxy_port}/item.json", own_nginx.pid),
                      ("TCP relay, JDK NIO, no HTTP", f"http://127.0.0.1:{relay.port}/item.json", relay.pid),
                      ("minimal HTTP/1.1 proxy, JDK NIO", f"http://127.0.0.1:{codec.port}/item.json", codec.pid),
                      ("Undertow ProxyHandler", f"http://127.0.0.1:{undertow.port}/item.json", undertow.pid),
                      ("sluice", sluice_url, bare.pid)]
            results["floor"], results["floor_runs"] = throughput(layers, rounds, seconds, warm)
            report = floor_markdown(results)
            print(report)
            with open(os.path.join(args.out, "floor.md"), "w") as f:
                f.write(report)
        if "d" in args.only:
            log("(d) 5,000-item batch: Sluice vs aiohttp")
            results["batch"], results["batch_runs"] = batch(bare.port, nginx.origin_port, rounds, warm)
        for process in (stored, policies):
            process.stop()
            started.remove(process)
        if scale:
            log("scale: 10,000 concurrent passthrough connections")
            result = many_connections(sluice_url, bare.port, 10000, 15 if not args.quick else 8)
            result["seconds"] = 15 if not args.quick else 8
            results["scale_connections"] = result
            log(f"  {result['requests']} requests, errors {result['errors']}, peak established {result['peak_established']}")
            bare.stop()
            started.remove(bare)
            log("scale: 100,000-item NDJSON batch in -Xmx256m")
            results["scale_ndjson"] = large_ndjson_batch(args.out, nginx.origin_port, 100000)
            s = results["scale_ndjson"]
            log(f"  {s['lines']} lines, {s['errors']} errors, {s['seconds']:.1f} s, RSS max {s['rss_mib_max']} MiB")
    finally:
        for process in reversed(started):
            process.stop()

    if "a" in args.only and "b" in args.only and "c" in args.only:
        results["ratios"] = ratios(results)
        report = markdown(results)
        print(report)
        with open(os.path.join(args.out, "results.md"), "w") as f:
            f.write(report)
        if chart(results, os.path.join(args.out, "bench.png")):
            log(f"chart: {os.path.join(args.out, 'bench.png')}")
    with open(os.path.join(args.out, "results.json"), "w") as f:
        json.dump(results, f, indent=1)
    log(f"results: {args.out}/results.json")


if __name__ == "__main__":
    main()
