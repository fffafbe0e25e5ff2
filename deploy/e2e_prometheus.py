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


METRIC = re.compile(r"[a-zA-Z_:][a-zA-Z0-9_:]*")


def problem(base, source, expr):
    """Why an expression fails the check, or None."""
    answer = query(base, expr)
    if answer.get("status") != "success":
        return f"invalid: {answer.get('error')}"
    # ALERTS has series only while an alert fires: being valid is all it can show here.
    if "ALERTS" in expr:
        return None
    if source.startswith("escalator.json"):
        return None if answer["data"]["result"] else "no data"
    # A rule's comparison is false when nothing is wrong: check that what it selects exists.
    names = {n for n in METRIC.findall(expr) if n.startswith(("workflow_", "escalator_", "http_", "process_")) or n == "up"}
    for name in sorted(names):
        data = query(base, f'count({{__name__="{name}", job="escalator"}})')
        if data.get("status") != "success" or not data["data"]["result"]:
            return f"metric {name} has no data"
    return None


def main():
    base = sys.argv[1].rstrip("/")
    listed = subprocess.run([sys.executable, f"{here}/list_promql.py"], check=True, capture_output=True, text=True)
    exprs = [json.loads(line) for line in listed.stdout.splitlines() if line.strip()]
    failures = []
    for item in exprs:
        why = problem(base, item["source"], item["expr"])
        if why:
            failures.append(f"{item['source']}: {why}\n    {item['expr']}")
    for f in failures:
        print("FAIL", f)
    print(f"{len(exprs) - len(failures)} passed, {len(failures)} failed")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
