#!/usr/bin/env bash
# Installs the build tools Escalator needs when they are missing: the wasm32 target and
# wasm-bindgen-cli 0.2.130 (the version wasm-bindgen is pinned to). scripts/build-site.sh
# builds the site with them; cargo-leptos is not needed (developers may still use it).
# Sourced by run-demo.sh, test-all.sh and .ci/e2e.sh.
set -euo pipefail

# Tools that `cargo install` puts in place must be found in this very run.
export PATH="${CARGO_HOME:-$HOME/.cargo}/bin:$PATH"

ensure_build_tools() {
  if ! rustup target list --installed 2>/dev/null | grep -q '^wasm32-unknown-unknown$'; then
    echo "==> adding the wasm32-unknown-unknown target" >&2
    rustup target add wasm32-unknown-unknown >&2
  fi
  if ! wasm-bindgen --version 2>/dev/null | grep -q '0\.2\.130'; then
    echo "==> installing wasm-bindgen-cli 0.2.130" >&2
    # Without --locked: with it, a yanked transitive dependency fails the install.
    cargo install wasm-bindgen-cli --version 0.2.130 >&2
  fi
}

apt_install() {
  local missing=()
  for pkg in "$@"; do
    dpkg -s "$pkg" >/dev/null 2>&1 || missing+=("$pkg")
  done
  [ ${#missing[@]} -eq 0 ] && return 0
  echo "==> installing ${missing[*]}" >&2
  local sudo=""
  [ "$(id -u)" -eq 0 ] || sudo="sudo"
  $sudo apt-get update -qq >&2
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq "${missing[@]}" >&2
}
