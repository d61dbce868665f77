#!/usr/bin/env bash
# Sluice bounded soak, one command:  deploy/soak/run.sh [--minutes N] [--workers W]   (default 10 min, 16 clients)
# Needs python3 (stdlib only; python3-matplotlib adds a PNG) and a JDK 21+ (for java and jcmd).
# Everything on loopback; Sluice and the origins stop when the run ends. Output: deploy/soak/out/.
set -euo pipefail
cd "$(dirname "$0")/../.."

java_major() { "$1/bin/java" -XshowSettings:properties -version 2>&1 | sed -n 's/^ *java.specification.version = //p'; }
for dir in ${JAVA_HOME:-} /usr/lib/jvm/temurin-25-jdk-* /usr/lib/jvm/temurin-2[1-9]-jdk-* /usr/lib/jvm/java-2[1-9]-openjdk-* /usr/lib/jvm/*; do
  [ -x "$dir/bin/java" ] && [ -x "$dir/bin/jcmd" ] || continue
  major=$(java_major "$dir")
  if [ -n "$major" ] && [ "$major" -ge 21 ] 2>/dev/null; then export JAVA_HOME="$dir"; break; fi
done
[ -n "${JAVA_HOME:-}" ] || { echo "soak: no JDK 21 or newer found" >&2; exit 1; }
export SOAK_JAVA="$JAVA_HOME/bin/java"

if [ -z "${SOAK_JAR:-}" ]; then
  if [ ! -f proxy/target/sluice.jar ] || [ -n "$(find proxy/src pom.xml proxy/pom.xml -newer proxy/target/sluice.jar -print -quit)" ]; then
    ./sluice build
  fi
  export SOAK_JAR="$PWD/proxy/target/sluice.jar"
fi

exec python3 deploy/soak/soak.py "$@"
