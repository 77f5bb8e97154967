#!/usr/bin/env python3
"""Markdown report of pooler_bench.sh's raw results: per-target table, ratios, idle memory.

  pooler_bench_report.py [--suite issue2|prepared|split|capture|isolation] RESULTS_TSV IDLE_JSONL   (either file may be missing or empty)

Each (workload, clients, target) row aggregates its rounds: TPS and latency are means over the
rounds, failed transactions and aborted clients are sums, pooler CPU per transaction is total CPU
time over total transactions. The ratio table checks issue 2's targets (--suite issue2, default),
issue 4's (--suite prepared: pgopt -M prepared against every other pooled row, per client count) or
issue 5's (--suite split: pgopt with read_write_split on against the same pgopt with it off) or
issue 6's (--suite capture: pgopt with workload capture on against the same pgopt with it off).
"""
import argparse
import csv
import json
import os
from collections import defaultdict

TARGETS = ("pgopt-split", "pgopt", "pgopt-nocapture", "pgbouncer", "direct", "direct-replica")
LABEL = {"pgopt": "pgopt", "pgopt-split": "pgopt, split on", "pgopt-nocapture": "pgopt, capture off",
         "pgbouncer": "PgBouncer", "direct": "direct", "direct-replica": "direct to the replica"}


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


def throughput(path, suite):
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
            # Older results files have no kernel column: the report then leaves it out.
            "kernel_us": mean(num(r.get("pooler_kernel_us_per_txn")) for r in rs),
            "replica_share": mean(num(r.get("replica_share")) for r in rs),
        }
    if suite == "split":
        LABEL["pgopt"] = "pgopt, split off"
    if suite == "capture":
        LABEL["pgopt"] = "pgopt, capture on"

    print("| workload | clients | target | TPS per round | TPS (mean) | latency avg (ms) | failed txns | aborted clients | pooler CPU (us/txn) | of which kernel (us/txn) |")
    print("| --- | ---: | --- | --- | ---: | ---: | ---: | ---: | ---: | ---: |")
    for w, p, c in order:
        for t in TARGETS:
            a = agg.get((w, p, c, t))
            if not a:
                continue
            runs = ", ".join(fmt(x) for x in a["tps_runs"])
            aborted = str(a["aborted"]) + (f" (exit != 0: {a['bad_exit']})" if a["bad_exit"] else "")
            print(f"| {workload_name(w, p)} | {c} | {LABEL[t]} | {runs} | {fmt(a['tps'])} | {fmt(a['lat'], 3)} "
                  f"| {a['failed']} | {aborted} | {fmt(a['cpu_us'], 1) if not t.startswith('direct') else '-'} "
                  f"| {fmt(a['kernel_us'], 1) if not t.startswith('direct') else '-'} |")

    loads = [num(r.get("load1_before")) for r in rows]
    loads = [x for x in loads if x is not None]
    if loads:
        print()
        print(f"1-minute load average just before each run: {min(loads):.2f} to {max(loads):.2f} "
              f"(median {sorted(loads)[len(loads) // 2]:.2f}; pgbench and the pooler account for up to "
              f"about 2 of it).")
    if suite == "prepared":
        prepared_targets(agg, sorted({c for _, _, c in order}))
    elif suite == "split":
        split_targets(agg, order)
    elif suite == "capture":
        capture_targets(agg, order)
    else:
        issue2_targets(agg, order)


def prepared_targets(agg, clients):
    """Issue 4: pgopt -M prepared is the fastest pooled row at every client count, >= 1.2x
    PgBouncer's best mode at 50 and 200 clients. Direct connections are the limit, not a competitor."""
    print()
    print("Issue 4 target (means over rounds): pgopt with -M prepared is the fastest pooled row at every "
          "client count, and at least 1.2x PgBouncer's best mode at 50 and 200 clients. Direct "
          "connections are shown as the limit and not counted as rows to beat.")
    print()
    print("| clients | pgopt -M prepared TPS | next fastest pooled row | prepared / next | PgBouncer best mode "
          "| pgopt prepared / PgBouncer best | direct -M prepared TPS | pgopt prepared / direct prepared | target |")
    print("| ---: | ---: | --- | ---: | --- | ---: | ---: | ---: | --- |")
    for c in clients:
        mine = agg.get(("select", "prepared", c, "pgopt"), {}).get("tps")
        others = [(a["tps"], f"{LABEL[t]} -M {p}") for (w, p, cc, t), a in agg.items()
                  if w == "select" and cc == c and t != "direct" and (t, p) != ("pgopt", "prepared")
                  and a["tps"] is not None]
        bouncer = [(a["tps"], f"-M {p}") for (w, p, cc, t), a in agg.items()
                   if w == "select" and cc == c and t == "pgbouncer" and a["tps"] is not None]
        direct = agg.get(("select", "prepared", c, "direct"), {}).get("tps")
        nxt = max(others) if others else (None, "n/a")
        best_b = max(bouncer) if bouncer else (None, "n/a")
        vs_next, vs_b = ratio(mine, nxt[0]), ratio(mine, best_b[0])
        checks = []
        if vs_next is not None:
            checks.append(f"fastest: {'met' if vs_next > 1 else 'MISSED'}")
        if c >= 50 and vs_b is not None:
            checks.append(f">= 1.2x PgBouncer: {'met' if vs_b >= 1.2 else 'MISSED'}")
        print(f"| {c} | {fmt(mine)} | {nxt[1]} ({fmt(nxt[0])}) | {fmt(vs_next, 2, 'x')} "
              f"| {best_b[1]} ({fmt(best_b[0])}) | {fmt(vs_b, 2, 'x')} | {fmt(direct)} "
              f"| {fmt(ratio(mine, direct), 2, 'x')} | {'; '.join(checks)} |")


def split_targets(agg, order):
    """Issue 5: read/write splitting costs at most 5% of throughput (split on >= 0.95x split off)."""
    print()
    print("Issue 5 target (means over rounds): pgopt with read_write_split on (reads on the replica) at least "
          "0.95x the same pgopt with it off (everything on the primary). Replica share: pgbench statements the "
          "replica ran during the split-on runs (its pg_stat_statements) over pgbench's transactions. "
          "Direct replica / primary: the same pgbench straight to each server, no pooler: what PostgreSQL "
          "itself gives up by serving the reads from a standby.")
    print()
    print("| workload | clients | split on TPS | split off TPS | on / off | on / PgBouncer | on / direct "
          "| direct replica / primary | CPU us/txn on | CPU us/txn off | replica share | target |")
    print("| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | --- |")
    for w, p, c in order:
        g = {t: agg.get((w, p, c, t), {}) for t in TARGETS}
        on, off = g["pgopt-split"].get("tps"), g["pgopt"].get("tps")
        vs_off = ratio(on, off)
        check = "n/a" if vs_off is None else ("met" if vs_off >= 0.95 else "MISSED")
        share = g["pgopt-split"].get("replica_share")
        print(f"| {workload_name(w, p)} | {c} | {fmt(on)} | {fmt(off)} | {fmt(vs_off, 2, 'x')} "
              f"| {fmt(ratio(on, g['pgbouncer'].get('tps')), 2, 'x')} | {fmt(ratio(on, g['direct'].get('tps')), 2, 'x')} "
              f"| {fmt(ratio(g['direct-replica'].get('tps'), g['direct'].get('tps')), 2, 'x')} "
              f"| {fmt(g['pgopt-split'].get('cpu_us'), 1)} | {fmt(g['pgopt'].get('cpu_us'), 1)} "
              f"| {fmt(None if share is None else share * 100, 1, '%')} | on >= 0.95x off: {check} |")


def capture_targets(agg, order):
    """Issue 6: workload capture costs at most 5% of throughput at pgbench -S, 50 clients."""
    print()
    print("Issue 6 target (means over rounds): pgopt with workload capture on (the default) at least 0.95x the "
          "same pgopt with capture = false.")
    print()
    print("| workload | clients | capture on TPS | capture off TPS | on / off | on / PgBouncer | CPU us/txn on "
          "| CPU us/txn off | target |")
    print("| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | --- |")
    for w, p, c in order:
        g = {t: agg.get((w, p, c, t), {}) for t in TARGETS}
        on, off = g["pgopt"].get("tps"), g["pgopt-nocapture"].get("tps")
        vs_off = ratio(on, off)
        check = "n/a" if vs_off is None else ("met" if vs_off >= 0.95 else "MISSED")
        print(f"| {workload_name(w, p)} | {c} | {fmt(on)} | {fmt(off)} | {fmt(vs_off, 2, 'x')} "
              f"| {fmt(ratio(on, g['pgbouncer'].get('tps')), 2, 'x')} | {fmt(g['pgopt'].get('cpu_us'), 1)} "
              f"| {fmt(g['pgopt-nocapture'].get('cpu_us'), 1)} | on >= 0.95x off: {check} |")


def issue2_targets(agg, order):
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
    admin_rows = [d for d in rows if d.get("admin")]
    if admin_rows:
        print()
        print("Admin console while those clients were connected (a fresh console connection per command: "
              "login + command + every row, in ms; rows in brackets):")
        print()
        commands = list(dict.fromkeys(c for d in admin_rows for c in d["admin"]))
        print("| pooler | " + " | ".join(commands) + " |")
        print("| --- |" + " ---: |" * len(commands))
        for d in admin_rows:
            cells = []
            for c in commands:
                a = d["admin"].get(c, {})
                cells.append(f"{a['ms']} ({a['rows']})" if "ms" in a else a.get("error", "-"))
            print(f"| {LABEL[d['target']]} | " + " | ".join(cells) + " |")
    if per.get("pgopt") is not None and per.get("pgbouncer"):
        r = per["pgopt"] / per["pgbouncer"]
        print(f"\npgopt / PgBouncer memory per idle client: {r:.2f}x "
              f"(target: below 1x: {'met' if r < 1 else 'MISSED'}).")


def isolation(path):
    """Issue 15's rows from isolation_bench.py's JSON lines, one row per target and round."""
    rows = [json.loads(line) for line in open(path) if line.strip()]
    by = lambda step: [r for r in rows if r["step"] == step]
    print("### Dead clients (3,000 dying under load)\n")
    print("| target | round | new client's first query (ms) | server sessions started | dead rows committed |")
    print("|---|---|---|---|---|")
    for r in by("dead_clients"):
        print(f"| {r['target']} | {r['round']} | {r['new_client_first_query_ms']} | {r['server_sessions_started']} | "
              f"{r['dead_rows_committed']} |")
    print("\nTargets: first query under 200 ms, no server session beyond the pool size.\n")
    print("### Clients that pipeline and never read\n")
    print("| target | round | clients | RSS before (MB) | peak (MB) | growth (MB) |")
    print("|---|---|---|---|---|---|")
    for r in by("flood_20") + by("flood_200"):
        print(f"| {r['target']} | {r['round']} | {r['clients']} | {r['rss_base_mb']} | {r['rss_peak_mb']} | "
              f"{r['rss_growth_mb']} |")
    print("\n### Big statements beside a SELECT 1 loop\n")
    print("| target | round | 1 / 5 / 50 MB statement (s) | other client p50 (ms) | p99 (ms) | max (ms) |")
    print("|---|---|---|---|---|---|")
    for r in by("big_statements"):
        times = " / ".join(str(s["s"]) for s in r["statements"])
        print(f"| {r['target']} | {r['round']} | {times} | {r['other_p50_ms']} | {r['other_p99_ms']} | {r['other_max_ms']} |")
    print("\nTarget: the other client's p99 under 50 ms.")


if __name__ == "__main__":
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--suite", choices=("issue2", "prepared", "split", "capture", "isolation"), default="issue2")
    ap.add_argument("results_tsv")
    ap.add_argument("idle_jsonl")
    args = ap.parse_args()
    if args.suite == "isolation":
        isolation(args.results_tsv)
    else:
        throughput(args.results_tsv, args.suite)
        idle(args.idle_jsonl)
