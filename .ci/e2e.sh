#!/usr/bin/env bash
# End-to-end tests of the UI in a real headless Chromium.
#
#   .ci/e2e.sh [--release] [PLAYWRIGHT ARGS...]
#
# Runs from the repository root (wherever it is called from). Installs what is missing
# (Debian's chromium, the wasm32 target, wasm-bindgen-cli 0.2.130, end2end's npm
# packages), builds the binary and the site with scripts/build-site.sh (what
# `cargo leptos build` does; dev, or `--release` with wasm-opt from npm's binaryen), loads
# the demo data into a fresh SQLite database, starts a real SMTP server (aiosmtpd, into a
# maildir the specs read) and `escalator serve` on a free port, runs Playwright against it
# and exits with Playwright's status. The server is always stopped. Build output goes to
# target/e2e/build.log (shown on failure, or always with E2E_VERBOSE=1); the server's log
# is copied to end2end/test-results/server.log.
set -euo pipefail

release=0
if [ "${1:-}" = "--release" ]; then
  release=1
  shift
fi

cd "$(dirname "${BASH_SOURCE[0]}")/.."
root="$(pwd)"
source scripts/tools.sh
export PATH="$root/end2end/node_modules/.bin:$PATH"

say() { echo "e2e: $*"; }
elapsed() { echo "$(($(date +%s) - $1)) s"; }

# --- tools ---------------------------------------------------------------------------
chromium="${ESCALATOR_E2E_CHROMIUM:-/usr/bin/chromium}"
if [ ! -x "$chromium" ]; then
  say "installing Debian's chromium"
  apt_install chromium
fi
for tool in curl python3; do
  command -v "$tool" >/dev/null || { say "installing $tool"; apt_install "$tool"; }
done
# A real SMTP server receives the demo's mails, whose one-click links the specs follow.
if ! /usr/bin/python3 -c 'import aiosmtpd' 2>/dev/null; then
  say "installing python3-aiosmtpd"
  apt_install python3-aiosmtpd
fi
if ! command -v node >/dev/null || [ "$(node -p 'process.versions.node.split(".")[0]')" -lt 20 ]; then
  echo "e2e: Node.js 20 or later is needed (found: $(node --version 2>/dev/null || echo none))" >&2
  exit 2
fi

ensure_build_tools

# Playwright (driving Debian's chromium, never a downloaded browser) and binaryen's
# wasm-opt. Reinstalled only when the lock file changed.
if ! cmp -s end2end/package-lock.json end2end/node_modules/.e2e-installed-lock 2>/dev/null; then
  say "installing end2end's npm packages"
  (cd end2end && PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD=1 npm ci --no-audit --no-fund --loglevel=error >/dev/null)
  cp end2end/package-lock.json end2end/node_modules/.e2e-installed-lock
fi

# --- build ---------------------------------------------------------------------------
mkdir -p target/e2e
build_log="$root/target/e2e/build.log"
if [ "$release" -eq 1 ]; then
  profile=release
  build_args=(--release)
else
  profile=debug
  build_args=()
fi
say "scripts/build-site.sh${build_args[*]:+ ${build_args[*]}} (log: target/e2e/build.log)"
start=$(date +%s)
if [ "${E2E_VERBOSE:-0}" = "1" ]; then
  scripts/build-site.sh "${build_args[@]}" 2>&1 | tee "$build_log"
  build_status=${PIPESTATUS[0]}
else
  build_status=0
  scripts/build-site.sh "${build_args[@]}" >"$build_log" 2>&1 || build_status=$?
fi
if [ "$build_status" -ne 0 ]; then
  tail -n 80 "$build_log" >&2
  echo "e2e: the build failed (status $build_status)" >&2
  exit "$build_status"
fi
bin="$root/target/$profile/escalator"
site="$root/target/site"
wasm_bytes=$(stat -c %s "$site/pkg/escalator.wasm")
say "built in $(elapsed "$start"): $bin, $site/pkg (wasm $((wasm_bytes / 1024)) KiB)"

# --- server --------------------------------------------------------------------------
tmp="$(mktemp -d -t escalator-e2e.XXXXXX)"
server_pid=""
server_log="$tmp/server.log"
smtp_pid=""
cleanup() {
  if [ -n "$smtp_pid" ]; then
    kill -TERM "$smtp_pid" 2>/dev/null || true
    wait "$smtp_pid" 2>/dev/null || true
  fi
  if [ -n "$server_pid" ] && kill -0 "$server_pid" 2>/dev/null; then
    kill -TERM "$server_pid" 2>/dev/null || true
    for _ in $(seq 1 50); do
      kill -0 "$server_pid" 2>/dev/null || break
      sleep 0.2
    done
    kill -KILL "$server_pid" 2>/dev/null || true
    wait "$server_pid" 2>/dev/null || true
  fi
  if [ -f "$server_log" ]; then
    mkdir -p "$root/end2end/test-results"
    cp "$server_log" "$root/end2end/test-results/server.log" 2>/dev/null || true
  fi
  rm -rf "$tmp"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

port="$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')"
url="http://127.0.0.1:$port"
export DATABASE_URL="sqlite:$tmp/escalator.db"
export LEPTOS_SITE_ROOT="$site"
export ESCALATOR_LOG_FORMAT=text
export RUST_LOG="${RUST_LOG:-info}"
export ESCALATOR_PUBLIC_URL="$url"
# One delivery attempt: a message that fails is a dead letter at once, for the
# integrations spec to send again and discard (mail to the SMTP sink succeeds first time).
export ESCALATOR_OUTBOX_MAX_ATTEMPTS=1

smtp_port="$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')"
maildir="$tmp/maildir"
/usr/bin/python3 -m aiosmtpd -n -l "127.0.0.1:$smtp_port" -c aiosmtpd.handlers.Mailbox "$maildir" \
  >"$tmp/smtp.log" 2>&1 &
smtp_pid=$!
for _ in $(seq 1 100); do
  python3 -c "import socket; socket.create_connection(('127.0.0.1', $smtp_port), 1)" 2>/dev/null && break
  sleep 0.1
done
export ESCALATOR_SMTP_HOST=127.0.0.1
export ESCALATOR_SMTP_PORT="$smtp_port"
export ESCALATOR_SMTP_SECURITY=none

"$bin" demo >"$tmp/demo.log" 2>&1 || {
  cat "$tmp/demo.log" >&2
  echo "e2e: escalator demo failed" >&2
  exit 1
}
say "$(tail -n 1 "$tmp/demo.log")"
# One tick, so the demo has reminders and escalations to show.
"$bin" tick >>"$tmp/demo.log" 2>&1 || {
  cat "$tmp/demo.log" >&2
  echo "e2e: escalator tick failed" >&2
  exit 1
}

"$bin" serve --listen "127.0.0.1:$port" >"$server_log" 2>&1 &
server_pid=$!

ready=0
for _ in $(seq 1 240); do
  if ! kill -0 "$server_pid" 2>/dev/null; then
    cat "$server_log" >&2
    echo "e2e: the server exited before it was ready" >&2
    exit 1
  fi
  if curl -fsS -o /dev/null --max-time 2 "$url/healthz" 2>/dev/null; then
    ready=1
    break
  fi
  sleep 0.25
done
if [ "$ready" -ne 1 ]; then
  tail -n 50 "$server_log" >&2
  echo "e2e: $url/healthz did not answer within 60 s" >&2
  exit 1
fi
say "server ready on $url (pid $server_pid)"

# --- tests ---------------------------------------------------------------------------
status=0
(cd end2end && ESCALATOR_E2E_URL="$url" ESCALATOR_E2E_CHROMIUM="$chromium" ESCALATOR_E2E_MAILDIR="$maildir" \
  npx --no-install playwright test "$@") || status=$?
if [ "$status" -ne 0 ]; then
  echo "e2e: playwright failed (status $status); server log: end2end/test-results/server.log" >&2
fi
exit "$status"
