#!/usr/bin/env bash
# Metrics end to end: a running Escalator (demo data, a tick every 2 s) is scraped by
# `promtool check metrics`, then by a real Prometheus every second; every PromQL
# expression of the dashboard and the rules is evaluated through Prometheus' HTTP API.
#   .ci/metrics-e2e.sh [path/to/escalator]
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/tools.sh
apt_install prometheus curl
bin="${1:-target/debug/escalator}"
work="$(mktemp -d)"
pids=()
cleanup() { for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done; wait 2>/dev/null || true; rm -rf "$work"; }
trap cleanup EXIT

free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
app_port="$(free_port)"; prom_port="$(free_port)"

export DATABASE_URL="sqlite:$work/escalator.db"
export ESCALATOR_TICK_SCHEDULE="*/2 * * * * *" ESCALATOR_TICK_INTERVAL_SECONDS=2
"$bin" demo >/dev/null
"$bin" serve --listen "127.0.0.1:$app_port" >"$work/escalator.log" 2>&1 &
pids+=($!)
for _ in $(seq 1 50); do curl -fs "http://127.0.0.1:$app_port/healthz" >/dev/null && break; sleep 0.2; done
sleep 3 # a tick or two, so counters and histograms have samples

echo "--- promtool check metrics on a real scrape"
for path in /metrics /api/v1/metrics/prometheus; do
  curl -fs "http://127.0.0.1:$app_port$path" | promtool check metrics
done
echo "ok: both metrics paths pass promtool check metrics"

cat >"$work/prometheus.yml" <<YAML
global:
  scrape_interval: 1s
  evaluation_interval: 1s
rule_files:
  - $PWD/deploy/prometheus/rules.yml
  - $PWD/deploy/prometheus/recording_rules.yml
scrape_configs:
  - job_name: escalator
    static_configs:
      - targets: ["127.0.0.1:$app_port"]
YAML
prometheus --config.file="$work/prometheus.yml" --storage.tsdb.path="$work/tsdb" \
  --web.listen-address="127.0.0.1:$prom_port" >"$work/prometheus.log" 2>&1 &
pids+=($!)
for _ in $(seq 1 50); do curl -fs "http://127.0.0.1:$prom_port/-/ready" >/dev/null && break; sleep 0.2; done
echo "--- Prometheus scraping every second for 20 s"
sleep 20
python3 deploy/e2e_prometheus.py "http://127.0.0.1:$prom_port"
