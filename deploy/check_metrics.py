#!/usr/bin/env python3
"""Checks that a Grafana dashboard and Prometheus alerting rules parse and use only metrics a running
pgopt exports, so a renamed metric breaks this check instead of a dashboard in production.

    check_metrics.py METRICS DASHBOARD.json ALERTS.yml

METRICS is a /metrics URL (http://127.0.0.1:9127/metrics) or a file holding a scrape. Exit status 0
when everything matches, 1 with one line per problem otherwise.
"""
import json
import re
import sys
import urllib.request

import yaml

NAME = re.compile(r"\bpgopt_[A-Za-z0-9_]+")


def scrape(source):
    if source.startswith("http://"):
        with urllib.request.urlopen(source, timeout=10) as r:
            text = r.read().decode()
    else:
        with open(source) as f:
            text = f.read()
    names = set()
    for line in text.splitlines():
        m = re.match(r"# TYPE (\S+) (\S+)", line)
        if not m:
            continue
        names.add(m.group(1))
        if m.group(2) == "histogram":
            names.update(m.group(1) + s for s in ("_bucket", "_sum", "_count"))
    return names


def exprs_in(node, path=""):
    """Every PromQL text of a dashboard: targets' expr and templating queries."""
    if isinstance(node, dict):
        for k, v in node.items():
            if k in ("expr", "definition") and isinstance(v, str):
                yield f"{path}.{k}", v
            elif k == "query" and isinstance(v, str):
                yield f"{path}.{k}", v
            else:
                yield from exprs_in(v, f"{path}.{k}")
    elif isinstance(node, list):
        for i, v in enumerate(node):
            yield from exprs_in(v, f"{path}[{i}]")


def main(metrics, dashboard_path, alerts_path):
    problems = []
    with open(dashboard_path) as f:
        dashboard = json.load(f)
    used = [(f"{dashboard_path}:{where}", e) for where, e in exprs_in(dashboard.get("panels", []), "panels")]
    used += [(f"{dashboard_path}:{where}", e) for where, e in exprs_in(dashboard.get("templating", {}), "templating")]
    with open(alerts_path) as f:
        alerts = yaml.safe_load(f)
    for g in alerts.get("groups", []):
        for r in g.get("rules", []):
            name = r.get("alert") or r.get("record")
            for key in ("expr",):
                if not isinstance(r.get(key), str):
                    problems.append(f"{alerts_path}: rule {name}: no {key}")
            if r.get("alert") and "severity" not in r.get("labels", {}):
                problems.append(f"{alerts_path}: alert {name}: no severity label")
            used.append((f"{alerts_path}: alert {name}", r.get("expr", "")))
    exported = scrape(metrics)
    if not exported:
        problems.append(f"{metrics}: no metric families in the scrape")
    names = set()
    for where, expr in used:
        for n in NAME.findall(expr):
            names.add(n)
            if n not in exported:
                problems.append(f"{where}: {n} is not exported by pgopt")
    for p in problems:
        print(p)
    if not used or not names:
        print("no pgopt metric is used at all")
        return 1
    if problems:
        return 1
    print(f"ok: {len(used)} expressions use {len(names)} metric names, all exported ({len(exported)} names in the scrape)")
    return 0


if __name__ == "__main__":
    if len(sys.argv) != 4:
        print(__doc__, file=sys.stderr)
        sys.exit(2)
    sys.exit(main(*sys.argv[1:]))
