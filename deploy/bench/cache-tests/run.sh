#!/usr/bin/env bash
# The HTTP caching test suite (http-tests/cache-tests, the suite behind cache-tests.fyi) against
# Sluice, nginx and squid, one command:
#
#   deploy/bench/cache-tests/run.sh [sluice] [nginx] [squid]      (default: all three)
#
# Fetches the suite at run time into a temporary directory (never into this repository): from
# $CACHE_TESTS_SRC if set (a git URL or a local git directory), else `git clone` of GitHub, else a
# local mirror ($CACHE_TESTS_MIRROR), else the npm package http-cache-tests (an older release).
# Starts the suite's own origin server, then each cache in front of it, all on loopback, runs the
# suite's client against each, stops everything and writes deploy/bench/cache-tests/RESULTS.md
# (raw JSON per cache in deploy/bench/cache-tests/out/). Needs node >= 20 with npm, git, a JDK >= 21,
# nginx and squid (Debian: nginx-light squid-openssl). Bounded: each cache's run is cut at 3 minutes.
set -euo pipefail
HERE="$(cd "$(dirname "$0")" && pwd)"
REPO="$(cd "$HERE/../../.." && pwd)"
cd "$REPO"
CACHES=("$@")
[ ${#CACHES[@]} -gt 0 ] || CACHES=(sluice nginx squid)
COMMAND="deploy/bench/cache-tests/run.sh${*:+ $*}"

log() { echo "cache-tests: $*" >&2; }
die() { log "$*"; exit 1; }

WORK="$(mktemp -d /tmp/sluice-cache-tests.XXXXXX)"
chmod 755 "$WORK"
PIDS=()
cleanup() {
  local pid
  for pid in "${PIDS[@]}"; do kill "$pid" 2>/dev/null || true; done
  for pid in "${PIDS[@]}"; do wait "$pid" 2>/dev/null || true; done
  [ -n "${KEEP_WORK:-}" ] || rm -rf "$WORK"
}
trap cleanup EXIT INT TERM

free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1]); s.close()'; }
wait_port() { # port seconds what
  local i
  for ((i = 0; i < $2 * 10; i++)); do
    (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null && return 0
    sleep 0.1
  done
  die "$3 did not listen on 127.0.0.1:$1 within $2 s (logs in $WORK; KEEP_WORK=1 keeps them)"
}
fill() { # template out: replaces @NAME@ with $NAME
  sed -e "s|@PREFIX@|$WORK|g" -e "s|@ORIGIN_PORT@|$ORIGIN_PORT|g" -e "s|@SLUICE_PORT@|${SLUICE_PORT:-}|g" \
      -e "s|@ADMIN_PORT@|${ADMIN_PORT:-}|g" -e "s|@NGINX_PORT@|${NGINX_PORT:-}|g" -e "s|@SQUID_PORT@|${SQUID_PORT:-}|g" "$1" > "$2"
}

# --- the suite, fetched now ---------------------------------------------------------------------
SUITE="$WORK/suite"
fetch_suite() {
  local src
  for src in ${CACHE_TESTS_SRC:-} https://github.com/http-tests/cache-tests "${CACHE_TESTS_MIRROR:-/work/.mirror/http-tests+cache-tests/repo}"; do
    [ -n "$src" ] || continue
    case "$src" in http*|git@*) ;; *) [ -e "$src" ] || continue ;; esac
    log "fetching the suite: git clone $src"
    url="$src"; case "$src" in http*|git@*|file://*) ;; *) url="file://$(cd "$src" && pwd)" ;; esac
    if GIT_TERMINAL_PROMPT=0 timeout 60 git clone -q --depth 1 "$url" "$SUITE" 2>/dev/null; then
      SOURCE="http-tests/cache-tests at commit $(git -C "$SUITE" rev-parse --short=12 HEAD) ($(git -C "$SUITE" log -1 --format=%cs)), cloned from \`$src\`"
      return 0
    fi
    rm -rf "$SUITE"
  done
  log "fetching the suite: npm pack http-cache-tests"
  mkdir -p "$WORK/npm"
  (cd "$WORK/npm" && timeout 120 npm pack --silent http-cache-tests >/dev/null && tar xzf http-cache-tests-*.tgz && mv package "$SUITE") ||
    die "could not obtain the suite from git or npm"
  SOURCE="npm package http-cache-tests@$(node -p "require('$SUITE/package.json').version")"
}
fetch_suite
log "suite: $SOURCE"
# The client's interim-response tests import undici; the engine needs nothing else at run time.
# Installed beside (not inside) the suite so its own package.json (with npm itself as a dependency) is left alone.
if [ -d "$SUITE/test-engine" ]; then DEPS=(undici@7); else DEPS=(node-fetch@2 liquidjs@9); fi
(cd "$WORK" && timeout 180 npm install --silent --no-audit --no-fund --no-save --prefix "$WORK" "${DEPS[@]}" >/dev/null) ||
  die "npm install ${DEPS[*]} failed"

# --- the suite's origin server --------------------------------------------------------------------
ORIGIN_PORT=$(free_port)
(cd "$SUITE" && exec env npm_config_port="$ORIGIN_PORT" npm_config_protocol=http npm_config_pidfile="$WORK/origin.pid" \
   node --import "$HERE/loopback.mjs" "$( [ -d test-engine ] && echo test-engine/server/server.mjs || echo server/server.mjs )") \
  > "$WORK/origin.log" 2>&1 &
PIDS+=($!)
wait_port "$ORIGIN_PORT" 20 "the suite's origin server"

run_suite() { # name base
  log "$1: running the suite against $2"
  local cli; cli=$( [ -d "$SUITE/test-engine" ] && echo test-engine/cli.mjs || echo cli.mjs )
  mkdir -p "$HERE/out"
  if ! (cd "$SUITE" && env -u npm_config_id npm_config_base="$2" npm_package_config_id= timeout 180 node --no-warnings "$cli") \
      > "$HERE/out/$1.json" 2> "$HERE/out/$1.stderr"; then
    log "$1: the client failed or timed out (see deploy/bench/cache-tests/out/$1.stderr)"
  fi
}
stop() { kill "$1" 2>/dev/null || true; wait "$1" 2>/dev/null || true; }

VERSIONS=()
for cache in "${CACHES[@]}"; do
  case "$cache" in
    sluice)
      java_major() { "$1/bin/java" -XshowSettings:properties -version 2>&1 | sed -n 's/^ *java.specification.version = //p'; }
      for dir in ${JAVA_HOME:-} /usr/lib/jvm/temurin-25-jdk-* /usr/lib/jvm/temurin-2[1-9]-jdk-* /usr/lib/jvm/java-2[1-9]-openjdk-*; do
        [ -x "$dir/bin/java" ] || continue
        major=$(java_major "$dir"); if [ -n "$major" ] && [ "$major" -ge 21 ] 2>/dev/null; then export JAVA_HOME="$dir"; break; fi
      done
      if [ ! -f proxy/target/sluice.jar ] || [ -n "$(find proxy/src pom.xml proxy/pom.xml -newer proxy/target/sluice.jar -print -quit)" ]; then
        ./sluice build
      fi
      SLUICE_PORT=$(free_port) ADMIN_PORT=$(free_port)
      fill "$HERE/sluice.yaml.in" "$WORK/sluice.yaml"
      "$JAVA_HOME/bin/java" -jar proxy/target/sluice.jar --config "$WORK/sluice.yaml" > "$WORK/sluice.log" 2>&1 &
      pid=$!; PIDS+=($pid)
      wait_port "$SLUICE_PORT" 60 sluice
      run_suite sluice "http://127.0.0.1:$SLUICE_PORT/origin"
      stop "$pid"
      VERSIONS+=("sluice:$(git rev-parse --short HEAD)$(git diff --quiet HEAD -- proxy || echo +changes)")
      ;;
    nginx)
      NGINX_PORT=$(free_port)
      mkdir -p "$WORK/tmp" "$WORK/nginx-cache"; chmod 777 "$WORK/tmp" "$WORK/nginx-cache"
      fill "$HERE/nginx.conf.in" "$WORK/nginx.conf"
      nginx -p "$WORK" -c "$WORK/nginx.conf" -e "$WORK/nginx-error.log" > "$WORK/nginx.log" 2>&1 &
      pid=$!; PIDS+=($pid)
      wait_port "$NGINX_PORT" 20 nginx
      run_suite nginx "http://127.0.0.1:$NGINX_PORT"
      stop "$pid"
      VERSIONS+=("nginx:$(nginx -v 2>&1 | sed 's|.*nginx/||')")
      ;;
    squid)
      SQUID_PORT=$(free_port)
      fill "$HERE/squid.conf.in" "$WORK/squid.conf"
      touch "$WORK/squid-access.log" "$WORK/squid-cache.log"; chmod 666 "$WORK"/squid-*.log; chmod 777 "$WORK"
      squid -N -f "$WORK/squid.conf" > "$WORK/squid.log" 2>&1 &
      pid=$!; PIDS+=($pid)
      wait_port "$SQUID_PORT" 30 squid
      run_suite squid "http://127.0.0.1:$SQUID_PORT"
      stop "$pid"
      VERSIONS+=("squid:$(squid -v | sed -n 's/^Squid Cache: Version //p')")
      ;;
    *) die "unknown cache $cache (sluice, nginx, squid)" ;;
  esac
done

node "$HERE/summarize.mjs" "$SUITE" "$HERE/out" "$HERE/RESULTS.md" "$COMMAND" "$SOURCE" "${VERSIONS[@]}"
log "wrote deploy/bench/cache-tests/RESULTS.md"
