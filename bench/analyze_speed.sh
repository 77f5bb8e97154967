#!/usr/bin/env bash
# Speed of `pgopt analyze` on a >= 1 GB real log against pgBadger on the same file.
#
#   bench/analyze_speed.sh [WORK_DIR]        (default: a fresh /tmp/pgopt-analyze-speed.XXXXXX)
#
# 1. starts a throw-away cluster (scripts/cluster.sh), logs every statement
#    (log_min_duration_statement = 0, log_line_prefix '%m [%p] %q%u@%d '), runs pgbench (simple and
#    extended protocol) plus a few multi-line reporting queries, dumps the schema, stops the cluster;
# 2. repeats that real log until it is >= TARGET_MB (default 1024) MB;
# 3. times, on that file (elapsed and peak RSS from /usr/bin/time -v, best of 3 for ours):
#    `pgopt analyze --schema ... --format json` (the whole pipeline: reading, grouping, advice)
#    with --jobs 1 and --jobs 2; bench_log_reader (the input side alone) with --jobs 1 and 2; and
#    Debian's pgbadger -j 1 once (about 6 minutes for 1 GB). PGBADGER_MB=N runs pgBadger on an
#    N MB slice instead (and our reader on the same slice), for a quick run. A WORK_DIR that already
#    holds real.log and schema.sql skips step 1 (re-timing on a quieter machine);
# 4. prints a Markdown table for docs/benchmarks.md.
# About 10 minutes on the 2-core development machine (4 with PGBADGER_MB=64).
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
work=${1:-$(mktemp -d /tmp/pgopt-analyze-speed.XXXXXX)}
mkdir -p "$work"
TARGET_MB=${TARGET_MB:-1024}
PGBADGER_MB=${PGBADGER_MB:-0}  # 0: pgBadger reads the whole file
PGBENCH_SECONDS=${PGBENCH_SECONDS:-20}
build=${BUILD_DIR:-$root/build-analyze-speed-release}
prefix='%m [%p] %q%u@%d '

echo "== building pgopt and bench_log_reader in $build" >&2
# An existing build directory is used as configured (e.g. a developer's RelWithDebInfo tree).
if ! { { [ -f "$build/CMakeCache.txt" ] || cmake -S "$root" -B "$build" -DCMAKE_BUILD_TYPE=Release -DPGOPT_TESTS=OFF; } &&
       cmake --build "$build" --target pgopt bench_log_reader -j"$(nproc)"; } >"$work/build.log" 2>&1; then
  tail -40 "$work/build.log" >&2
  exit 1
fi
reader=$build/bench/bench_log_reader
pgopt=$build/pgopt
build_type=$(awk -F= '/^CMAKE_BUILD_TYPE:/ {print $2}' "$build/CMakeCache.txt")

if [ -f "$work/real.log" ] && [ -f "$work/schema.sql" ]; then
  echo "== reusing $work/real.log (remove it to record a new workload)" >&2
else
cluster=$work/cluster
stop_cluster() { bash "$root/scripts/cluster.sh" stop "$cluster" >/dev/null 2>&1 || true; }
trap stop_cluster EXIT
echo "== starting a cluster and running the workload (${PGBENCH_SECONDS}s of pgbench)" >&2
bash "$root/scripts/cluster.sh" start "$cluster" >/dev/null
# shellcheck disable=SC1091
. "$cluster/env"
psql_() { bash "$root/scripts/cluster.sh" psql "$cluster" primary -q -v ON_ERROR_STOP=1 "$@"; }
psql_ -d postgres -c "ALTER SYSTEM SET log_min_duration_statement = 0" -c "SELECT pg_reload_conf()" >/dev/null
pgb() { runuser -u pgopt-test -- env PGHOST=127.0.0.1 PGPORT="$PGOPT_PRIMARY_PORT" PGUSER=postgres \
          "$PGOPT_PG_BIN/pgbench" "$@" "$PGOPT_TEST_DB"; }
if [ "$(id -u)" -ne 0 ]; then pgb() { env PGHOST=127.0.0.1 PGPORT="$PGOPT_PRIMARY_PORT" PGUSER=postgres \
          "$PGOPT_PG_BIN/pgbench" "$@" "$PGOPT_TEST_DB"; }; fi
pgb -i -q -s 5 >/dev/null 2>&1
half=$((PGBENCH_SECONDS / 2))
pgb -n -c 4 -j 2 -T "$half" -M simple >/dev/null 2>&1
pgb -n -c 4 -j 2 -T "$((PGBENCH_SECONDS - half))" -M extended >/dev/null 2>&1
for i in $(seq 1 200); do
  cat <<SQL
SELECT a.bid, count(*), sum(a.abalance)
  FROM pgbench_accounts a
  JOIN pgbench_branches b ON b.bid = a.bid
 WHERE a.aid BETWEEN $((i * 100)) AND $((i * 100 + 500))
 GROUP BY a.bid
 ORDER BY 2 DESC;
SELECT * FROM pgbench_history WHERE tid = $((i % 50 + 1)) AND mtime > now() - interval '1 hour' LIMIT 5;
SQL
done | psql_ -d "$PGOPT_TEST_DB" >/dev/null
psql_ -d postgres -c "ALTER SYSTEM RESET log_min_duration_statement" -c "SELECT pg_reload_conf()" >/dev/null
cp "$PGOPT_DATA_DIR/primary.log" "$work/real.log"
"$PGOPT_PG_BIN/pg_dump" -s -h 127.0.0.1 -p "$PGOPT_PRIMARY_PORT" -U postgres "$PGOPT_TEST_DB" >"$work/schema.sql"
stop_cluster
trap - EXIT

fi
real_mb=$(( $(stat -c %s "$work/real.log") / 1000000 ))
echo "== real log: $(stat -c %s "$work/real.log") bytes; repeating it to >= ${TARGET_MB} MB" >&2
big=$work/big.log
: >"$big"
while [ "$(stat -c %s "$big")" -lt $((TARGET_MB * 1000000)) ]; do cat "$work/real.log" >>"$big"; done
size=$(stat -c %s "$big")
rm -f "$work/slice.log"  # may be a link to big.log from an earlier run
if [ "$PGBADGER_MB" -gt 0 ]; then
  head -c $((PGBADGER_MB * 1000000)) "$big" | sed '$d' >"$work/slice.log"  # whole lines only
else
  ln -sf "$big" "$work/slice.log"
fi
slice_size=$(stat -L -c %s "$work/slice.log")
cat "$big" "$work/slice.log" >/dev/null  # warm the page cache: every tool reads from memory

# run LABEL FILE REPEATS CMD...: best elapsed seconds of REPEATS runs and peak RSS (KB), from
# /usr/bin/time -v. The machine may be shared: the best run is the least disturbed one.
run() {
  local label=$1 file=$2 repeats=$3; shift 3
  local best="" rss=0 secs r
  for _ in $(seq 1 "$repeats"); do
    /usr/bin/time -v -o "$work/time.$label" "$@" >"$work/out.$label" 2>&1
    secs=$(awk -F': ' '/Elapsed \(wall clock\)/ {n=split($2,t,":"); s=0; for(i=1;i<=n;i++) s=s*60+t[i]; print s}' "$work/time.$label")
    r=$(awk -F': ' '/Maximum resident set size/ {print $2}' "$work/time.$label")
    [ "$r" -gt "$rss" ] && rss=$r
    if [ -z "$best" ] || awk -v a="$secs" -v b="$best" 'BEGIN{exit !(a<b)}'; then best=$secs; fi
  done
  local bytes; bytes=$(stat -L -c %s "$file")
  printf '%s %s %s %s\n' "$label" "$best" "$rss" "$bytes" >>"$work/results"
  echo "   $label: best of $repeats ${best}s, $(awk -v b="$bytes" -v s="$best" 'BEGIN{printf "%.1f", b/1e6/s}') MB/s, peak RSS $((rss / 1024)) MB" >&2
}
: >"$work/results"
echo "== timing" >&2
analyze=("$pgopt" analyze --schema "$work/schema.sql" --format json -o "$work/report.json")
run analyze_j1 "$big" 3 "${analyze[@]}" --jobs 1 "$big"
run analyze_j2 "$big" 3 "${analyze[@]}" --jobs 2 "$big"
run ours_j1 "$big" 3 "$reader" --jobs 1 "$big"
run ours_j2 "$big" 3 "$reader" --jobs 2 "$big"
[ "$PGBADGER_MB" -gt 0 ] && run ours_slice "$work/slice.log" 3 "$reader" --jobs 1 "$work/slice.log"
run pgbadger_slice "$work/slice.log" 1 pgbadger -j 1 -q -f stderr --prefix "$prefix" \
  -o "$work/pgbadger.html" "$work/slice.log"
[ "$PGBADGER_MB" -gt 0 ] || cp "$work/results" "$work/results.tmp"
[ "$PGBADGER_MB" -gt 0 ] || awk '$1 == "ours_j1" {$1 = "ours_slice"; print}' "$work/results.tmp" >>"$work/results"
report_stmts=$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["summary"]["statements"])' "$work/report.json")

stmts=$(awk '/^statements:/ {print $2}' "$work/out.ours_j1")
fps=$(awk '/^fingerprints:/ {print $2}' "$work/out.ours_j1")
j2stmts=$(awk '/^statements:/ {print $2}' "$work/out.ours_j2")
[ "$stmts" = "$j2stmts" ] || echo "WARNING: --jobs 2 counted $j2stmts statements, --jobs 1 $stmts" >&2
[ "$stmts" = "$report_stmts" ] || echo "WARNING: pgopt analyze reported $report_stmts statements, the reader $stmts" >&2

mbs() { awk -v l="$1" '$1==l {printf "%.1f", $4/1e6/$2}' "$work/results"; }
secs() { awk -v l="$1" '$1==l {print $2}' "$work/results"; }
rss() { awk -v l="$1" '$1==l {printf "%d", $3/1024}' "$work/results"; }
ratio() { awk -v a="$(mbs "$1")" -v b="$(mbs "$2")" 'BEGIN{printf "%.1f", a/b}'; }
cat <<MD
Build: $build_type. Machine: $(nproc) cores, $(lscpu | awk -F': *' '/Model name/ {print $2; exit}'), $(free -g | awk '/Mem:/ {print $2}') GB RAM.
Log: ${real_mb} MB real PostgreSQL 15 stderr log (pgbench simple + extended protocol, multi-line
reporting queries; log_min_duration_statement = 0, prefix \`$prefix\`) repeated to $((size / 1000000)) MB;
$stmts statements, $fps fingerprints. Page cache warm for every run.

| run | input | time (s, best of 3 for ours) | MB/s | peak RSS (MB) |
| --- | --- | ---: | ---: | ---: |
| \`pgopt analyze --jobs 1\` (whole pipeline) | $((size / 1000000)) MB | $(secs analyze_j1) | $(mbs analyze_j1) | $(rss analyze_j1) |
| \`pgopt analyze --jobs 2\` (whole pipeline) | $((size / 1000000)) MB | $(secs analyze_j2) | $(mbs analyze_j2) | $(rss analyze_j2) |
| \`bench_log_reader --jobs 1\` | $((size / 1000000)) MB | $(secs ours_j1) | $(mbs ours_j1) | $(rss ours_j1) |
| \`bench_log_reader --jobs 2\` | $((size / 1000000)) MB | $(secs ours_j2) | $(mbs ours_j2) | $(rss ours_j2) |
| \`pgbadger -j 1\` ($(pgbadger --version | awk '{print $3}')) | $((slice_size / 1000000)) MB | $(secs pgbadger_slice) | $(mbs pgbadger_slice) | $(rss pgbadger_slice) |

\`pgopt analyze\` with one job: $(ratio analyze_j1 pgbadger_slice)x pgBadger's throughput; --jobs 2 over --jobs 1:
$(ratio analyze_j2 analyze_j1)x (the reader alone: $(ratio ours_j2 ours_j1)x). Reader alone vs pgBadger on the same input: $(ratio ours_slice pgbadger_slice)x.
MD
echo "== work files in $work (big.log is $((size / 1000000)) MB: remove it when done)" >&2
