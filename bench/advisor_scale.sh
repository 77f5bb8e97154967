#!/usr/bin/env bash
# Advisor scale benchmark (issue 17, 5): how long `pgopt analyze` takes to choose indexes for
# thousands of statement groups, with how much memory and how many what-if costings, and how its
# advice compares with another build's (e.g. the exhaustive search before the lazy one).
#
#   bench/advisor_scale.sh [WORK_DIR]     (default: a fresh /tmp/pgopt-advisor-scale.XXXXXX)
#   SIZES="4 10 100"    tables per run; 50 statement groups per table (default "4 10 100")
#   JOBS=2              pgopt analyze --jobs (HypoPG connections)
#   PGOPT=...           the pgopt to measure (default build/pgopt)
#   BASELINE=...        another pgopt to run on the same workloads (default none)
#   BASELINE_SIZES="4"  sizes the baseline runs on (it may take hours on large ones)
#   TIMEOUT=1800        seconds before a run is given up
#
# Starts a throw-away PostgreSQL 15 cluster (scripts/cluster.sh) in WORK_DIR; per size, a database
# of SIZE tables (bench/advisor_scale/generate.py schema), VACUUM ANALYZE, hypopg; the workload is
# a .sql file of statements (generate.py workload). Each binary runs twice per size: with its
# defaults (--max-indexes 20) and unbounded (--max-indexes 100000), under /usr/bin/time -v.
# Prints a Markdown table: groups, candidates, what-if calls, requests, workload cost before and
# after, indexes, seconds, peak RSS.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
work=${1:-$(mktemp -d /tmp/pgopt-advisor-scale.XXXXXX)}
mkdir -p "$work"
work=$(cd "$work" && pwd)
SIZES=${SIZES:-4 10 100}
JOBS=${JOBS:-2}
PGOPT=${PGOPT:-$root/build/pgopt}
BASELINE=${BASELINE:-}
BASELINE_SIZES=${BASELINE_SIZES:-4}
TIMEOUT=${TIMEOUT:-1800}
gen=$root/bench/advisor_scale/generate.py

cluster=$work/cluster
stop_cluster() { bash "$root/scripts/cluster.sh" stop "$cluster" >/dev/null 2>&1 || true; }
trap stop_cluster EXIT
bash "$root/scripts/cluster.sh" start "$cluster" >/dev/null
# shellcheck disable=SC1091
. "$cluster/env"
psql_() { psql -X -q -v ON_ERROR_STOP=1 -h 127.0.0.1 -p "$PGOPT_PRIMARY_PORT" -U postgres "$@"; }

run() {  # BIN LABEL SIZE ARGS...
  local bin=$1 label=$2 n=$3; shift 3
  local tag="$label-$n-$*"; tag=${tag// /_}
  local dsn="host=127.0.0.1 port=$PGOPT_PRIMARY_PORT user=postgres dbname=scale$n"
  if ! timeout "$TIMEOUT" /usr/bin/time -v "$bin" analyze --db "$dsn" --jobs "$JOBS" --format json "$@" \
      "$work/w$n.sql" >"$work/$tag.json" 2>"$work/$tag.time"; then
    echo "| $label | $n | ${*:-defaults} | did not finish in $TIMEOUT s |"
    return
  fi
  python3 - "$work/$tag.json" "$work/$tag.time" "$label" "$n" "${*:-defaults}" <<'PY'
import json, re, sys
a = json.load(open(sys.argv[1])); t = open(sys.argv[2]).read(); s = a["summary"]
el = re.search(r"Elapsed.*: (\S+)", t).group(1).split(":")
secs = sum(float(x) * 60 ** i for i, x in enumerate(reversed(el)))
rss = int(re.search(r"Maximum resident set size \(kbytes\): (\d+)", t).group(1)) / 1024
print(f"| {sys.argv[3]} | {sys.argv[4]} tables, {s['groups']} groups | {sys.argv[5]} | {s['candidates']} | "
      f"{s.get('what_if_calls', '-')} | {s['what_if_evaluations']:,} | "
      f"{s['workload_cost_before']:,.0f} | {s['workload_cost_after']:,.0f} | {len(a['recommendations'])} | "
      f"{secs:.1f} | {rss:.0f} |")
PY
}

echo "| pgopt | workload | options | candidates | what-if calls | requests | cost before | cost after | indexes | seconds | peak RSS MB |"
echo "|---|---|---|---|---|---|---|---|---|---|---|"
for n in $SIZES; do
  psql_ -d postgres -c "CREATE DATABASE scale$n"
  python3 "$gen" schema "$n" | psql_ -d "scale$n" >/dev/null
  psql_ -d "scale$n" -c "VACUUM ANALYZE" -c "CREATE EXTENSION hypopg"
  python3 "$gen" workload "$n" $((n * 50)) >"$work/w$n.sql"
  for args in "" "--max-indexes 100000"; do
    # shellcheck disable=SC2086
    run "$PGOPT" new "$n" $args
    if [ -n "$BASELINE" ] && [[ " $BASELINE_SIZES " == *" $n "* ]]; then
      # shellcheck disable=SC2086
      run "$BASELINE" baseline "$n" $args
    fi
  done
done
echo
echo "load average at the end: $(cut -d' ' -f1-3 /proc/loadavg); $(nproc) CPUs"
