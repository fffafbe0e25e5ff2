#!/usr/bin/env python3
"""End-to-end check of the dashboard and the rules against a real Prometheus.

Asks a running Prometheus (which scrapes a running Escalator) to evaluate every PromQL
expression of deploy/ (rules and Grafana dashboard, as listed by list_promql.py):
each must be valid; dashboard expressions must return data; for rule expressions (whose
comparison is false when nothing is wrong) every metric they select must have data.

Usage: e2e_prometheus.py PROMETHEUS_URL
"""
import json
import re
import subprocess
import sys
import urllib.parse
import urllib.request

here = __file__.rsplit("/", 1)[0]


def query(base, expr):
    url = f"{base}/api/v1/query?" + urllib.parse.urlencode({"query": expr})
    try:
        with urllib.request.urlopen(url, timeout=10) as r:
            return json.load(r)
    except urllib.error.HTTPError as e:
        return json.load(e)


def main():
    base = sys.argv[1].rstrip("/")
    listed = subprocess.run([sys.executable, f"{here}/list_promql.py"], check=True, capture_output=True, text=True)
    exprs = [json.loads(line) for line in listed.stdout.splitlines() if line.strip()]
    failures, passed = [], 0
    for item in exprs:
        expr, source = item["expr"], item["source"]
        answer = query(base, expr)
        if answer.get("status") != "success":
            failures.append(f"{source}: invalid: {answer.get('error')}\n    {expr}")
            continue
        # ALERTS has series only while an alert fires: being valid is all it can show here.
        if "ALERTS" in expr:
            passed += 1
            continue
        if "dashboard" in source or source.startswith("escalator.json"):
            if not answer["data"]["result"]:
                failures.append(f"{source}: no data\n    {expr}")
                continue
        else:
            names = {n for n in re.findall(r"[a-zA-Z_:][a-zA-Z0-9_:]*", expr)
                     if n.startswith(("workflow_", "escalator_", "http_", "process_")) or n == "up"}
            for name in sorted(names):
                data = query(base, f'count({{__name__="{name}", job="escalator"}})')
                if data.get("status") != "success" or not data["data"]["result"]:
                    failures.append(f"{source}: metric {name} has no data\n    {expr}")
                    break
            else:
                passed += 1
                continue
            continue
        passed += 1
    for f in failures:
        print("FAIL", f)
    print(f"{passed} passed, {len(failures)} failed")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
