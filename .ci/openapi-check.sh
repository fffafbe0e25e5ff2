#!/usr/bin/env bash
# Validates the OpenAPI document the server binary prints (`escalator openapi`) against the
# OpenAPI specification with openapi-spec-validator. Builds nothing: pass the built binary.
#
#   .ci/openapi-check.sh [path/to/escalator]     (default: target/debug/escalator)
#
# The validator lives in a virtualenv at ~/.cache/escalator-openapi-venv (override with
# ESCALATOR_OPENAPI_VENV), created on first use and reused while its pinned version matches.
set -euo pipefail

bin="${1:-target/debug/escalator}"
validator_version="0.9.0"
venv="${ESCALATOR_OPENAPI_VENV:-$HOME/.cache/escalator-openapi-venv}"

if [ ! -x "$bin" ]; then
  echo "openapi-check: no executable at $bin (build it first, e.g. cargo build -p server)" >&2
  exit 2
fi

tmp="$(mktemp -d)"
trap 'rm -rf "$tmp"' EXIT
doc="$tmp/openapi.json"
"$bin" openapi >"$doc"

installed() {
  [ -x "$venv/bin/python" ] &&
    "$venv/bin/python" - "$validator_version" <<'EOF' 2>/dev/null
import importlib.metadata, sys
sys.exit(importlib.metadata.version("openapi-spec-validator") != sys.argv[1])
EOF
}

if ! installed; then
  echo "openapi-check: installing openapi-spec-validator $validator_version into $venv" >&2
  python3 -m venv "$venv"
  "$venv/bin/python" -m pip install --quiet --disable-pip-version-check \
    "openapi-spec-validator==$validator_version" >&2
fi

"$venv/bin/python" - "$doc" "$bin" <<'EOF'
import json
import sys

from openapi_spec_validator import validate
from openapi_spec_validator.validation.exceptions import OpenAPIValidationError

path, binary = sys.argv[1], sys.argv[2]
try:
    with open(path, encoding="utf-8") as f:
        spec = json.load(f)
except (OSError, ValueError) as err:
    print(f"openapi-check: FAILED: `{binary} openapi` did not print JSON: {err}")
    sys.exit(1)
try:
    validate(spec)
except OpenAPIValidationError as err:
    where = "/".join(str(p) for p in getattr(err, "path", [])) or "(document)"
    print(f"openapi-check: FAILED at {where}: {err.message if hasattr(err, 'message') else err}")
    sys.exit(1)
operations = sum(
    1
    for item in spec.get("paths", {}).values()
    for method in item
    if method in {"get", "put", "post", "delete", "options", "head", "patch", "trace"}
)
print(
    f"openapi-check: OK: OpenAPI {spec.get('openapi')} document of {binary} is valid "
    f"({len(spec.get('paths', {}))} paths, {operations} operations, "
    f"{len(spec.get('components', {}).get('schemas', {}))} schemas)"
)
EOF
