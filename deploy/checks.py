#!/usr/bin/env python3
"""Static checks of deploy/ that no installed tool covers; run by deploy/check.sh.

Subcommands (each exits non-zero with a message per problem):
  grafana DASHBOARD.json...     structure of Grafana dashboards
  thresholds DASHBOARD RULES    alert thresholds drawn on the dashboard panels
  promql-rules OUT.yml          turn `list_promql.py` output (stdin) into a rule
                                file so `promtool check rules` parses every expr
  prom-sd-fallback CONFIG OUTDIR
                                for a promtool built without Kubernetes SD
                                (Debian's): check kubernetes_sd_configs here and
                                write a copy with static_configs for promtool
  scrape-sim CONFIG DEPLOYMENT  apply the escalator job's relabel rules to the
                                Deployment's pod template: it must be scraped on
                                the container port and path it serves metrics on
  kustomization KUSTOMIZATION   every resource exists, every manifest is listed
  dockerfile DOCKERFILE         multi-stage, non-root USER, no :latest, no ADD URL
"""

from __future__ import annotations

import json
import re
import shutil
import sys
from pathlib import Path

import yaml

problems: list[str] = []


def problem(message: str) -> None:
    problems.append(message)
    print(f"  FAIL: {message}", file=sys.stderr)


def finish(what: str) -> int:
    if problems:
        print(f"{what}: {len(problems)} problem(s)", file=sys.stderr)
        return 1
    print(f"{what}: OK")
    return 0


# ---------------------------------------------------------------- Grafana

def iter_panels(panels):
    for panel in panels or []:
        yield panel
        yield from iter_panels(panel.get("panels"))


def check_grafana(paths: list[str]) -> int:
    for path in paths:
        try:
            dashboard = json.loads(Path(path).read_text())
        except json.JSONDecodeError as err:
            problem(f"{path}: invalid JSON: {err}")
            continue
        for key in ("title", "uid", "panels", "schemaVersion"):
            if key not in dashboard:
                problem(f"{path}: missing top-level {key!r}")
        if dashboard.get("id") is not None:
            problem(f"{path}: 'id' must be null in a provisioned dashboard")
        if not isinstance(dashboard.get("schemaVersion"), int) or dashboard["schemaVersion"] < 36:
            problem(f"{path}: schemaVersion {dashboard.get('schemaVersion')!r} is too old (want >= 36)")
        variables = {v.get("name") for v in (dashboard.get("templating") or {}).get("list") or []}
        ids: dict[int, str] = {}
        cells: dict[tuple[int, int], str] = {}
        for panel in iter_panels(dashboard.get("panels")):
            title = panel.get("title") or "<untitled>"
            where = f"{path}: panel {panel.get('id')} {title!r}"
            pid = panel.get("id")
            if not isinstance(pid, int):
                problem(f"{where}: missing integer id")
            elif pid in ids:
                problem(f"{where}: id also used by {ids[pid]!r}")
            else:
                ids[pid] = title
            grid = panel.get("gridPos") or {}
            if not all(isinstance(grid.get(k), int) for k in ("x", "y", "w", "h")):
                problem(f"{where}: gridPos needs integer x, y, w, h")
            elif grid["x"] < 0 or grid["x"] + grid["w"] > 24:
                problem(f"{where}: gridPos exceeds the 24-column grid")
            else:
                for x in range(grid["x"], grid["x"] + grid["w"]):
                    for y in range(grid["y"], grid["y"] + grid["h"]):
                        if (x, y) in cells:
                            problem(f"{where}: overlaps panel {cells[(x, y)]!r}")
                            break
                        cells[(x, y)] = title
                    else:
                        continue
                    break
            if panel.get("type") == "row":
                continue
            if not panel.get("datasource"):
                problem(f"{where}: no datasource")
            targets = panel.get("targets") or []
            if not targets:
                problem(f"{where}: no targets")
            ref_ids = set()
            for target in targets:
                ref = target.get("refId")
                if not ref or ref in ref_ids:
                    problem(f"{where}: missing or duplicate refId {ref!r}")
                ref_ids.add(ref)
                if not (target.get("expr") or "").strip():
                    problem(f"{where} ref {ref}: empty expr")
                if not target.get("datasource"):
                    problem(f"{where} ref {ref}: no datasource")
            for ds in [panel.get("datasource")] + [t.get("datasource") for t in targets]:
                uid = (ds or {}).get("uid", "") if isinstance(ds, dict) else str(ds)
                for name in re.findall(r"\$\{?(\w+)", uid or ""):
                    if name not in variables and not name.startswith("DS_"):
                        problem(f"{where}: datasource refers to unknown variable ${name}")
    return finish("grafana dashboards")


# ---------------------------------------------------------------- thresholds

# Dashboard panel title -> (alert name, threshold drawn on the panel).
EXPECTED_THRESHOLDS = {
    "SLA breach rate": ("HighSLABreachRate", [0.1]),
    "Tick processing time": ("SlowEscalationJob", [30]),
    "Reminder and escalation lateness": ("EscalationsLate", [60]),
    "Escalation failures": ("EscalationJobFailing", [3]),
    "Oldest pending outbox row": ("OutboxStuck", [900, 3600]),
    "Dead letters": ("NotificationsDeadLettered", [1]),
}


def check_thresholds(dashboard_path: str, rules_path: str) -> int:
    dashboard = json.loads(Path(dashboard_path).read_text())
    rules = yaml.safe_load(Path(rules_path).read_text())
    alert_exprs: dict[str, list[str]] = {}
    for group in rules["groups"]:
        for rule in group["rules"]:
            if "alert" in rule:
                alert_exprs.setdefault(rule["alert"], []).append(rule["expr"])
    panels = {p.get("title"): p for p in iter_panels(dashboard["panels"])}
    for title, (alert, values) in EXPECTED_THRESHOLDS.items():
        panel = panels.get(title)
        if panel is None:
            problem(f"dashboard has no panel {title!r}")
            continue
        defaults = panel["fieldConfig"]["defaults"]
        mode = defaults.get("custom", {}).get("thresholdsStyle", {}).get("mode", "off")
        if mode == "off":
            problem(f"panel {title!r}: thresholds are not drawn (thresholdsStyle.mode is off)")
        drawn = [s["value"] for s in defaults.get("thresholds", {}).get("steps", []) if s.get("value") is not None]
        if drawn != values:
            problem(f"panel {title!r}: thresholds {drawn} != {values}")
        exprs = alert_exprs.get(alert)
        if not exprs:
            problem(f"panel {title!r}: alert {alert} not in {rules_path}")
            continue
        for value in values:
            # Gauge alerts compare with "> 0", the panel draws the first bad value, 1.
            wanted = 0 if alert == "NotificationsDeadLettered" else value
            if not any(re.search(rf">\s*{re.escape(str(wanted))}\b", e) for e in exprs):
                problem(f"panel {title!r}: threshold {value} does not match alert {alert}")
    return finish("dashboard thresholds vs alert rules")


# ---------------------------------------------------------------- PromQL -> rules

def promql_rules(out_path: str) -> int:
    rules = []
    for i, line in enumerate(sys.stdin):
        item = json.loads(line)
        rules.append({"record": f"check:expr_{i}", "expr": item["expr"]})
        print(f"  expr_{i}: {item['source']}")
    if not rules:
        problem("no expression on stdin")
    Path(out_path).write_text(yaml.safe_dump({"groups": [{"name": "parse-check", "rules": rules}]}, sort_keys=False))
    return finish(f"{len(rules)} expressions written to {out_path}")


# ---------------------------------------------------------------- Prometheus kubernetes_sd_configs

K8S_SD_KEYS = {"role", "api_server", "kubeconfig_file", "namespaces", "selectors", "attach_metadata",
               "basic_auth", "authorization", "oauth2", "tls_config", "proxy_url", "no_proxy",
               "proxy_from_environment", "proxy_connect_header", "follow_redirects", "enable_http2",
               "bearer_token", "bearer_token_file"}
K8S_ROLES = {"node", "service", "pod", "endpoints", "endpointslice", "ingress"}


def prom_sd_fallback(config_path: str, out_dir: str) -> int:
    src = Path(config_path)
    out = Path(out_dir)
    config = yaml.safe_load(src.read_text())
    for job in config.get("scrape_configs") or []:
        sds = job.pop("kubernetes_sd_configs", None)
        if sds is None:
            continue
        where = f"job {job.get('job_name')}: kubernetes_sd_configs"
        if not isinstance(sds, list) or not sds:
            problem(f"{where}: must be a non-empty list")
            continue
        for sd in sds:
            unknown = set(sd) - K8S_SD_KEYS
            if unknown:
                problem(f"{where}: unknown keys {sorted(unknown)}")
            if sd.get("role") not in K8S_ROLES:
                problem(f"{where}: role {sd.get('role')!r} not one of {sorted(K8S_ROLES)}")
            namespaces = sd.get("namespaces") or {}
            if set(namespaces) - {"names", "own_namespace"}:
                problem(f"{where}: unknown namespaces keys {sorted(set(namespaces) - {'names', 'own_namespace'})}")
            names = namespaces.get("names", [])
            if not isinstance(names, list) or not all(isinstance(n, str) and n for n in names):
                problem(f"{where}: namespaces.names must be a list of names")
            role = sd.get("role")
            for rule in job.get("relabel_configs") or []:
                for label in rule.get("source_labels") or []:
                    m = re.match(r"__meta_kubernetes_(pod|service|node|endpoints|endpointslice|ingress)_", label)
                    if m and role == "pod" and m.group(1) != "pod":
                        problem(f"{where}: role pod has no label {label}")
        # Same relabelling, static target: promtool still checks all the rest.
        job["static_configs"] = [{"targets": ["escalator.invalid:3000"]}]
    out.mkdir(parents=True, exist_ok=True)
    for rule_file in config.get("rule_files") or []:
        target = out / rule_file
        target.parent.mkdir(parents=True, exist_ok=True)
        for match in sorted(src.parent.glob(rule_file)):
            shutil.copy(match, target.parent / match.name)
    (out / src.name).write_text(yaml.safe_dump(config, sort_keys=False))
    return finish(f"kubernetes_sd_configs of {config_path} (copy with static targets in {out / src.name})")


# ---------------------------------------------------------------- relabel simulation

def sanitize(name: str) -> str:
    return re.sub(r"[^a-zA-Z0-9_]", "_", name)


def relabel(labels: dict[str, str], rules: list[dict]) -> dict[str, str] | None:
    for rule in rules:
        action = rule.get("action", "replace")
        sep = rule.get("separator", ";")
        value = sep.join(labels.get(l, "") for l in rule.get("source_labels") or [])
        regex = re.compile(rf"^(?:{rule.get('regex', '(.*)')})$")
        match = regex.match(value)
        if action == "keep" and not match:
            return None
        if action == "drop" and match:
            return None
        if action == "replace" and match:
            replacement = re.sub(r"\$\{?(\d+)\}?", r"\\g<\1>", rule.get("replacement", "$1"))
            result = match.expand(replacement)
            if result:
                labels[rule["target_label"]] = result
            else:
                labels.pop(rule["target_label"], None)
        elif action not in ("keep", "drop", "replace"):
            raise ValueError(f"unsupported action {action}")
    return labels


def scrape_sim(config_path: str, deployment_path: str) -> int:
    config = yaml.safe_load(Path(config_path).read_text())
    deployment = yaml.safe_load(Path(deployment_path).read_text())
    jobs = {j["job_name"]: j for j in config["scrape_configs"]}
    job = jobs.get("escalator")
    if job is None:
        problem("prometheus.yml has no job 'escalator' (rules select job=\"escalator\")")
        return finish("scrape simulation")
    pod = deployment["spec"]["template"]
    namespace = deployment["metadata"].get("namespace", "default")
    wanted_ns = [n for sd in job.get("kubernetes_sd_configs", []) for n in (sd.get("namespaces") or {}).get("names", [])]
    if wanted_ns and namespace not in wanted_ns:
        problem(f"Deployment namespace {namespace!r} is not discovered (namespaces {wanted_ns})")
    container = pod["spec"]["containers"][0]
    port = container["ports"][0]["containerPort"]
    labels = {
        "job": job["job_name"],
        "__address__": f"10.0.0.7:{port}",
        "__metrics_path__": job.get("metrics_path", "/metrics"),
        "__scheme__": job.get("scheme", "http"),
        "__meta_kubernetes_namespace": namespace,
        "__meta_kubernetes_pod_name": "escalator-5d9c7b8f6-abcde",
        "__meta_kubernetes_pod_phase": "Running",
        "__meta_kubernetes_pod_ip": "10.0.0.7",
    }
    for key, value in (pod["metadata"].get("labels") or {}).items():
        labels[f"__meta_kubernetes_pod_label_{sanitize(key)}"] = str(value)
        labels[f"__meta_kubernetes_pod_labelpresent_{sanitize(key)}"] = "true"
    for key, value in (pod["metadata"].get("annotations") or {}).items():
        labels[f"__meta_kubernetes_pod_annotation_{sanitize(key)}"] = str(value)
        labels[f"__meta_kubernetes_pod_annotationpresent_{sanitize(key)}"] = "true"
    result = relabel(dict(labels), job.get("relabel_configs") or [])
    if result is None:
        problem("the Deployment's pods are dropped by the escalator job's relabel_configs")
        return finish("scrape simulation")
    annotations = pod["metadata"].get("annotations") or {}
    if result["__address__"] != f"10.0.0.7:{annotations.get('prometheus.io/port', port)}":
        problem(f"scrape address {result['__address__']} is not the annotated port")
    if str(annotations.get("prometheus.io/port")) != str(port):
        problem(f"prometheus.io/port {annotations.get('prometheus.io/port')} != containerPort {port}")
    if result["__metrics_path__"] not in ("/metrics", "/api/v1/metrics/prometheus"):
        problem(f"scrape path {result['__metrics_path__']} is not a metrics endpoint")
    # The same pod without the opt-in annotation must not be scraped.
    opted_out = dict(labels)
    opted_out["__meta_kubernetes_pod_annotation_prometheus_io_scrape"] = "false"
    if relabel(opted_out, job.get("relabel_configs") or []) is not None:
        problem("a pod with prometheus.io/scrape=false would still be scraped")
    shown = {k: v for k, v in result.items() if not k.startswith("__meta_")}
    print(f"  scraped as {shown}")
    return finish("scrape simulation (Deployment pod template x escalator job)")


# ---------------------------------------------------------------- kustomization

def check_kustomization(path: str) -> int:
    kpath = Path(path)
    doc = yaml.safe_load(kpath.read_text())
    if doc.get("kind") != "Kustomization" or not str(doc.get("apiVersion", "")).startswith("kustomize.config.k8s.io/"):
        problem(f"{path}: not a Kustomization")
    resources = doc.get("resources") or []
    for resource in resources:
        if not (kpath.parent / resource).exists():
            problem(f"{path}: resource {resource} does not exist")
    if len(set(resources)) != len(resources):
        problem(f"{path}: duplicate resources")
    listed = {str(Path(r)) for r in resources}
    for manifest in sorted(kpath.parent.glob("*.y*ml")):
        if manifest.name != kpath.name and manifest.name not in listed:
            problem(f"{path}: {manifest.name} is not listed in resources")
    namespace = doc.get("namespace")
    for resource in resources:
        file = kpath.parent / resource
        if not file.exists():
            continue
        for item in yaml.safe_load_all(file.read_text()):
            if not item:
                continue
            ns = (item.get("metadata") or {}).get("namespace")
            if item.get("kind") != "Namespace" and namespace and ns and ns != namespace:
                problem(f"{resource}: namespace {ns} != kustomization namespace {namespace}")
            if item.get("kind") == "Namespace" and namespace and item["metadata"]["name"] != namespace:
                problem(f"{resource}: Namespace {item['metadata']['name']} != {namespace}")
    return finish(f"kustomization ({len(resources)} resources)")


# ---------------------------------------------------------------- Dockerfile

def check_dockerfile(path: str) -> int:
    lines = Path(path).read_text().splitlines()
    # Join continuation lines, drop comments.
    instructions: list[str] = []
    buf = ""
    for raw in lines:
        line = raw.strip()
        if not buf and (not line or line.startswith("#")):
            continue
        if line.startswith("#"):
            continue
        if line.endswith("\\"):
            buf += line[:-1] + " "
            continue
        instructions.append(buf + line)
        buf = ""
    args: dict[str, str] = {}
    stages: list[str] = []
    user_in_last_stage = None
    for ins in instructions:
        word, _, rest = ins.partition(" ")
        word = word.upper()
        rest = rest.strip()
        if word == "ARG" and "=" in rest and not stages:
            name, _, value = rest.partition("=")
            args[name.strip()] = value.strip().strip('"')
        elif word == "FROM":
            parts = [p for p in rest.split() if not p.startswith("--")]
            image = re.sub(r"\$\{?(\w+)\}?", lambda m: args.get(m.group(1), m.group(0)), parts[0])
            stages.append(image)
            user_in_last_stage = None
            if image != "scratch" and not any(image.startswith(s) for s in stages[:-1] if s):
                name = image.split("@")[0]
                tag = name.rsplit(":", 1)[1] if ":" in name.rsplit("/", 1)[-1] else None
                if "@" not in image and tag is None:
                    problem(f"FROM {image}: no tag (implies :latest)")
                if tag == "latest":
                    problem(f"FROM {image}: uses :latest")
        elif word == "ADD" and re.search(r"\bhttps?://", rest):
            problem(f"ADD {rest}: fetch URLs in a RUN step with checksum verification instead")
        elif word == "USER":
            user_in_last_stage = rest.split(":")[0]
    if len(stages) < 2:
        problem("not a multi-stage build")
    if user_in_last_stage is None:
        problem("the final stage has no USER (runs as root)")
    elif user_in_last_stage in ("root", "0"):
        problem(f"the final stage runs as {user_in_last_stage}")
    if not any(i.upper().startswith(("ENTRYPOINT", "CMD")) for i in instructions):
        problem("no ENTRYPOINT/CMD")
    print(f"  stages: {stages}; final USER {user_in_last_stage}")
    return finish(f"Dockerfile rules ({path})")


def main(argv: list[str]) -> int:
    if len(argv) < 2:
        print(__doc__, file=sys.stderr)
        return 2
    command, args = argv[1], argv[2:]
    commands = {
        "grafana": lambda: check_grafana(args),
        "thresholds": lambda: check_thresholds(*args),
        "promql-rules": lambda: promql_rules(*args),
        "prom-sd-fallback": lambda: prom_sd_fallback(*args),
        "scrape-sim": lambda: scrape_sim(*args),
        "kustomization": lambda: check_kustomization(*args),
        "dockerfile": lambda: check_dockerfile(*args),
    }
    if command not in commands:
        print(f"unknown subcommand {command}\n{__doc__}", file=sys.stderr)
        return 2
    return commands[command]()


if __name__ == "__main__":
    sys.exit(main(sys.argv))
