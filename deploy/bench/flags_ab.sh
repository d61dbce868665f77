#!/usr/bin/env bash
# Throughput A/B of two JVM flag sets on the same jar: the route form (/origin/...) to a cleartext
# nginx origin serving a 1 KB file, `wrk -t1 -c32`, the two JVMs side by side and their rounds
# alternated, so that a busy neighbour hits both alike. A benchmark, not a test; loopback only.
#
#   JAVA_HOME=... deploy/bench/flags_ab.sh "A flags" "B flags"     (ROUNDS=3 SECONDS_PER_ROUND=8 WARMUP=10)
#
# e.g. the shared list alone against the list plus the checkout's class-data archive:
#   deploy/bench/flags_ab.sh "@deploy/jvm.options" "@deploy/jvm.options @deploy/archive.options"
# Prints req/s, p99 and the CPU per request (from /proc) of each round.
set -euo pipefail
cd "$(dirname "$0")/../.."
A=$1 B=$2
JAVA=${JAVA_HOME:+$JAVA_HOME/bin/}java
JAR=${JAR:-proxy/target/sluice.jar}
ROUNDS=${ROUNDS:-3} SECS=${SECONDS_PER_ROUND:-8} WARMUP=${WARMUP:-10}
command -v nginx >/dev/null && command -v wrk >/dev/null || { echo "needs nginx and wrk" >&2; exit 2; }

work=$(mktemp -d)
pids=()
cleanup() { for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done; [ -f "$work/nginx.pid" ] && kill "$(cat "$work/nginx.pid")" 2>/dev/null; rm -rf "$work"; }
trap cleanup EXIT
free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
cpu_ticks() { awk '{sub(/^.*\) /, ""); print $12 + $13}' "/proc/$1/stat"; }

origin=$(free_port)
mkdir -p "$work/www" "$work/tmp"
head -c 1024 /dev/zero | tr '\0' 'x' >"$work/www/item.json"
cat >"$work/nginx.conf" <<NGINX
worker_processes 1;
pid $work/nginx.pid;
error_log $work/error.log warn;
daemon on;
events { worker_connections 4096; }
http {
    access_log off;
    client_body_temp_path $work/tmp; proxy_temp_path $work/tmp; fastcgi_temp_path $work/tmp;
    uwsgi_temp_path $work/tmp; scgi_temp_path $work/tmp;
    keepalive_requests 1000000;
    server { listen 127.0.0.1:$origin; root $work/www; location / { } }
}
NGINX
nginx -p "$work" -c "$work/nginx.conf"

start() { # NAME FLAGS -> sets port_NAME and pid_NAME
    local name=$1 flags=$2 data admin
    data=$(free_port); admin=$(free_port)
    cat >"$work/$name.yaml" <<YAML
listen: 127.0.0.1:$data
admin: {listen: "127.0.0.1:$admin"}
defaults: {limits: [], max_concurrency: 1000, cache: {enabled: false}}
upstreams:
  origin: {base_url: "http://127.0.0.1:$origin", allow_private: true}
YAML
    # shellcheck disable=SC2086
    "$JAVA" $flags -jar "$JAR" --config "$work/$name.yaml" >"$work/$name.log" 2>&1 &
    pids+=($!)
    eval "pid_$name=$!; port_$name=$data"
    for _ in $(seq 1 600); do curl -fs -o /dev/null "http://127.0.0.1:$admin/readyz" && return; sleep 0.1; done
    echo "$name did not start" >&2; cat "$work/$name.log" >&2; exit 1
}
start a "$A"
start b "$B"
url() { echo "http://127.0.0.1:$1/origin/item.json"; }
wrk -t1 -c32 -d"${WARMUP}s" "$(url "$port_a")" >/dev/null
wrk -t1 -c32 -d"${WARMUP}s" "$(url "$port_b")" >/dev/null

hz=$(getconf CLK_TCK)
echo "A: $A"
echo "B: $B"
printf '%-6s %-2s %10s %10s %14s\n' round set req/s p99 cpu_us/req
for r in $(seq 1 "$ROUNDS"); do
    for name in a b; do
        eval "pid=\$pid_$name; port=\$port_$name"
        c0=$(cpu_ticks "$pid")
        out=$(wrk -t1 -c32 -d"${SECS}s" --latency "$(url "$port")")
        c1=$(cpu_ticks "$pid")
        rps=$(awk '/^Requests\/sec/ {print $2}' <<<"$out")
        p99=$(awk '$1 == "99%" {print $2}' <<<"$out")
        total=$(awk '/requests in/ {print $1}' <<<"$out")
        printf '%-6s %-2s %10s %10s %14s\n' "$r" "${name^^}" "$rps" "$p99" \
            "$(awk -v t="$((c1 - c0))" -v n="$total" -v hz="$hz" 'BEGIN {printf "%.1f", t / hz * 1e6 / n}')"
    done
done
echo "load average: $(cut -d' ' -f1-3 /proc/loadavg)"
