#!/usr/bin/env python3
"""Markdown report of pooler_bench.sh's raw results: per-target table, ratios, idle memory.

  pooler_bench_report.py RESULTS_TSV IDLE_JSONL      (either file may be missing or empty)

Each (workload, clients, target) row aggregates its rounds: TPS and latency are means over the
rounds, failed transactions and aborted clients are sums, pooler CPU per transaction is total CPU
time over total transactions. Targets are the ones in issue 2.
"""
import csv
import json
import os
import sys
from collections import defaultdict

TARGETS = ("pgopt", "pgbouncer", "direct")
LABEL = {"pgopt": "pgopt", "pgbouncer": "PgBouncer", "direct": "direct"}


def num(s):
    try:
        return float(s)
    except (TypeError, ValueError):
        return None


def mean(xs):
    xs = [x for x in xs if x is not None]
    return sum(xs) / len(xs) if xs else None


def fmt(x, digits=0, suffix=""):
    return "n/a" if x is None else f"{x:,.{digits}f}{suffix}"


def ratio(a, b):
    return a / b if a is not None and b else None


def workload_name(workload, protocol):
    return f"select-only (-S), {protocol}" if workload == "select" else f"TPC-B, {protocol}"


def throughput(path):
    if not os.path.exists(path) or os.path.getsize(path) == 0:
        return
    rows = list(csv.DictReader(open(path), delimiter="\t"))
    if not rows:
        return
    groups = defaultdict(list)
    order = []
    for r in rows:
        key = (r["workload"], r["protocol"], int(r["clients"]))
        if key not in order:
            order.append(key)
        groups[key + (r["target"],)].append(r)

    agg = {}
    for key, rs in groups.items():
        txns = sum(int(r["transactions"]) for r in rs)
        cpu = [num(r["pooler_cpu_s"]) for r in rs]
        agg[key] = {
            "tps_runs": [num(r["tps"]) for r in rs],
            "tps": mean(num(r["tps"]) for r in rs),
            "lat": mean(num(r["latency_ms"]) for r in rs),
            "failed": sum(int(r["failed"]) for r in rs if r["failed"].isdigit()),
            "aborted": sum(int(r["aborted_clients"]) for r in rs),
            "bad_exit": sum(1 for r in rs if r["exit"] != "0"),
            "cpu_us": (sum(cpu) * 1e6 / txns) if txns and cpu and None not in cpu else None,
        }

    print("| workload | clients | target | TPS per round | TPS (mean) | latency avg (ms) | failed txns | aborted clients | pooler CPU (us/txn) |")
    print("| --- | ---: | --- | --- | ---: | ---: | ---: | ---: | ---: |")
    for w, p, c in order:
        for t in TARGETS:
            a = agg.get((w, p, c, t))
            if not a:
                continue
            runs = ", ".join(fmt(x) for x in a["tps_runs"])
            aborted = str(a["aborted"]) + (f" (exit != 0: {a['bad_exit']})" if a["bad_exit"] else "")
            print(f"| {workload_name(w, p)} | {c} | {LABEL[t]} | {runs} | {fmt(a['tps'])} | {fmt(a['lat'], 3)} "
                  f"| {a['failed']} | {aborted} | {fmt(a['cpu_us'], 1) if t != 'direct' else '-'} |")

    print()
    print("Ratios (means over rounds). Targets from issue 2: pgopt >= 1.2x PgBouncer's TPS at 50 and 200 "
          "clients, >= 0.95x direct at 10 clients; pgopt CPU per transaction <= 0.5x PgBouncer's. "
          "CPU in microseconds per transaction = milliseconds per 1,000 transactions.")
    print()
    print("| workload | clients | pgopt / PgBouncer TPS | pgopt / direct TPS | PgBouncer / direct TPS "
          "| CPU us/txn pgopt | CPU us/txn PgBouncer | pgopt / PgBouncer CPU | targets |")
    print("| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | --- |")
    for w, p, c in order:
        g = {t: agg.get((w, p, c, t), {}) for t in TARGETS}
        vs_b = ratio(g["pgopt"].get("tps"), g["pgbouncer"].get("tps"))
        vs_d = ratio(g["pgopt"].get("tps"), g["direct"].get("tps"))
        b_d = ratio(g["pgbouncer"].get("tps"), g["direct"].get("tps"))
        cpu = ratio(g["pgopt"].get("cpu_us"), g["pgbouncer"].get("cpu_us"))
        checks = []
        if c >= 50 and vs_b is not None:
            checks.append(f"TPS >= 1.2x PgBouncer: {'met' if vs_b >= 1.2 else 'MISSED'}")
        if c == 10 and vs_d is not None:
            checks.append(f"TPS >= 0.95x direct: {'met' if vs_d >= 0.95 else 'MISSED'}")
        if cpu is not None:
            checks.append(f"CPU <= 0.5x: {'met' if cpu <= 0.5 else 'MISSED'}")
        print(f"| {workload_name(w, p)} | {c} | {fmt(vs_b, 2, 'x')} | {fmt(vs_d, 2, 'x')} | {fmt(b_d, 2, 'x')} "
              f"| {fmt(g['pgopt'].get('cpu_us'), 1)} | {fmt(g['pgbouncer'].get('cpu_us'), 1)} | {fmt(cpu, 2, 'x')} "
              f"| {'; '.join(checks)} |")


def idle(path):
    if not os.path.exists(path) or os.path.getsize(path) == 0:
        return
    rows = [json.loads(line) for line in open(path) if line.strip()]
    print()
    print("Idle client connections (logged in, then idle; VmRSS of the pooler process):")
    print()
    print("| pooler | clients connected / asked | RSS before (MB) | RSS after (MB) | RSS per client (KB) "
          "| pooler CPU per login (ms) | logins took (s) | dropped while idle | SELECT 1 meanwhile |")
    print("| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | --- |")
    per = {}
    for d in rows:
        per[d["target"]] = d["kb_per_client"]
        alive = "ok" if d["select_1_while_idle_clients"] else f"FAILED ({d['select_1_error']})"
        print(f"| {LABEL[d['target']]} | {d['connected']} / {d['requested']} | {d['rss_before_kb'] / 1024:.1f} "
              f"| {d['rss_after_kb'] / 1024:.1f} | {fmt(d['kb_per_client'], 2)} | {fmt(d['pooler_cpu_ms_per_login'], 3)} "
              f"| {d['login_seconds']} | {d['dropped_while_idle']} | {alive} |")
    for d in rows:
        for err, n in d["errors"].items():
            print(f"\n{LABEL[d['target']]}: {n} logins failed: {err}")
    if per.get("pgopt") is not None and per.get("pgbouncer"):
        r = per["pgopt"] / per["pgbouncer"]
        print(f"\npgopt / PgBouncer memory per idle client: {r:.2f}x "
              f"(target: below 1x: {'met' if r < 1 else 'MISSED'}).")


if __name__ == "__main__":
    if len(sys.argv) != 3:
        sys.exit(__doc__)
    throughput(sys.argv[1])
    idle(sys.argv[2])
