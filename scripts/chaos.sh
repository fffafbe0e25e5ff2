#!/usr/bin/env bash
# Chaos test (issue 15): 3 replicas of `escalator serve` on one PostgreSQL database,
# workflows created through the API while replicas are killed with SIGKILL (the tick
# holder on purpose) and the SMTP server goes down; then checks that nothing was lost,
# doubled or early, how late escalations were, and that SIGTERM stops every replica.
#   scripts/chaos.sh             the long profile (>= 3,000 workflows, >= 30 kills; ~10 min)
#   scripts/chaos.sh --short     the short profile (<= 3 min; run by scripts/test-all.sh)
#   scripts/chaos.sh --help      every flag (each number of a profile can be overridden)
# Runs the existing binary (target/debug/escalator, or $ESCALATOR_BIN, or --bin PATH); it
# does not build. Uses $ESCALATOR_TEST_PG_URL, else starts .ci/postgres.sh's cluster.
# Exit status: 0 all checks passed, 1 a check failed, 2 the harness could not run.
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/tools.sh
# The SMTP sink is Debian's aiosmtpd, importable by Debian's python3 only (not pyenv's).
apt_install python3-aiosmtpd postgresql-client
if [ -z "${ESCALATOR_TEST_PG_URL:-}" ]; then
  ESCALATOR_TEST_PG_URL="$(.ci/postgres.sh)"
  export ESCALATOR_TEST_PG_URL
fi
exec /usr/bin/python3 end2end/chaos/chaos.py "$@"
