#!/usr/bin/env bash
# Installs the peers of benchmark scenario 9 (idempotent): graphile-worker from npm, Celery
# and psycopg into a venv here, Debian's redis-server. Versions are pinned in package.json
# and requirements.txt.
set -euo pipefail
cd "$(dirname "$0")"
if [ ! -d node_modules/graphile-worker ]; then
  npm install --no-audit --no-fund --loglevel=error >&2
fi
if [ ! -x .venv/bin/python ] || ! .venv/bin/python -c "import celery, psycopg, redis" 2>/dev/null; then
  python3 -m venv .venv
  .venv/bin/pip install -q -r requirements.txt >&2
fi
if ! command -v redis-server >/dev/null; then
  if [ "$(id -u)" -eq 0 ]; then SUDO=""; else SUDO="sudo"; fi
  $SUDO apt-get update -qq >&2
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq redis-server >&2
fi
