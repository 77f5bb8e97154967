#!/usr/bin/env bash
# Real drivers' own test suites through pgopt (issue 22): node-postgres's pg-pool and pg-cursor
# suites, as published on the npm registry with their tests, run against PostgreSQL directly,
# pgopt in session and in transaction mode, and PgBouncer in session and in transaction mode.
#
# Usage: bench/driver_suites.sh [OUT_DIR]        (~5 min; needs build/pgopt or PGOPT_BIN, node, npm)
#        PSYCOPG_SUITE=DIR bench/driver_suites.sh   also runs psycopg 3.1.7's own suite (~1-2 min per
#          target): DIR holds its tests/ and pyproject.toml (bench/driver_suites_psycopg_run.sh says
#          how to get them); NODE_SUITES=0 skips the node-postgres suites (and npm);
#          PSYCOPG_MODULES=async runs its asyncio modules instead of the sync ones.
#        NODE_POSTGRES_GIT=DIR bench/driver_suites.sh   also runs the `pg` package's own integration
#          suite (~3 min per target): DIR is a git clone of github:brianc/node-postgres holding the
#          tag pg@$PG_SUITE_VERSION, whose packages/pg/test goes next to the lib/ of the same version
#          from npm (the npm tarball has no tests); bench/driver_suites_nodepg_run.py runs it.
#
# What it does:
#  1. starts its own PostgreSQL 15 primary + replica (scripts/cluster.sh; stopped again on exit);
#  2. fetches pg-pool and pg-cursor with `npm pack` into a temp dir and installs their
#     devDependencies with `npm install --ignore-scripts` (JavaScript only: nothing is built, and
#     nothing fetched lands in the source tree);
#  3. runs each suite's mocha tests once per target with PGHOST/PGPORT pointing at it, user
#     trust_user, database pgopt_test, each pooler with a pool of 10 servers;
#  4. writes OUT_DIR/summary.md: passed/failed/pending per suite and target, and for every test
#     that fails through a pooler whether it passes directly and through PgBouncer in the same mode.
#
# Environment: PGOPT_BIN (default build/pgopt), PGBOUNCER_BIN (default /usr/sbin/pgbouncer),
# PG_POOL_VERSION (3.6.2), PG_CURSOR_VERSION (2.12.1), PG_FOR_POOL (8.12.0: newer pg versions print
# deprecation warnings that pg-pool's suite turns into failures), PG_FOR_CURSOR (8.13.1).
# Every process it starts is stopped by PID.
set -euo pipefail

root=$(cd "$(dirname "$0")/.." && pwd)
OUT_DIR=${1:-$(mktemp -d /tmp/pgopt-driver-suites.XXXXXX)}
PGOPT_BIN=${PGOPT_BIN:-$root/build/pgopt}
PGBOUNCER_BIN=${PGBOUNCER_BIN:-/usr/sbin/pgbouncer}
PG_POOL_VERSION=${PG_POOL_VERSION:-3.6.2}
PG_CURSOR_VERSION=${PG_CURSOR_VERSION:-2.12.1}
PG_FOR_POOL=${PG_FOR_POOL:-8.12.0}
PG_FOR_CURSOR=${PG_FOR_CURSOR:-8.13.1}
SUITE_TIMEOUT=${SUITE_TIMEOUT:-300}
PSYCOPG_SUITE=${PSYCOPG_SUITE:-}
NODE_POSTGRES_GIT=${NODE_POSTGRES_GIT:-}
PG_SUITE_VERSION=${PG_SUITE_VERSION:-8.23.0}
NODE_SUITES=${NODE_SUITES:-1}
RUN_USER=pgopt-test
PY=python3
[ -x /usr/bin/python3 ] && PY=/usr/bin/python3

[ -x "$PGOPT_BIN" ] || { echo "driver_suites.sh: no pgopt at $PGOPT_BIN (build it or set PGOPT_BIN)" >&2; exit 1; }
[ -x "$PGBOUNCER_BIN" ] || { echo "driver_suites.sh: no PgBouncer at $PGBOUNCER_BIN" >&2; exit 1; }
[ "$NODE_SUITES" = 0 ] || command -v npm >/dev/null ||
  { echo "driver_suites.sh: npm is missing (scripts/setup.sh installs it)" >&2; exit 1; }
[ -z "$NODE_POSTGRES_GIT" ] || git --git-dir="$NODE_POSTGRES_GIT" rev-parse -q --verify "pg@$PG_SUITE_VERSION^{commit}" >/dev/null ||
  { echo "driver_suites.sh: no tag pg@$PG_SUITE_VERSION in $NODE_POSTGRES_GIT" >&2; exit 1; }
[ -z "$PSYCOPG_SUITE" ] || [ -d "$PSYCOPG_SUITE/tests" ] ||
  { echo "driver_suites.sh: no psycopg tests/ in $PSYCOPG_SUITE" >&2; exit 1; }

mkdir -p "$OUT_DIR"
out=$(cd "$OUT_DIR" && pwd)
work=$(mktemp -d /tmp/pgopt-driver-suites-work.XXXXXX)
chmod 755 "$work"  # PgBouncer runs as another user and reads its ini from here
say() { echo "== $*" >&2; }
# shellcheck source=bench/lib.sh
. "$root/bench/lib.sh"  # pgbouncer_ini
free_port() { "$PY" -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }

pids=()
cluster_started=""
stop_pid() {  # PID: SIGTERM, then SIGKILL after 10 s; only ever a PID this script started
  local pid=$1
  kill -0 "$pid" 2>/dev/null || return 0
  kill -TERM "$pid" 2>/dev/null || true
  for _ in $(seq 1 100); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
  kill -0 "$pid" 2>/dev/null && kill -KILL "$pid" 2>/dev/null || true
  wait "$pid" 2>/dev/null || true
}
cleanup() {
  for pid in "${pids[@]}"; do stop_pid "$pid"; done
  [ -n "$cluster_started" ] && bash "$root/scripts/cluster.sh" stop "$work/cluster" >/dev/null 2>&1
  return 0
}
trap cleanup EXIT
trap 'exit 130' INT TERM

say "starting PostgreSQL (scripts/cluster.sh) in $work/cluster"
bash "$root/scripts/cluster.sh" start "$work/cluster" >"$work/cluster.log" 2>&1 ||
  { cat "$work/cluster.log" >&2; exit 1; }
cluster_started=1
# shellcheck disable=SC1091
. "$work/cluster/env"

wait_ready() {  # NAME PID PORT LOG
  for _ in $(seq 1 100); do
    kill -0 "$2" 2>/dev/null || { echo "driver_suites.sh: $1 exited at start:" >&2; tail -20 "$4" >&2; exit 1; }
    "$PGOPT_PG_BIN/pg_isready" -q -h 127.0.0.1 -p "$3" -d pgopt_test -U trust_user && return 0
    sleep 0.1
  done
  echo "driver_suites.sh: $1 not ready on port $3" >&2; tail -20 "$4" >&2; exit 1
}

declare -A port_of
start_pgopt() {  # MODE
  local mode=$1 dir=$work/pgopt-$1 port; port=$(free_port)
  mkdir -p "$dir"
  : >"$dir/users.txt"
  cat >"$dir/pgopt.toml" <<TOML
[pooler]
listen_addr = "127.0.0.1"
listen_port = $port
pool_mode = "$mode"
default_pool_size = 10
auth_type = "trust"
auth_file = "users.txt"
shutdown_timeout = "2s"

[databases.pgopt_test]
host = "127.0.0.1"
port = $PGOPT_PRIMARY_PORT
TOML
  "$PGOPT_BIN" pool --config "$dir/pgopt.toml" >>"$dir/pgopt.log" 2>&1 &
  pids+=($!)
  wait_ready "pgopt ($mode)" "$!" "$port" "$dir/pgopt.log"
  port_of[pgopt-$mode]=$port
}
start_pgbouncer() {  # MODE
  local mode=$1 dir=$work/pgbouncer-$1 port; port=$(free_port)
  mkdir -p "$dir"
  printf '"trust_user" ""\n"postgres" ""\n' >"$dir/userlist.txt"
  pgbouncer_ini pgopt_test "$PGOPT_PRIMARY_PORT" "$port" trust "$dir/userlist.txt" "$mode" 10 "$dir/pgbouncer.log" \
    "ignore_startup_parameters = extra_float_digits" >"$dir/pgbouncer.ini"
  touch "$dir/pgbouncer.log"
  if [ "$(id -u)" -eq 0 ]; then
    chown -R "$RUN_USER" "$dir"
    setpriv --reuid="$RUN_USER" --regid="$RUN_USER" --init-groups -- \
      "$PGBOUNCER_BIN" "$dir/pgbouncer.ini" >>"$dir/stderr.log" 2>&1 &
  else
    "$PGBOUNCER_BIN" "$dir/pgbouncer.ini" >>"$dir/stderr.log" 2>&1 &
  fi
  pids+=($!)
  wait_ready "pgbouncer ($mode)" "$!" "$port" "$dir/pgbouncer.log"
  port_of[pgbouncer-$mode]=$port
}

mkdir -p "$work/npm"
fetch_suite() {  # NAME VERSION PG_VERSION
  local dir=$work/npm/$1
  mkdir -p "$dir"
  (cd "$work/npm" && npm pack "$1@$2" --silent >/dev/null)
  tar xzf "$work/npm/$1-$2.tgz" -C "$dir" --strip-components=1
  [ -d "$dir/test" ] || { echo "driver_suites.sh: $1@$2 has no test/ directory" >&2; exit 1; }
  (cd "$dir" && npm install --ignore-scripts --no-audit --no-fund --silent >/dev/null &&
     npm install --ignore-scripts --no-audit --no-fund --no-save --silent "pg@$3" >/dev/null)
}
suites=()
if [ "$NODE_SUITES" != 0 ]; then
  say "fetching pg-pool@$PG_POOL_VERSION and pg-cursor@$PG_CURSOR_VERSION with their tests (npm)"
  fetch_suite pg-pool "$PG_POOL_VERSION" "$PG_FOR_POOL"
  fetch_suite pg-cursor "$PG_CURSOR_VERSION" "$PG_FOR_CURSOR"
  suites=(pg-pool pg-cursor)
fi
if [ -n "$NODE_POSTGRES_GIT" ]; then
  say "fetching pg@$PG_SUITE_VERSION (npm) and its test/ tree (git tag pg@$PG_SUITE_VERSION)"
  pgdir=$work/npm/pg
  mkdir -p "$pgdir"
  (cd "$work/npm" && npm pack "pg@$PG_SUITE_VERSION" --silent >/dev/null)
  tar xzf "$work/npm/pg-$PG_SUITE_VERSION.tgz" -C "$pgdir" --strip-components=1
  git --git-dir="$NODE_POSTGRES_GIT" archive "pg@$PG_SUITE_VERSION:packages/pg" test | tar x -C "$pgdir"
  # The tests' JavaScript devDependencies only (no TypeScript, Cloudflare or vitest: their tests
  # are not the integration suite); the runtime dependencies as the published package.json says.
  (cd "$pgdir" && node -e '
     const fs = require("fs"), p = JSON.parse(fs.readFileSync("package.json"));
     const keep = ["async", "bluebird", "co", "pg-copy-streams"], dev = {};
     for (const k of keep) dev[k] = p.devDependencies[k];
     p.devDependencies = dev; delete p.optionalDependencies;
     fs.writeFileSync("package.json", JSON.stringify(p, null, 2));' &&
   npm install --ignore-scripts --no-audit --no-fund --silent >/dev/null &&
   npm ls --depth=0 >"$out/pg.versions.txt" 2>&1 || true)
  suites+=(pg)
fi

port_of[direct]=$PGOPT_PRIMARY_PORT
for mode in session transaction; do start_pgopt "$mode"; start_pgbouncer "$mode"; done
targets=(direct pgopt-session pgbouncer-session pgopt-transaction pgbouncer-transaction)

for suite in "${suites[@]}"; do
  if [ "$suite" = pg ]; then
    for target in "${targets[@]}"; do
      say "pg (node-postgres's own suite) through $target (port ${port_of[$target]})"
      # One node process per test file, each bounded (FILE_TIMEOUT, 60 s; the runner kills it), the
      # run by TOTAL_TIMEOUT (SUITE_TIMEOUT * 2); `timeout` is only a backstop.
      TOTAL_TIMEOUT=$((SUITE_TIMEOUT * 2)) timeout $((SUITE_TIMEOUT * 2 + 120)) "$PY" "$root/bench/driver_suites_nodepg_run.py" "$target" "${port_of[$target]}" \
        "$work/npm/pg" "$work/pg" || true
      cp "$work/pg/$target.log" "$out/pg.$target.log" 2>/dev/null || true
      if [ -s "$work/pg/$target.xml" ]; then cp "$work/pg/$target.xml" "$out/pg.$target.xml"
      else echo "driver_suites.sh: pg through $target wrote no report (see $out/pg.$target.log)" >&2; fi
    done
    continue
  fi
  for target in "${targets[@]}"; do
    say "$suite through $target (port ${port_of[$target]})"
    (cd "$work/npm/$suite" &&
       PGHOST=127.0.0.1 PGPORT=${port_of[$target]} PGUSER=trust_user PGDATABASE=pgopt_test \
       timeout "$SUITE_TIMEOUT" node_modules/.bin/mocha --reporter xunit \
         --reporter-options "output=$out/$suite.$target.xml" >"$out/$suite.$target.log" 2>&1) || true
    [ -s "$out/$suite.$target.xml" ] || echo "driver_suites.sh: $suite through $target wrote no report (see $out/$suite.$target.log)" >&2
  done
done
if [ -n "$PSYCOPG_SUITE" ]; then
  for target in "${targets[@]}"; do
    say "psycopg through $target (port ${port_of[$target]})"
    # Bounded inside (timeout 420); its pytest exit status is the tests', not ours.
    bash "$root/bench/driver_suites_psycopg_run.sh" "$target" "${port_of[$target]}" "$PSYCOPG_SUITE" "$work/psycopg" || true
    cp "$work/psycopg/$target.log" "$out/psycopg.$target.log"
    if [ -s "$work/psycopg/$target.xml" ]; then cp "$work/psycopg/$target.xml" "$out/psycopg.$target.xml"
    else echo "driver_suites.sh: psycopg through $target wrote no report (see $out/psycopg.$target.log)" >&2; fi
  done
  suites+=(psycopg)
fi

SUITES="${suites[*]}" "$PY" - "$out" "${targets[@]}" <<'PY'
import sys, os, xml.etree.ElementTree as ET
out, targets = sys.argv[1], sys.argv[2:]
suites = os.environ["SUITES"].split()
res = {}
for s in suites:
    for t in targets:
        path = os.path.join(out, f"{s}.{t}.xml")
        cases = {}
        try:
            for tc in ET.parse(path).getroot().iter("testcase"):
                name = tc.get("classname", "") + " :: " + tc.get("name", "")
                f = tc.find("failure")
                if f is None:
                    f = tc.find("error")  # pytest: an error in a fixture (setup or teardown)
                if f is not None:
                    cases[name] = ("error" if f.tag == "error" else "failed", (f.get("message") or f.text or "").strip().splitlines()[0][:160] if (f.get("message") or f.text) else "")
                elif tc.find("skipped") is not None:
                    cases[name] = ("pending", "")
                else:
                    cases[name] = ("passed", "")
        except (OSError, ET.ParseError) as e:
            cases = None
        res[(s, t)] = cases
lines = ["# Driver suites through pgopt", "", "| suite | target | passed | failed | errors | pending |",
         "|---|---|---|---|---|---|"]
for s in suites:
    for t in targets:
        c = res[(s, t)]
        if c is None:
            lines.append(f"| {s} | {t} | - | no report | - | - |")
            continue
        n = lambda k: sum(1 for v in c.values() if v[0] == k)
        lines.append(f"| {s} | {t} | {n('passed')} | {n('failed')} | {n('error')} | {n('pending')} |")
lines += ["", "## Failures through a pooler", "",
          "| suite | target | test | direct | PgBouncer, same mode | error |", "|---|---|---|---|---|---|"]
for s in suites:
    for t in targets:
        if not t.startswith("pgopt") or res[(s, t)] is None:
            continue
        mode = t.split("-", 1)[1]
        for name, (status, msg) in sorted(res[(s, t)].items()):
            if status not in ("failed", "error"):
                continue
            d = (res[(s, "direct")] or {}).get(name, ("?",))[0]
            b = (res[(s, "pgbouncer-" + mode)] or {}).get(name, ("?",))[0]
            lines.append(f"| {s} | {t} | {name} | {d} | {b} | {msg.replace('|', '/')} |")
open(os.path.join(out, "summary.md"), "w").write("\n".join(lines) + "\n")
print("\n".join(lines))
PY
say "reports in $out (work dir $work)"
