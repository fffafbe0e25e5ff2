#!/usr/bin/env bash
# Builds the server binary and the Leptos site (target/site: the hydrating WASM, its JS
# glue, the stylesheet and the static assets) with plain cargo and wasm-bindgen.
#
#   ./scripts/build-site.sh [--release]
#
# It does what `cargo leptos build [--release]` does for this workspace, reading the same
# `[[workspace.metadata.leptos]]` settings, so both produce the same site and developers
# who have cargo-leptos keep `cargo leptos watch`. The scripts use this one because
# installing cargo-leptos compiles ~500 crates (11-29 minutes on 2 cores), the largest part
# of a first run on a fresh machine; wasm-bindgen-cli, which both need, takes ~2 minutes.
# Differences, on purpose: no JS or CSS minification in release builds (the stylesheet is
# 10 KB and the JS glue is small next to the WASM), no live reload.
# Needs the wasm32 target and wasm-bindgen-cli (scripts/tools.sh installs both), and for
# --release binaryen's wasm-opt from npm on PATH (Debian's wasm-opt 108 breaks hydration).
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

release=0
if [ "${1:-}" = "--release" ]; then
  release=1
fi

# One value of the workspace's cargo-leptos metadata (`key = "value"` lines).
leptos_setting() {
  local value
  value="$(sed -n '/^\[\[workspace\.metadata\.leptos\]\]/,/^\[/p' Cargo.toml |
    sed -n "s/^$1 *= *\"\\(.*\\)\"/\\1/p" | head -n 1)"
  if [ -z "$value" ]; then
    echo "build-site: $1 is missing from [[workspace.metadata.leptos]] in Cargo.toml" >&2
    exit 2
  fi
  printf '%s' "$value"
}
name="$(leptos_setting name)"
bin_package="$(leptos_setting bin-package)"
bin_target="$(leptos_setting bin-target)"
lib_package="$(leptos_setting lib-package)"
site_root="$(leptos_setting site-root)"
pkg_dir="$site_root/$(leptos_setting site-pkg-dir)"
style_file="$(leptos_setting style-file)"
assets_dir="$(leptos_setting assets-dir)"
lib_release_profile="$(leptos_setting lib-profile-release)"

# What cargo-leptos passes to both builds; the server also reads them when it starts.
export LEPTOS_OUTPUT_NAME="$name" LEPTOS_SITE_ROOT="$site_root"
export LEPTOS_SITE_PKG_DIR="$(leptos_setting site-pkg-dir)" LEPTOS_SITE_ADDR="$(leptos_setting site-addr)"
# The build needs no database: a DATABASE_URL meant for the server stays out of it.
unset DATABASE_URL

if [ "$release" -eq 1 ]; then
  bin_args=(--release)
  lib_args=(--profile "$lib_release_profile")
  lib_out="$lib_release_profile"
else
  bin_args=()
  lib_args=()
  lib_out=debug
fi

# The browser bundle builds in its own target directory (as cargo-leptos does): its
# `hydrate` features must not be merged into the server's build of the same crates.
echo "build-site: cargo build -p $lib_package (wasm32)" >&2
cargo build --package "$lib_package" --lib --target-dir target/front \
  --target wasm32-unknown-unknown --no-default-features "${lib_args[@]}"

echo "build-site: wasm-bindgen" >&2
mkdir -p "$pkg_dir"
wasm-bindgen --target=web --no-typescript --out-name="$name" --out-dir="$pkg_dir" \
  "target/front/wasm32-unknown-unknown/$lib_out/$lib_package.wasm"
# Leptos' hydration scripts load `<name>.wasm`, not wasm-bindgen's `<name>_bg.wasm`.
mv -f "$pkg_dir/${name}_bg.wasm" "$pkg_dir/$name.wasm"
if [ "$release" -eq 1 ]; then
  echo "build-site: wasm-opt -Oz" >&2
  wasm-opt -Oz --enable-bulk-memory --enable-nontrapping-float-to-int \
    "$pkg_dir/$name.wasm" -o "$pkg_dir/$name.wasm"
fi
cp "$style_file" "$pkg_dir/$name.css"
cp -r "$assets_dir"/. "$site_root"/

# The server exactly as `cargo build` and `cargo test` build it (the metadata disables
# erase_components), so all three share one build of every crate.
echo "build-site: cargo build -p $bin_package --bin $bin_target" >&2
cargo build --package "$bin_package" --bin "$bin_target" --no-default-features "${bin_args[@]}"

echo "build-site: built target/$([ "$release" -eq 1 ] && echo release || echo debug)/$bin_target and $site_root" >&2
