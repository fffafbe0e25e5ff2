#!/usr/bin/env bash
# Fuzzes the REST API of a debug build (overflow checks on) on SQLite and on PostgreSQL:
# the hand-made bad inputs of end2end/fuzz/cases.py, then schemathesis generating
# requests from the served OpenAPI document for a bounded time. Fails on any 5xx, dropped
# connection, response or status the document does not describe, request the document
# forbids but the server accepts, or a panic in the server's log.
#
#   .ci/fuzz.sh BIN [SECONDS_PER_BACKEND]     (default 75 s; the whole script ~3 min)
#
# Not checked: schemathesis' positive_data_acceptance. Requests valid by the document's
# shapes are still refused when they name things that do not exist (an unknown policy id,
# department or user) or break rules between fields (a warning longer than the target);
# the document cannot express those, and refusing them is right.
# Webhook URLs are limited to loopback (ESCALATOR_WEBHOOK_HOSTS), so nothing the fuzzer
# invents is ever called outside this machine.
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/tools.sh
apt_install postgresql-client curl
bin="$(realpath "${1:?usage: .ci/fuzz.sh BIN [SECONDS]}")"
seconds="${2:-75}"
SCHEMATHESIS=4.32.5
venv="$HOME/.cache/escalator-fuzz"
if ! "$venv/bin/st" --version 2>/dev/null | grep -q "$SCHEMATHESIS"; then
  echo "fuzz: installing schemathesis $SCHEMATHESIS into $venv"
  python3 -m venv "$venv"
  "$venv/bin/pip" install -q "schemathesis==$SCHEMATHESIS"
fi
: "${ESCALATOR_TEST_PG_URL:?set ESCALATOR_TEST_PG_URL (the test command starts .ci/postgres.sh)}"

work="$(mktemp -d /tmp/escalator-fuzz.XXXXXX)"
server=""
pgdb="fuzz_$$_$RANDOM"
cleanup() {
  [ -n "$server" ] && kill "$server" 2>/dev/null && wait "$server" 2>/dev/null || true
  psql "$ESCALATOR_TEST_PG_URL" -qc "DROP DATABASE IF EXISTS $pgdb WITH (FORCE)" >/dev/null 2>&1 || true
}
trap cleanup EXIT

free_port() { python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'; }

fuzz() {
  local backend="$1" url="$2" dir="$work/$1"
  mkdir -p "$dir"
  DATABASE_URL="$url" "$bin" demo >"$dir/demo.log" 2>&1
  # The demo has overdue workflows. Escalate them now, so that the server's deadline
  # watcher does not change the lists while the hand-made cases check that refused
  # requests changed nothing (the next demo deadline is then an hour away).
  DATABASE_URL="$url" "$bin" tick >>"$dir/demo.log" 2>&1
  local token port
  token="$(DATABASE_URL="$url" "$bin" token create --email admin@acme.example --name fuzz 2>/dev/null | tail -n 1)"
  port="$(free_port)"
  DATABASE_URL="$url" ESCALATOR_WEBHOOK_HOSTS=127.0.0.1 RUST_LOG=warn \
    "$bin" serve --listen "127.0.0.1:$port" >"$dir/server.log" 2>&1 &
  server=$!
  for _ in $(seq 1 100); do
    curl -sf "http://127.0.0.1:$port/readyz" >/dev/null 2>&1 && break
    sleep 0.2
  done
  echo "fuzz[$backend]: hand-made cases"
  python3 end2end/fuzz/cases.py "http://127.0.0.1:$port" "$token"
  echo "fuzz[$backend]: schemathesis for ${seconds} s"
  local status=0
  "$venv/bin/st" run "http://127.0.0.1:$port/api/v1/openapi.json" \
    --header "Authorization: Bearer $token" \
    --max-time "$seconds" --max-examples 50 --request-timeout 15 \
    --exclude-checks positive_data_acceptance \
    --no-color --output-truncate true --generation-database none \
    --report junit --report-junit-path "$dir/junit.xml" >"$dir/schemathesis.log" 2>&1 || status=$?
  sed -n '/= SUMMARY =/,$p' "$dir/schemathesis.log"
  if [ "$status" -ne 0 ]; then
    echo "fuzz[$backend]: schemathesis found failures (exit $status); the full log:" >&2
    cat "$dir/schemathesis.log" >&2
    exit 1
  fi
  if ! curl -sf "http://127.0.0.1:$port/healthz" >/dev/null; then
    echo "fuzz[$backend]: the server no longer answers" >&2
    cat "$dir/server.log" >&2
    exit 1
  fi
  if grep -n "panicked" "$dir/server.log"; then
    echo "fuzz[$backend]: the server panicked" >&2
    exit 1
  fi
  kill -TERM "$server"
  wait "$server" || { echo "fuzz[$backend]: the server did not stop cleanly" >&2; exit 1; }
  server=""
}

fuzz sqlite "sqlite:$work/fuzz.db"
psql "$ESCALATOR_TEST_PG_URL" -qc "CREATE DATABASE $pgdb" >/dev/null
fuzz postgres "${ESCALATOR_TEST_PG_URL%/*}/$pgdb"
echo "fuzz: both backends passed (logs in $work)"
