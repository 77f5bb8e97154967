#!/usr/bin/env python3
"""Synthetic workload for the advisor's scale benchmark (bench/advisor_scale.sh).

    generate.py schema TABLES            -> DDL + data (INSERT ... SELECT generate_series) on stdout
    generate.py workload TABLES GROUPS   -> a .sql file of statements on stdout

TABLES tables taa, tab, ... of 9 columns with different cardinalities (a foreign key into the next table,
a status, a timestamp ...), 2,000 to 40,000 rows each. GROUPS statement groups (distinct libpg_query
fingerprints, GROUPS / TABLES per table, an INSERT among them) spread evenly over the tables: equality, range, IN, ORDER BY ... LIMIT, GROUP BY,
joins to the next table, UPDATE and DELETE by key or filter, INSERT; each shape with two select
lists, as applications read the same rows in different ways. Each group is called 1 to 40 times
(skewed, fixed seed) with different literals. Deterministic: the same arguments give the same files.
"""
import random
import sys

COLUMNS = [  # name, type, generator expression over g (generate_series value) and n (rows)
    ("ref_id", "bigint", "1 + (g * 7919) % {parent}"),
    ("account_id", "int", "(g * 31) % greatest(n / 10, 1)"),
    ("kind", "int", "g % 100"),
    ("status", "text", "(array['new','paid','shipped','done','void'])[1 + (g % 97) % 5]"),
    ("created_at", "timestamptz", "timestamptz '2026-01-01' + (g * interval '37 seconds')"),
    ("amount", "numeric", "((g * 13) % 100000) / 100.0"),
    ("code", "text", "'c' || ((g * 17) % 5000)"),
    ("score", "int", "(g * 11) % 1000"),
]


def name(t):
    # Letters only: libpg_query's fingerprint ignores digits at the end of a table name (t001 and
    # t002 would be one statement group).
    return "t" + chr(97 + t // 26 % 26) + chr(97 + t % 26)


def rows(t):
    return 2000 + (t * 7919) % 38000


def schema(tables):
    out = []
    for t in range(tables):
        cols = ",\n  ".join(f"{name} {typ}" for name, typ, _ in COLUMNS)
        out.append(f"CREATE TABLE {name(t)} (\n  id bigint PRIMARY KEY,\n  {cols}\n);")
    for t in range(tables):
        n = rows(t)
        parent = rows((t + 1) % tables)
        exprs = ", ".join(e.format(parent=parent).replace("n /", f"{n} /") for _, _, e in COLUMNS)
        out.append(f"INSERT INTO {name(t)} SELECT g, {exprs} FROM generate_series(1, {n}) g;")
    return "\n".join(out) + "\n"


def literal(col, rng, t):
    n = rows(t)
    if col == "ref_id":
        return str(rng.randint(1, n))
    if col == "account_id":
        return str(rng.randint(0, max(n // 10, 1) - 1))
    if col == "kind":
        return str(rng.randint(0, 99))
    if col == "status":
        return "'" + rng.choice(["new", "paid", "shipped", "done", "void"]) + "'"
    if col == "created_at":
        return f"'2026-01-{rng.randint(1, 9):02d} {rng.randint(0, 23):02d}:00:00+00'"
    if col == "amount":
        return f"{rng.randint(0, 99999) / 100:.2f}"
    if col == "code":
        return f"'c{rng.randint(0, 4999)}'"
    if col == "score":
        return str(rng.randint(0, 999))
    if col == "id":
        return str(rng.randint(1, n))
    raise ValueError(col)


FILTER_COLS = ["ref_id", "account_id", "kind", "status", "created_at", "amount", "code", "score"]


def shapes():
    """Where-clause shapes: (template, columns it needs literals for). {t} is the table, {u} the next."""
    out = []
    for c in FILTER_COLS:
        out.append((f"SELECT {{sel}} FROM {{t}} WHERE {c} = {{0}}", [c]))
    for i, a in enumerate(FILTER_COLS):
        for b in FILTER_COLS[i + 1:]:
            out.append((f"SELECT {{sel}} FROM {{t}} WHERE {a} = {{0}} AND {b} = {{1}}", [a, b]))
    for a in ["account_id", "ref_id", "kind", "status", "code"]:
        for o in ["created_at", "score", "amount"]:
            out.append((f"SELECT {{sel}} FROM {{t}} WHERE {a} = {{0}} ORDER BY {o} DESC LIMIT 20", [a]))
    for a in ["created_at", "amount", "score"]:
        out.append((f"SELECT {{sel}} FROM {{t}} WHERE {a} BETWEEN {{0}} AND {{1}}", [a, a]))
        out.append((f"SELECT {{sel}} FROM {{t}} WHERE status = {{0}} AND {a} > {{1}} ORDER BY {a} LIMIT 50", ["status", a]))
    for a in ["account_id", "kind", "code"]:
        out.append((f"SELECT {a}, count(*) FROM {{t}} WHERE {a} IN ({{0}}, {{1}}, {{2}}) GROUP BY {a}", [a, a, a]))
    for a in ["account_id", "code", "status"]:
        out.append((f"SELECT {{sel}} FROM {{t}} x JOIN {{u}} y ON y.id = x.ref_id WHERE x.{a} = {{0}}", [a]))
    for a in ["account_id", "code", "kind", "score"]:
        out.append((f"UPDATE {{t}} SET amount = amount + 1 WHERE {a} = {{0}}", [a]))
        out.append((f"DELETE FROM {{t}} WHERE {a} = {{0}} AND status = 'void'", [a]))
    out.append(("UPDATE {t} SET status = {0} WHERE id = {1}", ["status", "id"]))
    out.append(("SELECT {sel} FROM {t} WHERE id = {0}", ["id"]))
    return out


SELECTS = ["*", "id, status, amount", "id", "count(*)"]


def workload(tables, groups):
    rng = random.Random(17)
    base = shapes()
    per_table = -(-groups // tables)
    reads = [(s, sel) for sel in SELECTS for s in base if "{sel}" in s[0]]
    fixed = [(s, None) for s in base if "{sel}" not in s[0]]
    if per_table > len(reads) + len(fixed) + 1 or per_table < len(fixed) + 1:
        raise SystemExit(f"between {len(fixed) + 1} and {len(reads) + len(fixed) + 1} groups per table")
    out = []
    for t in range(tables):
        # Every table gets the writes (they make each index cost something) and a random choice of
        # the read shapes and select lists.
        picks = fixed + rng.sample(reads, per_table - len(fixed) - 1)
        for (tmpl, cols), sel in picks:
            calls = max(1, int(40 * rng.random() ** 3))
            for _ in range(calls):
                vals = [literal(c, rng, t) for c in cols]
                if "BETWEEN" in tmpl and vals[0] > vals[1]:
                    vals = [vals[1], vals[0]]
                text = tmpl.format(*vals, sel=sel or "", t=name(t), u=name((t + 1) % tables))
                out.append(text + ";")
        out.extend(f"INSERT INTO {name(t)} (id, status) VALUES ({100000 + i}, 'new');" for i in range(20))
    return "\n".join(out) + "\n"


if __name__ == "__main__":
    if sys.argv[1] == "schema":
        sys.stdout.write(schema(int(sys.argv[2])))
    else:
        sys.stdout.write(workload(int(sys.argv[2]), int(sys.argv[3])))
