#!/usr/bin/env bash
# Startup and footprint benchmark for Sluice (a measurement, not a test).
#
#   JAVA_HOME=/usr/lib/jvm/temurin-25-jdk-amd64 deploy/bench/startup.sh [JAR] [-- JVM flags...]
#
# For each run it starts `java [flags] -jar JAR` on free loopback ports and reports:
#   ready_ms   wall time from exec to the first `GET /readyz` that answers 200 (polled with curl
#              every ~2 ms, so the figure includes up to one poll interval);
#   cpu_ms     CPU time (user + system, all threads) the JVM had used by then: on a busy shared
#              machine wall time mostly measures the neighbours, CPU time measures Sluice;
#   idle_rss   VmRSS of the JVM one second after it became ready, before any traffic;
#   load_s     wall time of that load (a rough throughput figure, as noisy as ready_ms);
#   load_rss   VmRSS right after a bounded load (LOAD_BATCHES batches of LOAD_ITEMS items each,
#              LOAD_CLIENTS clients at once, every item a GET to Sluice's own /healthz so no
#              other server is needed), and VmHWM (peak RSS) of the whole run.
# RUNS (default 5) runs per flag set; the script prints each run and the median.
# Everything stays on 127.0.0.1, and every loop is bounded.
set -euo pipefail

JAR=${1:-proxy/target/sluice.jar}
shift || true
[[ "${1:-}" == "--" ]] && shift
FLAGS=("$@")
JAVA=${JAVA_HOME:+$JAVA_HOME/bin/}java
RUNS=${RUNS:-5}
LOAD_BATCHES=${LOAD_BATCHES:-40}
LOAD_ITEMS=${LOAD_ITEMS:-250}
LOAD_CLIENTS=${LOAD_CLIENTS:-4}

[[ -f "$JAR" ]] || { echo "no jar at $JAR (build it: ./mvnw -q -B package -DskipTests)" >&2; exit 2; }
command -v curl >/dev/null || { echo "curl is required" >&2; exit 2; }

free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
rss_kb() { awk '/^VmRSS:/ {print $2}' "/proc/$1/status"; }
hwm_kb() { awk '/^VmHWM:/ {print $2}' "/proc/$1/status"; }
# utime + stime (fields 14 and 15 of /proc/PID/stat, in clock ticks) as milliseconds.
cpu_ms() { awk -v hz="$(getconf CLK_TCK)" '{sub(/^.*\) /, ""); print int(($12 + $13) * 1000 / hz)}' "/proc/$1/stat"; }
median() { sort -n | awk '{a[NR]=$1} END {print (NR % 2) ? a[(NR+1)/2] : (a[NR/2] + a[NR/2+1]) / 2}'; }

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

one_run() {
    local data admin cfg pid start now ready_ms cpu idle load hwm t0 load_ms
    data=$(free_port); admin=$(free_port)
    cfg="$work/sluice.yaml"
    cat >"$cfg" <<YAML
listen: 127.0.0.1:$data
admin: {listen: 127.0.0.1:$admin}
upstreams:
  self:
    match: ["http://127.0.0.1:$admin"]
    allow_private: true
    limits: [{rate: 100000/s, burst: 100000}]
YAML
    start=$(date +%s%N)
    "$JAVA" "${FLAGS[@]}" -jar "$JAR" --config "$cfg" >"$work/out.log" 2>&1 &
    pid=$!
    for _ in $(seq 1 5000); do
        if curl -fsS -o /dev/null "http://127.0.0.1:$admin/readyz" 2>/dev/null; then break; fi
        kill -0 "$pid" 2>/dev/null || { cat "$work/out.log" >&2; exit 1; }
        sleep 0.002
    done
    now=$(date +%s%N)
    cpu=$(cpu_ms "$pid")
    ready_ms=$(( (now - start) / 1000000 ))
    sleep 1
    idle=$(rss_kb "$pid")

    # Bounded load: LOAD_BATCHES batches, LOAD_CLIENTS at a time.
    python3 - "$LOAD_ITEMS" "$admin" >"$work/batch.json" <<'PY'
import json, sys
n, admin = int(sys.argv[1]), sys.argv[2]
print(json.dumps({"requests": [{"url": f"http://127.0.0.1:{admin}/healthz"} for _ in range(n)], "concurrency": 50}))
PY
    t0=$(date +%s%N)
    seq 1 "$LOAD_BATCHES" | xargs -P "$LOAD_CLIENTS" -I{} curl -fsS -o /dev/null --max-time 60 \
        -H 'Content-Type: application/json' --data-binary "@$work/batch.json" "http://127.0.0.1:$data/v1/batch"
    load_ms=$(( ($(date +%s%N) - t0) / 1000000 ))
    load=$(rss_kb "$pid"); hwm=$(hwm_kb "$pid")
    kill -TERM "$pid"; wait "$pid" || true
    echo "$ready_ms $cpu $((idle / 1024)) $(awk -v m="$load_ms" 'BEGIN {printf "%.1f", m / 1000}') $((load / 1024)) $((hwm / 1024))"
}

echo "jar=$JAR java=$("$JAVA" -version 2>&1 | head -1) flags=[${FLAGS[*]}] runs=$RUNS load=${LOAD_BATCHES}x${LOAD_ITEMS} items, ${LOAD_CLIENTS} clients"
echo "load average before: $(cut -d' ' -f1-3 /proc/loadavg)"
printf '%-6s %10s %8s %12s %8s %12s %12s\n' run ready_ms cpu_ms idle_rss_MB load_s load_rss_MB peak_rss_MB
results=()
for i in $(seq 1 "$RUNS"); do
    r=$(one_run)
    results+=("$r")
    printf '%-6s %10s %8s %12s %8s %12s %12s\n' "$i" $r
done
col() { printf '%s\n' "${results[@]}" | awk -v c="$1" '{print $c}' | median; }
printf '%-6s %10s %8s %12s %8s %12s %12s\n' median "$(col 1)" "$(col 2)" "$(col 3)" "$(col 4)" "$(col 5)" "$(col 6)"
printf '%-6s %10s %8s %12s %8s %12s %12s\n' min \
    "$(printf '%s\n' "${results[@]}" | awk '{print $1}' | sort -n | head -1)" \
    "$(printf '%s\n' "${results[@]}" | awk '{print $2}' | sort -n | head -1)" "" "" "" ""
echo "load average after: $(cut -d' ' -f1-3 /proc/loadavg)"
