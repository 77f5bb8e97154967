#!/usr/bin/env bash
# The result cache on a read-mostly workload (issue 21): direct, through pgopt without the cache,
# through pgopt with the cache and logical-decoding invalidation; and the staleness after writes
# that bypass the pooler.
#
#   bench/cache_bench.sh [--duration S] [--rounds N] [--clients N] [--writes N]
#
# 1. starts its own PostgreSQL 15 primary (scripts/cluster.sh, wal_level = logical; stopped on exit),
#    a `products` table of 100,000 rows and an `orders` table, and CREATE PUBLICATION pgopt_cache;
# 2. starts two `pgopt pool` processes (transaction mode, trust auth): `nocache`, and `cache` with
#    [cache] enabled, invalidation = "logical" and a rule for `products` (ttl 60 s);
# 3. runs two pgbench custom scripts, CLIENTS clients, -j 2, -M simple, DURATION seconds each, against
#    direct, nocache and cache, alternating targets (ROUNDS rounds):
#      hot-1pct-same:  99% SELECT of a product row among 1,000 hot ids, 1% UPDATE of a hot product
#                      (the cached table: each write drops every entry of `products`)
#      hot-1pct-other: 99% the same SELECT, 1% INSERT into `orders` (writes to a table no entry reads)
#    per run: TPS, p99 latency (from pgbench's per-transaction log), and for `cache` the hit rate
#    (SHOW CACHE's hits and misses before and after the run);
# 4. the staleness probe (bench/cache_staleness.py): WRITES direct UPDATEs of a cached row, each
#    followed by reads through the cache pooler until the new value is seen: p50/p99/max in ms;
# 5. prints a Markdown report (also WORK_DIR/report.md).
#
# Options (each also an environment variable): --duration DURATION (default 20), --rounds ROUNDS
# (default 2), --clients CLIENTS (default 16), --writes WRITES (default 200), --work-dir WORK_DIR,
# PGOPT_BIN (default build/pgopt). About 2 x 3 x ROUNDS x (DURATION + 2) s plus a minute of setup
# and the probe (~6 min with the defaults). Every process it starts is stopped by PID on exit.
set -euo pipefail

root=$(cd "$(dirname "$0")/.." && pwd)
DURATION=${DURATION:-20}
ROUNDS=${ROUNDS:-2}
CLIENTS=${CLIENTS:-16}
WRITES=${WRITES:-200}
WORK_DIR=${WORK_DIR:-}
PGOPT_BIN=${PGOPT_BIN:-$root/build/pgopt}
while [ $# -gt 0 ]; do
  case "$1" in
    --duration) DURATION=$2; shift 2 ;;
    --rounds) ROUNDS=$2; shift 2 ;;
    --clients) CLIENTS=$2; shift 2 ;;
    --writes) WRITES=$2; shift 2 ;;
    --work-dir) WORK_DIR=$2; shift 2 ;;
    *) echo "cache_bench.sh: unknown option $1" >&2; exit 2 ;;
  esac
done
[ -x "$PGOPT_BIN" ] || { echo "cache_bench.sh: no pgopt binary at $PGOPT_BIN (set PGOPT_BIN)" >&2; exit 1; }
work=${WORK_DIR:-$(mktemp -d /tmp/pgopt-cache-bench.XXXXXX)}
mkdir -p "$work"
chmod 755 "$work"
# shellcheck source=bench/lib.sh
. "$root/bench/lib.sh"
say() { echo "[$(date +%H:%M:%S)] $*" >&2; }
DB=bench

nocache_pid="" cache_pid=""
cleanup() {
  stop_pid "$cache_pid" "pgopt (cache)"
  stop_pid "$nocache_pid" "pgopt (nocache)"
  stop_bench_primary
  return 0
}
trap cleanup EXIT
trap 'exit 130' INT TERM

say "starting a PostgreSQL 15 primary in $work/cluster"
start_bench_primary
PGBENCH=$PGOPT_PG_BIN/pgbench
psql_direct() { "$PGOPT_PG_BIN/psql" -X -q -v ON_ERROR_STOP=1 -h 127.0.0.1 -p "$PGOPT_PRIMARY_PORT" -U postgres "$@"; }
psql_direct -d postgres -c "CREATE DATABASE $DB"
psql_direct -d "$DB" <<'SQL'
CREATE TABLE products (id int PRIMARY KEY, name text NOT NULL, price numeric NOT NULL);
INSERT INTO products SELECT g, 'product ' || g, (g % 100) + 0.99 FROM generate_series(1, 100000) g;
CREATE TABLE orders (id bigserial PRIMARY KEY, product int NOT NULL, at timestamptz NOT NULL DEFAULT now());
CREATE PUBLICATION pgopt_cache FOR ALL TABLES;
VACUUM ANALYZE;
SQL

cat >"$work/hot-1pct-same.sql" <<'SQL'
\set id random(1, 1000)
\set w random(1, 100)
\if :w = 1
UPDATE products SET price = price + 1 WHERE id = :id;
\else
SELECT id, name, price FROM products WHERE id = :id;
\endif
SQL
cat >"$work/hot-1pct-other.sql" <<'SQL'
\set id random(1, 1000)
\set w random(1, 100)
\if :w = 1
INSERT INTO orders (product) VALUES (:id);
\else
SELECT id, name, price FROM products WHERE id = :id;
\endif
SQL

start_one() {  # NAME [cache]: a pgopt process; sets NAME_pid and NAME_port
  local name=$1 port dir; port=$(free_port)
  dir=$work/$name
  mkdir -p "$dir"
  echo '"postgres" ""' >"$dir/users.txt"
  cat >"$dir/pgopt.toml" <<TOML
[pooler]
listen_addr = "127.0.0.1"
listen_port = $port
workers = 2
pool_mode = "transaction"
default_pool_size = 8
auth_type = "trust"
auth_file = "users.txt"
shutdown_timeout = "2s"
admin_users = ["postgres"]

[databases.$DB]
host = "127.0.0.1"
port = $PGOPT_PRIMARY_PORT
TOML
  if [ "${2:-}" = cache ]; then
    cat >>"$dir/pgopt.toml" <<'TOML'

[cache]
enabled = true
invalidation = "logical"
max_memory = "64MB"

[[cache.rules]]
name = "products"
tables = ["products"]
ttl = "60s"
TOML
  fi
  "$PGOPT_BIN" pool --config "$dir/pgopt.toml" >>"$dir/pgopt.log" 2>&1 &
  eval "${name}_pid=$! ${name}_port=$port"
  for _ in $(seq 1 100); do
    "$PGOPT_PG_BIN/psql" -X -At -h 127.0.0.1 -p "$port" -U postgres -d "$DB" -c "SELECT 1" >/dev/null 2>&1 && return 0
    sleep 0.1
  done
  echo "cache_bench.sh: pgopt ($name) did not start; $dir/pgopt.log:" >&2
  tail -20 "$dir/pgopt.log" >&2
  exit 1
}
start_one nocache
start_one cache cache
# shellcheck disable=SC2154
admin_cache() { "$PGOPT_PG_BIN/psql" -X -At -F ' ' -h 127.0.0.1 -p "$cache_port" -U postgres -d pgopt -c "SHOW CACHE"; }
for _ in $(seq 1 150); do
  admin_cache | grep -q "^stream:$DB .* up " && break
  sleep 0.1
done
admin_cache | grep -q "^stream:$DB .* up " || { echo "cache_bench.sh: the change stream did not come up" >&2; admin_cache >&2; exit 1; }
say "the cache pooler's change stream is up"

port_of() {
  case "$1" in direct) echo "$PGOPT_PRIMARY_PORT" ;; nocache) echo "$nocache_port" ;; cache) echo "$cache_port" ;; esac
}
hits_misses() { admin_cache | awk '$1 == "products" { print $4, $5 }'; }

results=$work/results.tsv
printf 'workload\ttarget\tround\ttps\tp99_ms\thit_rate\n' >"$results"
for round in $(seq 1 "$ROUNDS"); do
  for workload in hot-1pct-same hot-1pct-other; do
    for target in direct nocache cache; do
      run=$work/run-$workload-$target-$round
      mkdir -p "$run"
      before=""; [ "$target" = cache ] && before=$(hits_misses)
      (cd "$run" && timeout $((DURATION + 60)) "$PGBENCH" -n -M simple -c "$CLIENTS" -j 2 -T "$DURATION" \
        -f "$work/$workload.sql" -l --log-prefix=tx -h 127.0.0.1 -p "$(port_of "$target")" -U postgres "$DB" \
        >"$run/pgbench.out" 2>&1) || { cat "$run/pgbench.out" >&2; exit 1; }
      tps=$(awk '/^tps = / { printf "%.0f", $3 }' "$run/pgbench.out")
      # Per-transaction log: the third column is the latency in microseconds.
      p99=$(cat "$run"/tx.* | awk '{ print $3 }' | sort -n | awk '{ v[NR] = $1 } END { i = int(NR * 0.99); if (i < 1) i = 1; printf "%.2f", v[i] / 1000 }')
      rm -f "$run"/tx.*
      rate="-"
      if [ "$target" = cache ]; then
        after=$(hits_misses)
        rate=$(echo "$before $after" | awk '{ h = $3 - $1; m = $4 - $2; if (h + m > 0) printf "%.1f%%", 100 * h / (h + m); else print "-" }')
      fi
      printf '%s\t%s\t%s\t%s\t%s\t%s\n' "$workload" "$target" "$round" "$tps" "$p99" "$rate" >>"$results"
      say "$workload $target round $round: $tps TPS, p99 $p99 ms, hit rate $rate"
    done
  done
done

say "staleness probe: $WRITES direct UPDATEs, each read back through the cache pooler"
psql_direct -d "$DB" -c "UPDATE products SET name = 'start' WHERE id = 1"
# The writer with synchronous_commit on (PostgreSQL's default), then off (the bench cluster's
# setting: its commits return before their WAL is flushed, and a walsender only sends flushed WAL).
stale=$(timeout 600 python3 "$root/bench/cache_staleness.py" --pgopt-port "$cache_port" \
  --direct-port "$PGOPT_PRIMARY_PORT" --db "$DB" --writes "$WRITES" --sync-commit on)
say "staleness: $stale"
stale_off=$(timeout 600 python3 "$root/bench/cache_staleness.py" --pgopt-port "$cache_port" \
  --direct-port "$PGOPT_PRIMARY_PORT" --db "$DB" --writes "$WRITES" --sync-commit off)
say "staleness (synchronous_commit off): $stale_off"
lag=$(admin_cache | awk '$1 == "stream:'"$DB"'" { print "last " $(NF-1) " ms, max " $NF " ms" }')

{
  echo "### Result cache, read-mostly (bench/cache_bench.sh)"
  echo
  echo "$CLIENTS clients, -j 2, -M simple, ${DURATION} s per run, $ROUNDS rounds alternating targets; pgopt 2 workers, pool 8; products 100,000 rows, 1,000 hot ids."
  echo
  echo "| workload | target | TPS (median) | p99 ms (median) | hit rate |"
  echo "|---|---|---|---|---|"
  python3 - "$results" <<'PY'
import csv, statistics, sys
rows = list(csv.DictReader(open(sys.argv[1]), delimiter="\t"))
for w in ("hot-1pct-same", "hot-1pct-other"):
    for t in ("direct", "nocache", "cache"):
        rs = [r for r in rows if r["workload"] == w and r["target"] == t]
        if not rs:
            continue
        tps = statistics.median(float(r["tps"]) for r in rs)
        p99 = statistics.median(float(r["p99_ms"]) for r in rs)
        rate = " / ".join(r["hit_rate"] for r in rs)
        print(f"| {w} | {t} | {tps:.0f} | {p99:.2f} | {rate} |")
PY
  echo
  echo "Staleness after direct writes (logical decoding), writer synchronous_commit on: $stale"
  echo
  echo "Writer synchronous_commit off: $stale_off"
  echo
  echo "The stream's own commit-to-invalidation lag at the end: $lag."
} | tee "$work/report.md"
say "raw results in $results, report in $work/report.md"
