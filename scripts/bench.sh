#!/usr/bin/env bash
# Runs Escalator's benchmarks (issue 8) on SQLite and on a PostgreSQL cluster with default
# durability (fsync on, commit timestamps on for the peers' lateness; port 54330, separate
# from the test cluster) and prints a table. Builds the release runner, then the server
# while the runner generates the data sets; installs Debian's wrk and PostgreSQL when
# missing, and the peers of scenario 9 (bench/peers/install.sh) when it runs.
#   ./scripts/bench.sh [--only tick,growth,outbox,http,metrics,memory,ingest,reports,peers] [--runs 3]
#                      [--sizes 100000,1000000] [--due 10000] [--backends sqlite,postgres] …
#   ./scripts/bench.sh --help     every flag
# The table is also written to target/bench/results.md.
set -euo pipefail
cd "$(dirname "$0")/.."

start=$(date +%s)
release="${CARGO_TARGET_DIR:-target}/release"
mkdir -p target/bench
for arg in "$@"; do
  if [ "$arg" = "--help" ] || [ "$arg" = "-h" ]; then
    cargo build --release -q -p server -p bench --bin bench
    exec "$release/bench" --help
  fi
done

# PostgreSQL unless --backends leaves it out.
want_pg=1
args=("$@")
for i in "${!args[@]}"; do
  if [ "${args[$i]}" = "--backends" ] && [[ "${args[$((i + 1))]:-}" != *postgres* ]]; then want_pg=0; fi
done

# wrk, and a PostgreSQL cluster (installed from Debian when missing).
setup() {
  if ! command -v wrk >/dev/null; then
    echo "installing wrk..." >&2
    if [ "$(id -u)" -eq 0 ]; then SUDO=""; else SUDO="sudo"; fi
    $SUDO apt-get update -qq >&2
    DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq wrk >&2
  fi
  if [ "$want_pg" = 1 ]; then
    ESCALATOR_PG_PORT=54330 ESCALATOR_PG_OPTIONS="-c max_wal_size=1GB -c track_commit_timestamp=on" .ci/postgres.sh > target/bench/pg-url
  else
    : > target/bench/pg-url
  fi
}
# On a fresh machine that is a minute of apt, so it runs while the runner builds; unless
# sudo would ask for a password, which needs the terminal.
if [ "$(id -u)" -eq 0 ] || sudo -n true 2>/dev/null; then
  setup 2> target/bench/setup.log &
  setup_pid=$!
else
  setup
  setup_pid=""
fi

# The runner is built first: about two thirds of the dependencies. Selecting the server
# too makes cargo resolve the same features, so the server's build reuses every unit.
cargo build --release -q -p server -p bench --bin bench
echo "release build of the runner: $(( $(date +%s) - start )) s" >&2
if [ -n "$setup_pid" ]; then
  status=0
  wait "$setup_pid" || status=$?
  cat target/bench/setup.log >&2
  [ "$status" = 0 ] || exit "$status"
fi
if [ -s target/bench/pg-url ]; then
  ESCALATOR_BENCH_PG_URL="$(cat target/bench/pg-url)"
  export ESCALATOR_BENCH_PG_URL
fi
# The data sets are generated while the server builds (its serial stretches leave a core
# idle at times). Nothing is measured before both have ended.
"$release/bench" --prepare "$@" 2> target/bench/prepare.log &
prepare=$!
trap 'kill "$prepare" 2>/dev/null || true' EXIT
cargo build --release -q -p server -p bench
echo "release build: $(( $(date +%s) - start )) s" >&2
if ! wait "$prepare"; then
  cat target/bench/prepare.log >&2
  exit 1
fi
trap - EXIT
cat target/bench/prepare.log >&2
echo "build and data sets: $(( $(date +%s) - start )) s" >&2

"$release/bench" --server "$release/escalator" --reuse-data "$@" | tee target/bench/results.md
echo "total: $(( $(date +%s) - start )) s" >&2
