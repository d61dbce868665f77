#!/bin/bash
# Container health check with no curl, wget or second JVM in the image: bash's /dev/tcp speaks
# just enough HTTP/1.0. Exits 0 only when GET <path> (default /readyz) on the admin port answers
# 200; a refused connection, a timeout, 503 "draining" or anything else exits 1.
#
#   healthcheck.sh [PATH]        admin port from SLUICE_ADMIN_PORT (default 7601)
set -u
port=${SLUICE_ADMIN_PORT:-7601}
path=${1:-/readyz}
exec 3<>"/dev/tcp/127.0.0.1/$port" 2>/dev/null || exit 1
printf 'GET %s HTTP/1.0\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n' "$path" >&3
IFS= read -r -t 5 status <&3 || exit 1
exec 3<&-
case "$status" in
    "HTTP/1."?" 200 "* | "HTTP/1."?" 200") exit 0 ;;
    *) exit 1 ;;
esac
