#!/usr/bin/env bash
# Runs every test of Escalator: formatting, clippy, unit/property/contract/integration
# tests on SQLite and PostgreSQL, the deployment checks (promtool, amtool, ...), and the
# end-to-end tests in headless Chromium. Installs what is missing and starts PostgreSQL.
#   ./scripts/test-all.sh
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/tools.sh

started=$(date +%s)
# Each step says when it starts, counted from the start: where a run's time goes.
step() { echo; echo "==> [$(($(date +%s) - started)) s] $*"; }

step "packages: the SMTP server of the e-mail tests, Prometheus tools"
apt_install python3-aiosmtpd prometheus prometheus-alertmanager curl

step "services: PostgreSQL"
ESCALATOR_TEST_PG_URL="$(.ci/postgres.sh)"
export ESCALATOR_TEST_PG_URL
echo "PostgreSQL at $ESCALATOR_TEST_PG_URL"

step "cargo fmt --check (and the storage roles, which the backends include rather than declare as modules)"
cargo fmt --all -- --check
rustfmt --edition 2021 --check storage/src/roles/*.rs

step "cargo clippy --all-targets -D warnings"
cargo clippy --workspace --all-targets -- -D warnings

step "cargo test (SQLite and PostgreSQL)"
# Without the hydrate crate: in one build cargo would merge the UI's `hydrate` and `ssr`
# features, and the server-rendered pages would then try to run browser effects.
cargo test --workspace --exclude frontend

step "deployment checks (deploy/check.sh)"
bash deploy/check.sh

step "end-to-end tests in headless Chromium (.ci/e2e.sh; builds the site and the binary with scripts/build-site.sh)"
bash .ci/e2e.sh

step "chaos test, short profile: 3 replicas on PostgreSQL, kill -9 (the tick holder too), SMTP down (scripts/chaos.sh --short)"
bash scripts/chaos.sh --short

step "fuzzing the REST API of the debug build on SQLite and PostgreSQL: hand-made bad inputs, schemathesis (.ci/fuzz.sh)"
bash .ci/fuzz.sh target/debug/escalator 75

step "OpenAPI document validation (.ci/openapi-check.sh)"
bash .ci/openapi-check.sh target/debug/escalator

step "metrics end to end: promtool check metrics, a real Prometheus, every PromQL expression (.ci/metrics-e2e.sh)"
bash .ci/metrics-e2e.sh target/debug/escalator

echo
echo "All test suites passed in $(($(date +%s) - started)) s."
