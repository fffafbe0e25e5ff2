#!/usr/bin/env bash
# Runs Escalator's benchmarks (issue 8) on SQLite and on a PostgreSQL cluster with default
# durability (fsync on; port 54330, separate from the test cluster) and prints a table.
# Builds the release server and runner first; installs Debian's wrk when missing.
#   ./scripts/bench.sh [--only tick,growth,outbox,http,metrics,memory,ingest] [--runs 3]
#                      [--sizes 100000,1000000] [--due 10000] [--backends sqlite,postgres] …
#   ./scripts/bench.sh --help     every flag
# The table is also written to target/bench/results.md.
set -euo pipefail
cd "$(dirname "$0")/.."

if ! command -v wrk >/dev/null; then
  echo "installing wrk..." >&2
  if [ "$(id -u)" -eq 0 ]; then SUDO=""; else SUDO="sudo"; fi
  $SUDO apt-get update -qq >&2
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq wrk >&2
fi

start=$(date +%s)
cargo build --release -q -p server -p bench
echo "release build: $(( $(date +%s) - start )) s" >&2
release="${CARGO_TARGET_DIR:-target}/release"

# PostgreSQL unless --backends leaves it out.
want_pg=1
args=("$@")
for i in "${!args[@]}"; do
  if [ "${args[$i]}" = "--backends" ] && [[ "${args[$((i + 1))]:-}" != *postgres* ]]; then want_pg=0; fi
done
if [ "$want_pg" = 1 ]; then
  ESCALATOR_BENCH_PG_URL="$(ESCALATOR_PG_PORT=54330 ESCALATOR_PG_OPTIONS="-c max_wal_size=1GB" .ci/postgres.sh)"
  export ESCALATOR_BENCH_PG_URL
fi

mkdir -p target/bench
"$release/bench" --server "$release/escalator" "$@" | tee target/bench/results.md
echo "total: $(( $(date +%s) - start )) s" >&2
