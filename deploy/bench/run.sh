#!/usr/bin/env bash
# Sluice benchmark, one command:  deploy/bench/run.sh [--quick] [--no-scale] [--rounds N] [--seconds S]
# Needs nginx, wrk and python3-aiohttp (Debian: apt-get install nginx-light wrk python3-aiohttp;
# python3-matplotlib for the chart). Results land in deploy/bench/out/ (results.md, results.json, bench.png).
set -euo pipefail
cd "$(dirname "$0")/../.."

java_major() { "$1/bin/java" -XshowSettings:properties -version 2>&1 | sed -n 's/^ *java.specification.version = //p'; }
for dir in ${JAVA_HOME:-} /usr/lib/jvm/temurin-25-jdk-* /usr/lib/jvm/temurin-2[1-9]-jdk-* /usr/lib/jvm/java-2[1-9]-openjdk-* /usr/lib/jvm/*; do
  [ -x "$dir/bin/java" ] || continue
  major=$(java_major "$dir")
  if [ -n "$major" ] && [ "$major" -ge 21 ] 2>/dev/null; then export JAVA_HOME="$dir"; break; fi
done
[ -n "${JAVA_HOME:-}" ] || { echo "bench: no JDK 21 or newer found" >&2; exit 1; }
export BENCH_JAVA="$JAVA_HOME/bin/java"

if [ -z "${BENCH_JAR:-}" ]; then
  if [ ! -f proxy/target/sluice.jar ] || [ -n "$(find proxy/src pom.xml proxy/pom.xml -newer proxy/target/sluice.jar -print -quit)" ]; then
    ./sluice build
  fi
  export BENCH_JAR="$PWD/proxy/target/sluice.jar"
fi

# 10,000 client connections plus Sluice's upstream connections need more than the usual 1024 descriptors.
ulimit -n "$(ulimit -Hn)" 2>/dev/null || true
[ "$(ulimit -n)" = unlimited ] || [ "$(ulimit -n)" -ge 24000 ] || echo "bench: ulimit -n is $(ulimit -n); the 10,000-connection check may fail below ~24000" >&2

exec /usr/bin/python3 deploy/bench/bench.py "$@"
