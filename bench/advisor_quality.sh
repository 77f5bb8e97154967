#!/usr/bin/env bash
# Advisor quality benchmark: how good are pgopt's indexes for a workload it has only seen in a log?
#
#   bench/advisor_quality.sh [WORK_DIR]          (default: a fresh /tmp/pgopt-advisor-quality.XXXXXX)
#   BUILD_DIR=...        build directory (default build-advisor-quality, Release; an existing one is
#                        used as configured)
#   SCALE=N              data scale (default 1: 5.8M rows, ~700 MB)
#   LOG_TRANSACTIONS=N   statements in the logged run (default 2000)
#   TIMED_SECONDS=N      length of each timed run (default 60)
#   PGOPT_ARGS="..."     extra options for pgopt analyze (default none: its defaults)
#   WORKLOAD=NAME        the inputs under bench/ (default advisor_quality; advisor_quality_shapes is
#                        the second workload: views, schemas, a partitioned table, CTEs, jsonb)
#   VERIFY=0|1           also run `pgopt analyze --verify` on a staging copy of the loaded database
#                        and measure the set it keeps as the configuration `verified` (default 1)
#
# 1. starts a throw-away PostgreSQL 15 cluster (scripts/cluster.sh) in WORK_DIR, loads
#    bench/advisor_quality/schema.sql (primary keys only) and the seeded data.sql, VACUUM ANALYZE;
# 2. runs the workload (bench/advisor_quality/templates.sql: 31 templates, one pgbench script each,
#    by weight, fixed random seed) with log_min_duration_statement = 0 and keeps that log;
# 3. three configurations, each on a fresh copy of the loaded database:
#      none    primary keys only
#      single  plus one single-column index per column the templates filter or join on
#      expert  plus the hand-built set in the workload's expert.sql (only when it has one)
#      pgopt   plus what `pgopt analyze --db ... LOG --format sql` recommends (HypoPG, defaults)
#      verified  plus what `pgopt analyze --db ... --verify STAGING` keeps after building each
#              recommendation on a copy of the loaded database and timing its statements (VERIFY=1)
#    For each: VACUUM ANALYZE, then bench_advisor_quality prices the logged workload (EXPLAIN of up
#    to 5 logged samples per statement group x calls, plus the write charge for index maintenance),
#    then a timed pgbench run of the same workload (different seed);
# 4. prints a Markdown summary for docs/benchmarks.md (details in WORK_DIR).
# About 15-20 minutes on the 2-core development machine.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
work=${1:-$(mktemp -d /tmp/pgopt-advisor-quality.XXXXXX)}
mkdir -p "$work"
work=$(cd "$work" && pwd)
build=${BUILD_DIR:-$root/build-advisor-quality}
SCALE=${SCALE:-1}
LOG_TRANSACTIONS=${LOG_TRANSACTIONS:-2000}
TIMED_SECONDS=${TIMED_SECONDS:-60}
CLIENTS=4
src=$root/bench/${WORKLOAD:-advisor_quality}
say() { echo "== $(date +%T) $*" >&2; }

say "building pgopt and bench_advisor_quality in $build"
# An existing build directory is used as configured (e.g. a developer's RelWithDebInfo tree).
if ! { { [ -f "$build/CMakeCache.txt" ] || cmake -S "$root" -B "$build" -DCMAKE_BUILD_TYPE=Release -DPGOPT_TESTS=OFF; } &&
       cmake --build "$build" --target pgopt bench_advisor_quality -j2; } >"$work/build.log" 2>&1; then
  tail -40 "$work/build.log" >&2
  exit 1
fi
pgopt=$build/pgopt
measure=$build/bench/bench_advisor_quality

cluster=$work/cluster
stop_cluster() { bash "$root/scripts/cluster.sh" stop "$cluster" >/dev/null 2>&1 || true; }
trap stop_cluster EXIT
bash "$root/scripts/cluster.sh" start "$cluster" >/dev/null
# shellcheck disable=SC1091
. "$cluster/env"
conn() { echo "host=127.0.0.1 port=$PGOPT_PRIMARY_PORT user=postgres dbname=$1"; }
psql_() { local db=$1; shift; psql -X -q -v ON_ERROR_STOP=1 -h 127.0.0.1 -p "$PGOPT_PRIMARY_PORT" -U postgres -d "$db" "$@"; }

say "loading scale $SCALE (schema.sql, data.sql)"
psql_ postgres -c "CREATE DATABASE aq"
psql_ aq -f "$src/schema.sql"
psql_ aq -v scale="$SCALE" -f "$src/data.sql" >/dev/null
psql_ aq -c "VACUUM ANALYZE" -c "CREATE EXTENSION hypopg"
psql_ postgres -c "CREATE DATABASE aq_base TEMPLATE aq"
psql_ aq -At -c "SELECT pg_size_pretty(pg_database_size('aq')), (SELECT sum(reltuples)::bigint FROM pg_class
                 WHERE relkind = 'r' AND relnamespace = 'public'::regnamespace)" >"$work/data_size"

# One pgbench script per template; the header's weight becomes pgbench's @weight.
mkdir -p "$work/scripts"
awk -v dir="$work/scripts" '
  /^-- template / { name = $3; weight = $5; sub(/:$/, "", weight); file = dir "/" name ".sql"; print name, weight; next }
  file && !/^--/ && NF { print >> file }' "$src/templates.sql" >"$work/weights"
fargs=()
while read -r name weight; do fargs+=(-f "$work/scripts/$name.sql@$weight"); done <"$work/weights"
pgb() {  # DB ARGS...
  local db=$1; shift
  pgbench -n -h 127.0.0.1 -p "$PGOPT_PRIMARY_PORT" -U postgres -c "$CLIENTS" -j 2 -D sc="$SCALE" "${fargs[@]}" "$@" "$db"
}

say "logged run: $LOG_TRANSACTIONS statements"
psql_ postgres -c "ALTER DATABASE aq SET log_min_duration_statement = 0"
start=$(stat -c %s "$PGOPT_DATA_DIR/primary.log")
pgb aq -t $((LOG_TRANSACTIONS / CLIENTS)) --random-seed=42 >"$work/logged_run.txt" 2>&1
sleep 1
tail -c +"$((start + 1))" "$PGOPT_DATA_DIR/primary.log" >"$work/workload.log"
psql_ postgres -c "ALTER DATABASE aq RESET log_min_duration_statement"

say "pgopt analyze (HypoPG on the logged database)"
/usr/bin/time -f "%e s, %M KB" -o "$work/pgopt_time" \
  "$pgopt" analyze --db "$(conn aq)" ${PGOPT_ARGS:-} --format sql -o "$work/pgopt.sql" "$work/workload.log"
"$pgopt" analyze --db "$(conn aq)" ${PGOPT_ARGS:-} --format markdown -o "$work/pgopt_report.md" "$work/workload.log"
"$pgopt" analyze --db "$(conn aq)" ${PGOPT_ARGS:-} --format json -o "$work/pgopt_report.json" "$work/workload.log"
grep '^CREATE INDEX' "$work/pgopt.sql" >"$work/ddl.pgopt" || true
"$measure" single-column --db "$(conn aq_base)" --templates "$src/templates.sql" >"$work/ddl.single"
: >"$work/ddl.none"
configs="none single pgopt"
if [ -f "$src/expert.sql" ]; then
  grep -v '^--' "$src/expert.sql" | grep . >"$work/ddl.expert"
  configs="none single expert pgopt"
fi

if [ "${VERIFY:-1}" = 1 ]; then
  say "pgopt analyze --verify on a staging copy of the loaded database"
  psql_ postgres -c "CREATE DATABASE aq_stage TEMPLATE aq_base"
  /usr/bin/time -f "%e s, %M KB" -o "$work/verify_time" \
    "$pgopt" analyze --db "$(conn aq)" --verify "$(conn aq_stage)" ${PGOPT_ARGS:-} --format json \
    -o "$work/pgopt_verified.json" "$work/workload.log"
  psql_ postgres -c "DROP DATABASE aq_stage"
  # The kept recommendations' CREATE INDEX lines (a partitioned table's ON ONLY and per-partition
  # ones, as for the pgopt configuration), and a one-line account of what --verify measured.
  python3 - "$work/pgopt_verified.json" "$work/ddl.verified" "$work/verify_summary" <<'PY'
import json, sys
report = json.load(open(sys.argv[1]))
recs, dropped = report.get("recommendations", []), report.get("verify_dropped", [])
with open(sys.argv[2], "w") as out:
    for r in recs:
        for line in r["ddl"].splitlines():
            if line.startswith("CREATE INDEX"):
                out.write(line + "\n")
mb = lambda b: b / 1048576
kept = [r for r in recs if r.get("measured", {}).get("verdict") == "keep"]
unmeasured = [r for r in recs if r.get("measured", {}).get("verdict") != "keep"]
est = sum(r.get("estimated_size_bytes", 0) for r in kept if r.get("kind") != "gin")
real = sum(r["measured"].get("real_size_bytes", 0) for r in kept)
real_btree = sum(r["measured"].get("real_size_bytes", 0) for r in kept if r.get("kind") != "gin")
before = sum(r["measured"].get("before_ms", 0) for r in kept)
after = sum(r["measured"].get("after_ms", 0) for r in kept)
lines = [f"--verify kept {len(kept)} recommendations ({sum(r.get('kind') == 'gin' for r in kept)} of them GIN, "
         f"measured only), {len(unmeasured)} stayed unmeasured, {len(dropped)} dropped; kept: real size "
         f"{mb(real):.1f} MB, of which the non-GIN ones {mb(real_btree):.1f} MB (estimated {mb(est):.1f} MB); per-call time of the statements each "
         f"serves, summed over the kept indexes: {before:.2f} ms before, {after:.2f} ms after."]
for d in dropped:
    lines.append(f"- dropped {d['table']} {d['definition']}: {d['measured'].get('reason', '')}")
for r in unmeasured:
    lines.append(f"- unmeasured {r['table']} {r['name']}: {r.get('measured', {}).get('reason', '')}")
open(sys.argv[3], "w").write("\n".join(lines) + "\n")
PY
  configs="$configs verified"
fi

for cfg in $configs; do
  say "configuration $cfg: $(wc -l <"$work/ddl.$cfg") indexes"
  psql_ postgres -c "CREATE DATABASE aq_$cfg TEMPLATE aq_base"
  while read -r ddl; do psql_ "aq_$cfg" -c "${ddl%;}"; done <"$work/ddl.$cfg"
  psql_ "aq_$cfg" -c "VACUUM ANALYZE"
  "$measure" cost --db "$(conn "aq_$cfg")" --templates "$src/templates.sql" --log "$work/workload.log" >"$work/cost.$cfg"
  pgb "aq_$cfg" -T "$TIMED_SECONDS" --random-seed=43 >"$work/timed.$cfg" 2>&1
  psql_ postgres -c "DROP DATABASE aq_$cfg"
done

val() { awk -F= -v k="$2" '$1 == k {print $2}' "$work/cost.$1"; }
tps() { awk '/^tps = / {printf "%.1f", $3}' "$work/timed.$1"; }
lat() { awk '/^latency average/ {printf "%.1f", $4}' "$work/timed.$1"; }
txs() { awk '/^number of transactions actually processed/ {print $NF}' "$work/timed.$1"; }
# Mean latency of the non-trap templates, weighted by template weight (the traps' seconds-long
# scans occupy clients and dominate tps whatever the indexes).
nontrap_lat() {
  awk -v w="$work/weights" -v t="$src/templates.sql" '
    BEGIN { while ((getline l < t) > 0) if (l ~ /^-- template /) { split(l, f, " "); kind[f[3]] = f[4] } }
    /^SQL script/ { n = split($NF, p, "/"); name = p[n]; sub(/\.sql$/, "", name) }
    /^ - weight:/ { weight = $3 }
    /^ - latency average/ && kind[name] != "trap" { sum += weight * $5; ws += weight }
    END { if (ws) printf "%.1f", sum / ws }' "$work/timed.$1"
}
rel() { awk -v a="$1" -v b="$2" 'BEGIN {printf "%.1f%%", 100 * a / b}'; }
mb() { awk -v b="$1" 'BEGIN {printf "%.1f", b / 1048576}'; }
none_total=$(val none total_cost)
none_nontrap=$(val none non_trap_cost)
stmts=$(awk '/actually processed/ {split($NF, n, "/"); print n[1]}' "$work/logged_run.txt")
cat <<MD
Machine: $(nproc) cores, $(lscpu | awk -F': *' '/Model name/ {print $2; exit}'), $(free -g | awk '/Mem:/ {print $2}') GB RAM; PostgreSQL $(psql -V | awk '{print $3}'), HypoPG 1.3.1.
Data: scale $SCALE, $(cut -d'|' -f2 "$work/data_size") rows, $(cut -d'|' -f1 "$work/data_size"). Logged run: $stmts statements from $(wc -l <"$work/weights") templates.
\`pgopt analyze --db ... ${PGOPT_ARGS:-}\` on that log: $(cat "$work/pgopt_time") (wall time, peak RSS).

| configuration | secondary indexes | their size (MB) | est. workload cost | non-trap cost (incl. write charge) | trap cost | write charge | timed run: tps | mean latency (ms) | non-trap mean latency (ms) |
| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |
MD
for cfg in $configs; do
  printf '| %s | %s | %s | %s (%s) | %s (%s) | %s | %s | %s | %s | %s |\n' "$cfg" "$(val "$cfg" secondary_indexes)" \
    "$(mb "$(val "$cfg" secondary_index_bytes)")" "$(val "$cfg" total_cost)" "$(rel "$(val "$cfg" total_cost)" "$none_total")" \
    "$(val "$cfg" non_trap_cost)" "$(rel "$(val "$cfg" non_trap_cost)" "$none_nontrap")" "$(val "$cfg" trap_cost)" \
    "$(val "$cfg" write_charge)" "$(tps "$cfg")" "$(lat "$cfg")" "$(nontrap_lat "$cfg")"
done
ratio=$(awk -v a="$(val single non_trap_cost)" -v b="$(val pgopt non_trap_cost)" 'BEGIN {printf "%.1f", a / b}')
echo
echo "Non-trap cost, single-column set / pgopt: ${ratio}x (target >= 2x) with $(val pgopt secondary_indexes) indexes instead of $(val single secondary_indexes)."
if [ -f "$work/ddl.expert" ]; then
  echo "Non-trap cost, expert set / pgopt: $(awk -v a="$(val expert non_trap_cost)" -v b="$(val pgopt non_trap_cost)" 'BEGIN {printf "%.2f", a / b}')x (target >= 1x), size $(mb "$(val pgopt secondary_index_bytes)") MB vs $(mb "$(val expert secondary_index_bytes)") MB (target: no more)."
fi
if [ -f "$work/verify_summary" ]; then
  echo "\`pgopt analyze --verify\` (staging copy): $(cat "$work/verify_time") (wall time, peak RSS)."
  cat "$work/verify_summary"
  echo "Non-trap cost, single-column set / verified: $(awk -v a="$(val single non_trap_cost)" -v b="$(val verified non_trap_cost)" 'BEGIN {printf "%.1f", a / b}')x with $(val verified secondary_indexes) indexes, $(mb "$(val verified secondary_index_bytes)") MB."
fi
say "details in $work (cost.*, timed.*, ddl.*, pgopt_report.md)"
