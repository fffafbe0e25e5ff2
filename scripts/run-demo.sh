#!/usr/bin/env bash
# Builds Escalator, loads demo data into a SQLite file and serves the UI and API.
#   ./scripts/run-demo.sh            (then open the printed URL)
# Environment: ESCALATOR_LISTEN (default 127.0.0.1:3000), DATABASE_URL (default
# sqlite:target/demo.db).
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/tools.sh
ensure_build_tools

echo "==> building the server and the site (scripts/build-site.sh)" >&2
./scripts/build-site.sh

export DATABASE_URL="${DATABASE_URL:-sqlite:target/demo.db}"
export LEPTOS_SITE_ROOT="${LEPTOS_SITE_ROOT:-target/site}"
listen="${ESCALATOR_LISTEN:-127.0.0.1:3000}"
./target/debug/escalator demo
echo
echo "Escalator is starting on http://$listen  (API: http://$listen/api/v1/openapi.json; Ctrl-C stops it)"
echo "Sign in as admin@acme.example or dana.head@acme.example (department head), password: escalator-demo"
echo
exec ./target/debug/escalator serve --listen "$listen"
