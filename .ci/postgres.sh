#!/usr/bin/env bash
# Starts a throwaway PostgreSQL cluster on 127.0.0.1:${ESCALATOR_PG_PORT:-54329} (trust auth,
# data in /tmp) unless one already answers there, and prints its URL. Installs PostgreSQL
# from Debian when missing. Used by the test command and the benchmarks.
set -euo pipefail
port="${ESCALATOR_PG_PORT:-54329}"
data="${ESCALATOR_PG_DATA:-/tmp/escalator-pg-$port}"
url="postgres://postgres@127.0.0.1:$port/postgres"

pgbin="$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1 || true)"
if [ -z "$pgbin" ] || [ ! -x "$pgbin/initdb" ]; then
  echo "installing PostgreSQL..." >&2
  if [ "$(id -u)" -eq 0 ]; then SUDO=""; else SUDO="sudo"; fi
  $SUDO apt-get update -qq >&2
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq postgresql >&2
  pgbin="$(ls -d /usr/lib/postgresql/*/bin | sort -V | tail -n 1)"
fi

if "$pgbin/pg_isready" -q -h 127.0.0.1 -p "$port" 2>/dev/null; then
  echo "$url"
  exit 0
fi

run_as_pg() {
  if [ "$(id -u)" -eq 0 ]; then su postgres -s /bin/bash -c "$*"; else bash -c "$*"; fi
}

rm -rf "$data"
mkdir -p "$data"
[ "$(id -u)" -eq 0 ] && chown postgres:postgres "$data"
run_as_pg "'$pgbin/initdb' -D '$data' -A trust -U postgres >/dev/null"
# fsync off: a test cluster that is thrown away needs no durability (benchmarks turn it on).
run_as_pg "'$pgbin/pg_ctl' -D '$data' -l '$data/server.log' -w \
  -o \"-p $port -k /tmp -c listen_addresses=127.0.0.1 -c max_connections=200 ${ESCALATOR_PG_OPTIONS:--c fsync=off -c synchronous_commit=off}\" start >/dev/null"
echo "$url"
