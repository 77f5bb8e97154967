#!/usr/bin/env bash
# Instructions per transaction in the pooler's own code (user space), pgopt against PgBouncer, by
# valgrind's callgrind: a count, not a time, so it is the same on a quiet and on a busy machine and
# stands in for hardware counters this VM does not have (issue 16).
#
#   bench/callgrind_relay.sh [--modes "simple extended"] [--clients N] [--txns "N1 N2"] [--cache-sim]
#
# For each pooler and pgbench protocol: two runs of the pooler under callgrind (workers = 1, pool
# size 10, transaction mode, md5), each serving `pgbench -S -c CLIENTS -t T` (T = N1, then N2 per
# client); instructions per transaction = (Ir(N2) - Ir(N1)) / (CLIENTS x (N2 - N1)), so start-up,
# logins and shutdown cancel out. --cache-sim also counts simulated first-level and last-level data
# cache misses per transaction (callgrind's model of this CPU's caches; slower). Starts its own
# PostgreSQL 15 primary (scripts/cluster.sh) and stops everything it started by PID. A few minutes.
# Prints a Markdown table.
set -euo pipefail

root=$(cd "$(dirname "$0")/.." && pwd)
MODES=${MODES:-"simple extended"}
CLIENTS=${CLIENTS:-10}
TXNS=${TXNS:-"200 1200"}
PGOPT_BIN=${PGOPT_BIN:-$root/build/pgopt}
PGBOUNCER_BIN=${PGBOUNCER_BIN:-/usr/sbin/pgbouncer}
while [ $# -gt 0 ]; do
  case "$1" in
    --modes) MODES=$2; shift 2 ;;
    --clients) CLIENTS=$2; shift 2 ;;
    --txns) TXNS=$2; shift 2 ;;
    --cache-sim) CACHE_SIM=1; shift ;;
    -h|--help) sed -n '2,/^set -euo/p' "$0" | sed '$d; s/^# \{0,1\}//'; exit 0 ;;
    *) echo "callgrind_relay.sh: unknown option $1" >&2; exit 2 ;;
  esac
done
read -r N1 N2 <<<"$TXNS"
command -v valgrind >/dev/null || { echo "callgrind_relay.sh: valgrind is not installed" >&2; exit 1; }
[ -x "$PGOPT_BIN" ] || { echo "callgrind_relay.sh: no pgopt at $PGOPT_BIN" >&2; exit 1; }

work=$(mktemp -d /tmp/pgopt-callgrind.XXXXXX)
RUN_USER=pgopt-test
chmod 755 "$work"
PASSWORD=bench-password
DB=bench
pooler_pid="" cluster_started=""
say() { echo "== $*" >&2; }
# shellcheck source=bench/lib.sh
. "$root/bench/lib.sh"
stop_pooler() {
  # Under valgrind a graceful exit takes a while; callgrind writes its counts on the way out.
  stop_pid "$pooler_pid" pooler 600
  pooler_pid=""
}
cleanup() {
  stop_pooler
  stop_bench_primary
  return 0
}
trap cleanup EXIT
trap 'exit 130' INT TERM

say "starting a PostgreSQL 15 primary in $work/cluster"
start_bench_primary
PGBENCH=$PGOPT_PG_BIN/pgbench
"$PGOPT_PG_BIN/psql" -X -q -h 127.0.0.1 -p "$PGOPT_PRIMARY_PORT" -U postgres -d postgres -c "CREATE DATABASE $DB"
"$PGBENCH" -i -q -s 1 -h 127.0.0.1 -p "$PGOPT_PRIMARY_PORT" -U postgres "$DB" >"$work/init.log" 2>&1

# run_pooler NAME TXNS_PER_CLIENT MODE: prints the pooler's total instruction count.
run_pooler() {
  local name=$1 t=$2 mode=$3 port dir out
  port=$(free_port)
  dir=$work/$name-$mode-$t
  mkdir -p "$dir"
  echo "\"postgres\" \"$PASSWORD\"" >"$dir/users.txt"
  out=$dir/callgrind.out
  local cg=(valgrind --tool=callgrind --callgrind-out-file="$out" --trace-children=no)
  [ -z "${CACHE_SIM:-}" ] || cg+=(--cache-sim=yes)
  if [ "$name" = pgopt ]; then
    cat >"$dir/pgopt.toml" <<TOML
[pooler]
listen_addr = "127.0.0.1"
listen_port = $port
workers = 1
pool_mode = "transaction"
default_pool_size = 10
auth_type = "md5"
auth_file = "users.txt"
shutdown_timeout = "2s"

[databases.$DB]
host = "127.0.0.1"
port = $PGOPT_PRIMARY_PORT
TOML
    "${cg[@]}" "$PGOPT_BIN" pool --config "$dir/pgopt.toml" >"$dir/pooler.log" 2>&1 &
  else
    cat >"$dir/pgbouncer.ini" <<INI
[databases]
$DB = host=127.0.0.1 port=$PGOPT_PRIMARY_PORT dbname=$DB
[pgbouncer]
listen_addr = 127.0.0.1
listen_port = $port
unix_socket_dir =
auth_type = md5
auth_file = $dir/users.txt
pool_mode = transaction
default_pool_size = 10
logfile = $dir/pgbouncer.log
ignore_startup_parameters = extra_float_digits
INI
    if [ "$(id -u)" -eq 0 ]; then
      chown -R "$RUN_USER" "$dir"
      setpriv --reuid="$RUN_USER" --regid="$RUN_USER" --init-groups -- "${cg[@]}" "$PGBOUNCER_BIN" "$dir/pgbouncer.ini" \
        >"$dir/pooler.log" 2>&1 &
    else
      "${cg[@]}" "$PGBOUNCER_BIN" "$dir/pgbouncer.ini" >"$dir/pooler.log" 2>&1 &
    fi
  fi
  pooler_pid=$!
  for _ in $(seq 1 600); do
    "$PGOPT_PG_BIN/pg_isready" -q -h 127.0.0.1 -p "$port" -d "$DB" -U postgres && break
    kill -0 "$pooler_pid" 2>/dev/null || { echo "callgrind_relay.sh: $name exited; $dir/pooler.log" >&2; exit 1; }
    sleep 0.1
  done
  PGPASSWORD=$PASSWORD timeout 600 "$PGBENCH" -n -S -M "$mode" -c "$CLIENTS" -j 1 -t "$t" -h 127.0.0.1 -p "$port" \
    -U postgres "$DB" >"$dir/pgbench.out" 2>&1 || { echo "callgrind_relay.sh: pgbench failed; $dir" >&2; exit 1; }
  stop_pooler
  # Ir, or with --cache-sim "Ir I1-misses D1-misses LL-data-misses" (events: Ir Dr Dw I1mr D1mr D1mw
  # ILmr DLmr DLmw).
  awk -v sim="${CACHE_SIM:-}" '/^(summary|totals):/ {if (sim) print $2, $5, $6 + $7, $9 + $10; else print $2; exit}' "$out"
}

per_txn() { awk -v a="$1" -v b="$2" -v c="$CLIENTS" -v n1="$N1" -v n2="$N2" 'BEGIN{printf "%.1f", (b - a) / (c * (n2 - n1))}'; }
if [ -n "${CACHE_SIM:-}" ]; then
  echo "| pooler | pgbench | instructions per transaction | I1 misses | D1 misses | LL data misses |"
  echo "| --- | --- | ---: | ---: | ---: | ---: |"
else
  echo "| pooler | pgbench | Ir at $N1 txns/client | Ir at $N2 txns/client | instructions per transaction |"
  echo "| --- | --- | ---: | ---: | ---: |"
fi
for mode in $MODES; do
  for name in pgopt pgbouncer; do
    read -r a a_i1 a_d1 a_ll <<<"$(run_pooler "$name" "$N1" "$mode")"
    read -r b b_i1 b_d1 b_ll <<<"$(run_pooler "$name" "$N2" "$mode")"
    per=$(per_txn "$a" "$b"); per=${per%.*}
    if [ -n "${CACHE_SIM:-}" ]; then
      echo "| $name | -S -M $mode, $CLIENTS clients | $per | $(per_txn "$a_i1" "$b_i1") | $(per_txn "$a_d1" "$b_d1") | $(per_txn "$a_ll" "$b_ll") |"
    else
      echo "| $name | -S -M $mode, $CLIENTS clients | $a | $b | $per |"
    fi
  done
done
say "callgrind outputs in $work"
