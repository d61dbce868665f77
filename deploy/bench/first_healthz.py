#!/usr/bin/env python3
"""Time from the command to the first /healthz 200, and idle RSS, of a Sluice start command.

    deploy/bench/first_healthz.py [--runs 5] [--idle 5] -- COMMAND... [-- COMMAND...]...

Several commands (separated by `--`) are run in turn, round after round, so that a busy neighbour
slows them alike. COMMAND is run as given (e.g. `./sluice run` or `java @deploy/jvm.options -jar
proxy/target/sluice.jar`), with `--listen 127.0.0.1:P --admin-listen 127.0.0.1:Q` appended (two
free loopback ports), so it measures Sluice's built-in defaults, exactly as a newcomer starts it.
Per run it reports:
  healthz_ms  wall time from spawning COMMAND to the first `GET /healthz` that answers 200 on the
              admin port (polled over a raw socket every ~1 ms);
  cpu_ms      CPU time (user + system, all threads) the process had used by then;
  idle_rss    VmRSS of the process --idle seconds (default 5) after that, before any traffic.
then the median of each column, per command. The process is SIGTERMed after each run; a run that does not
answer within 60 s fails the script. A benchmark, not a test: no thresholds, loopback only.
"""
import os, signal, socket, statistics, subprocess, sys, time

def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]

def healthz(port):
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=1) as s:
            s.sendall(b"GET /healthz HTTP/1.0\r\nHost: 127.0.0.1\r\n\r\n")
            return s.recv(64)[8:13] == b" 200 "
    except OSError:
        return False

def status(pid, key):
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith(key + ":"):
                return int(line.split()[1])
    return 0

def cpu_ms(pid):
    with open(f"/proc/{pid}/stat") as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) * 1000 // os.sysconf("SC_CLK_TCK")

def one_run(command, idle):
    data, admin = free_port(), free_port()
    argv = command + ["--listen", f"127.0.0.1:{data}", "--admin-listen", f"127.0.0.1:{admin}"]
    start = time.monotonic()
    proc = subprocess.Popen(argv, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    try:
        while not healthz(admin):
            if proc.poll() is not None:
                sys.exit(f"exited with {proc.returncode}: {proc.stderr.read().decode()[-2000:]}")
            if time.monotonic() - start > 60:
                sys.exit("no /healthz 200 within 60 s")
            time.sleep(0.001)
        ready = (time.monotonic() - start) * 1000
        cpu = cpu_ms(proc.pid)
        time.sleep(idle)
        rss = status(proc.pid, "VmRSS") / 1024
        return ready, cpu, rss
    finally:
        proc.send_signal(signal.SIGTERM)
        try:
            _, err = proc.communicate(timeout=30)
        except subprocess.TimeoutExpired:
            proc.kill()
            _, err = proc.communicate()
        one_run.stderr = err.decode(errors="replace")

def main(args):
    runs, idle = 5, 5.0
    while args and args[0].startswith("--"):
        opt = args.pop(0)
        if opt == "--":
            break
        if opt == "--runs":
            runs = int(args.pop(0))
        elif opt == "--idle":
            idle = float(args.pop(0))
        else:
            sys.exit(__doc__)
    commands = [[]]
    for a in args:
        if a == "--":
            commands.append([])
        else:
            commands[-1].append(a)
    if not all(commands):
        sys.exit(__doc__)
    print(f"runs={runs} idle={idle}s  load before: {' '.join(open('/proc/loadavg').read().split()[:3])}")
    for n, c in enumerate(commands, 1):
        print(f"  [{n}] {' '.join(c)}")
    print(f"{'cmd':>4} {'run':>4} {'healthz_ms':>11} {'cpu_ms':>8} {'idle_rss_MB':>12}")
    rows = {n: [] for n in range(1, len(commands) + 1)}
    for i in range(1, runs + 1):
        for n, c in enumerate(commands, 1):
            r = one_run(c, idle)
            rows[n].append(r)
            print(f"{n:>4} {i:>4} {r[0]:>11.0f} {r[1]:>8} {r[2]:>12.1f}", flush=True)
            lines = [l for l in one_run.stderr.splitlines() if l.startswith("[") or "warn" in l.lower()]
            if lines:
                print(f"          ({len(lines)} JVM/warning line(s) on stderr, e.g.: {lines[0][:160]})")
    for n in rows:
        med = [statistics.median(c) for c in zip(*rows[n])]
        print(f"{n:>4} {'med':>4} {med[0]:>11.0f} {med[1]:>8.0f} {med[2]:>12.1f}")
    print(f"load after: {' '.join(open('/proc/loadavg').read().split()[:3])}")


if __name__ == "__main__":
    main(sys.argv[1:])
