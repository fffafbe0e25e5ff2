#!/usr/bin/env bash
# Runs Escalator's benchmarks on SQLite and on a PostgreSQL cluster with default
# durability (fsync on; port 54330, separate from the test cluster) and prints a table.
#   ./scripts/bench.sh [--rows N] [--runs R]
set -euo pipefail
cd "$(dirname "$0")/.."
url="$(ESCALATOR_PG_PORT=54330 ESCALATOR_PG_OPTIONS="-c max_wal_size=1GB" .ci/postgres.sh)"
ESCALATOR_BENCH_PG_URL="$url" cargo run --release -q -p bench -- "$@"
