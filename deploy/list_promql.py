#!/usr/bin/env python3
"""Print every PromQL expression of Escalator's rule files and Grafana dashboards.

One JSON object per line: {"source": "...", "expr": "..."}.

Grafana variables are replaced by concrete values so that every expression is
valid PromQL that a real Prometheus can evaluate:
  $__rate_interval, $__interval -> --interval (default 1m)
  $__range                      -> --range (default 1h); $__range_s / _ms too
  $job and other dashboard variables -> the variable's current (default) value
A Grafana `label_values(metric, label)` variable query becomes
`group by (label) (metric)`.

Usage:
  python3 deploy/list_promql.py                     # default files under deploy/
  python3 deploy/list_promql.py --interval 30s --range 6h
  python3 deploy/list_promql.py --rules r.yml --dashboard d.json

Exits non-zero if a Grafana variable is left unresolved or a file has no
expression at all.
"""

from __future__ import annotations

import argparse
import json
import re
import sys
from pathlib import Path

import yaml

DEPLOY = Path(__file__).resolve().parent
DEFAULT_RULES = [DEPLOY / "prometheus" / "rules.yml", DEPLOY / "prometheus" / "recording_rules.yml"]
DEFAULT_DASHBOARDS = sorted((DEPLOY / "grafana" / "dashboards").glob("*.json"))

# $name, ${name}, ${name:format}; PromQL's own "$1" in label_replace does not match.
VARIABLE = re.compile(r"\$\{([A-Za-z_]\w*)(?::[^}]*)?\}|\$([A-Za-z_]\w*)")
LABEL_VALUES = re.compile(r"^\s*label_values\(\s*(?:(?P<metric>.+?)\s*,\s*)?(?P<label>[A-Za-z_]\w*)\s*\)\s*$")


def duration_seconds(text: str) -> float:
    units = {"ms": 0.001, "s": 1, "m": 60, "h": 3600, "d": 86400, "w": 604800, "y": 31536000}
    total = 0.0
    pos = 0
    for match in re.finditer(r"(\d+)(ms|s|m|h|d|w|y)", text):
        if match.start() != pos:
            break
        total += int(match.group(1)) * units[match.group(2)]
        pos = match.end()
    if pos != len(text) or not text:
        raise argparse.ArgumentTypeError(f"not a Prometheus duration: {text!r}")
    return total


def duration(text: str) -> str:
    duration_seconds(text)
    return text


def rule_expressions(path: Path, label: str):
    doc = yaml.safe_load(path.read_text()) or {}
    for group in doc.get("groups") or []:
        for rule in group.get("rules") or []:
            if "alert" in rule:
                severity = (rule.get("labels") or {}).get("severity")
                name = f"alert {rule['alert']}" + (f" severity={severity}" if severity else "")
            else:
                name = f"record {rule['record']}"
            yield f"{label}: group {group['name']}: {name}", rule["expr"].strip()


def dashboard_variables(dashboard: dict) -> dict[str, str]:
    values = {}
    for var in (dashboard.get("templating") or {}).get("list") or []:
        current = (var.get("current") or {}).get("value")
        if isinstance(current, list):
            current = "|".join(current) if len(current) != 1 else current[0]
        if current in (None, "", "$__all"):
            options = var.get("options") or []
            current = options[0].get("value") if options else (var.get("query") if var.get("type") in ("constant", "textbox") else None)
        if isinstance(current, str):
            values[var["name"]] = current
    return values


def iter_panels(panels):
    for panel in panels or []:
        yield panel
        yield from iter_panels(panel.get("panels"))


def dashboard_expressions(path: Path, label: str):
    dashboard = json.loads(path.read_text())
    for panel in iter_panels(dashboard.get("panels")):
        for target in panel.get("targets") or []:
            expr = (target.get("expr") or "").strip()
            if expr and not target.get("hide"):
                title = panel.get("title", "")
                yield f"{label}: panel {panel.get('id')} {title!r} ref {target.get('refId')}", expr
    for annotation in (dashboard.get("annotations") or {}).get("list") or []:
        expr = (annotation.get("expr") or "").strip()
        if expr:
            yield f"{label}: annotation {annotation.get('name')!r}", expr
    for var in (dashboard.get("templating") or {}).get("list") or []:
        if var.get("type") != "query":
            continue
        query = var.get("query")
        if isinstance(query, dict):
            query = query.get("query")
        if not query:
            continue
        match = LABEL_VALUES.match(query)
        if match:
            metric = match.group("metric") or "{__name__=~\".+\"}"
            query = f"group by ({match.group('label')}) ({metric})"
        yield f"{label}: variable {var['name']!r}", query.strip()


def substitute(expr: str, variables: dict[str, str], interval: str, range_: str) -> str:
    range_s = duration_seconds(range_)
    builtins = {
        "__rate_interval": interval,
        "__interval": interval,
        "__interval_ms": str(int(duration_seconds(interval) * 1000)),
        "__range": range_,
        "__range_s": str(int(range_s)),
        "__range_ms": str(int(range_s * 1000)),
    }

    def replace(match: re.Match) -> str:
        name = match.group(1) or match.group(2)
        if name in builtins:
            return builtins[name]
        if name in variables:
            return variables[name]
        raise KeyError(name)

    return VARIABLE.sub(replace, expr)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rules", nargs="*", type=Path, default=DEFAULT_RULES, help="Prometheus rule files")
    parser.add_argument("--dashboard", nargs="*", type=Path, default=DEFAULT_DASHBOARDS, help="Grafana dashboard JSON files")
    parser.add_argument("--interval", type=duration, default="1m", help="value for $__interval and $__rate_interval")
    parser.add_argument("--range", dest="range_", type=duration, default="1h", help="value for $__range")
    args = parser.parse_args()

    errors = 0
    for path in args.rules:
        label = path.name
        found = False
        for source, expr in rule_expressions(path, label):
            found = True
            print(json.dumps({"source": source, "expr": expr}))
        if not found:
            print(f"list_promql: no expression in {path}", file=sys.stderr)
            errors += 1
    for path in args.dashboard:
        label = path.name
        variables = dashboard_variables(json.loads(path.read_text()))
        found = False
        for source, expr in dashboard_expressions(path, label):
            found = True
            try:
                expr = substitute(expr, variables, args.interval, args.range_)
            except KeyError as err:
                print(f"list_promql: {source}: unresolved variable ${err.args[0]}", file=sys.stderr)
                errors += 1
                continue
            print(json.dumps({"source": source, "expr": expr}))
        if not found:
            print(f"list_promql: no expression in {path}", file=sys.stderr)
            errors += 1
    return 1 if errors else 0


if __name__ == "__main__":
    sys.exit(main())
