#!/bin/bash
# Build-time training run for the JDK's AOT cache (JEP 483/514): starts Sluice with
# -XX:AOTCacheOutput, sends it the requests a sidecar serves (readiness, a batch with a good and a
# bad item, a 400, a passthrough), then SIGTERMs it; on that clean exit the JVM writes the cache.
# Every later start that uses -XX:AOTCache finds those classes already loaded and linked.
#
#   train.sh JAR AOT_CACHE [JVM flags...]      uses `java` from PATH (or $JAVA)
#
# ARCHIVE_FLAG=-XX:ArchiveClassesAtExit makes the same run write a dynamic AppCDS archive instead
# (for JDKs before 25, or to compare; see deploy/bench/startup.sh).
set -euo pipefail
jar=$1 out=$2
shift 2
here=$(cd "$(dirname "$0")" && pwd)
java=${JAVA:-java}
data=${TRAIN_DATA_PORT:-17600} admin=${TRAIN_ADMIN_PORT:-17601}
cfg=$(mktemp)
trap 'rm -f "$cfg"' EXIT
cat >"$cfg" <<YAML
listen: 127.0.0.1:$data
admin: {listen: 127.0.0.1:$admin}
upstreams:
  self: {base_url: "http://127.0.0.1:$admin", allow_private: true}
YAML

"$java" "$@" "${ARCHIVE_FLAG:--XX:AOTCacheOutput}=$out" -jar "$jar" --config "$cfg" &
pid=$!
for _ in $(seq 1 600); do
    SLUICE_ADMIN_PORT=$admin "$here/healthcheck.sh" /readyz && break
    kill -0 "$pid" 2>/dev/null || { echo "train: sluice exited early" >&2; exit 1; }
    sleep 0.1
done

# One HTTP/1.0 exchange over bash's /dev/tcp; prints the status line.
http() { # METHOD PATH [BODY]
    local body=${3:-}
    exec 3<>"/dev/tcp/127.0.0.1/$data"
    printf '%s %s HTTP/1.0\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\nContent-Length: %d\r\n\r\n%s' \
        "$1" "$2" "${#body}" "$body" >&3
    head -n1 <&3
    exec 3<&-
}
for _ in 1 2 3; do
    http POST /v1/batch "{\"requests\":[{\"id\":\"ok\",\"url\":\"http://127.0.0.1:$admin/healthz\"},{\"id\":\"bad\",\"url\":\"file:///etc/passwd\"}]}"
    http POST /v1/batch '{"requests": '
    http GET /self/readyz
done
kill -TERM "$pid"
wait "$pid"
test -s "$out"
