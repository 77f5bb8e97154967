#!/bin/bash
# Fleet throughput (issue 20): pgbench -S through N pgopt processes sharing one port (so_reuseport,
# one worker each) against one process with N workers, for N = 1, 2, 4; PgBouncer with 1 and 2
# so_reuseport processes; PostgreSQL directly. Rows alternate within each round, so each sees the
# same machine. Then the cost of forwarding a cancel between two peers (bench/fleet_cancel.py).
#
# Usage: bench/fleet_bench.sh [--rounds 2] [--seconds 15] [--clients 50] [--hogs 0] [--scale 10]
#                             [--work-dir DIR]        (~6 min at the defaults; needs build/pgopt)
#
# Per row and round: TPS, and the poolers' CPU per transaction (user + system time of all their
# processes, from /proc/PID/stat, over the run). Total server connections are the same for every
# row (20): each of N processes gets default_pool_size 20/N. --hogs H runs H busy loops beside the
# pgbench runs (each ended by `timeout`). Everything it starts is stopped by PID.
set -euo pipefail

root=$(cd "$(dirname "$0")/.." && pwd)
PGOPT_BIN=${PGOPT_BIN:-$root/build/pgopt}
PGBOUNCER_BIN=${PGBOUNCER_BIN:-/usr/sbin/pgbouncer}
ROUNDS=2 SECONDS_PER_RUN=15 CLIENTS=50 HOGS=0 SCALE=10 WORK_DIR=""
while [ $# -gt 0 ]; do
  case "$1" in
    --rounds) ROUNDS=$2; shift 2 ;;
    --seconds) SECONDS_PER_RUN=$2; shift 2 ;;
    --clients) CLIENTS=$2; shift 2 ;;
    --hogs) HOGS=$2; shift 2 ;;
    --scale) SCALE=$2; shift 2 ;;
    --work-dir) WORK_DIR=$2; shift 2 ;;
    *) echo "fleet_bench.sh: unknown option $1" >&2; exit 2 ;;
  esac
done
PY=/usr/bin/python3
[ -x "$PGOPT_BIN" ] || { echo "fleet_bench.sh: no $PGOPT_BIN (build first)" >&2; exit 1; }
[ -n "$WORK_DIR" ] || WORK_DIR=$(mktemp -d /tmp/pgopt-fleet-bench.XXXXXX)
mkdir -p "$WORK_DIR"
work=$(cd "$WORK_DIR" && pwd)
chmod 755 "$work"
RUN_USER=pgopt-test PASSWORD=bench-password DB=bench POOL=20
CLK_TCK=$(getconf CLK_TCK)
say() { echo "== $*" >&2; }
# shellcheck source=bench/lib.sh
. "$root/bench/lib.sh"

pids=() hog_pids=() cluster_started=""
stop_all() { local p; for p in "${pids[@]}"; do stop_pid "$p" pooler; done; pids=(); }
cleanup() {
  local p
  for p in "${hog_pids[@]}"; do stop_pid "$p" "cpu hog"; done
  stop_all
  stop_bench_primary
  return 0
}
trap cleanup EXIT
trap 'exit 130' INT TERM

say "starting a PostgreSQL 15 primary (scripts/cluster.sh) in $work/cluster"
start_bench_primary
psql_direct() { "$PGOPT_PG_BIN/psql" -X -q -v ON_ERROR_STOP=1 -h 127.0.0.1 -p "$PGOPT_PRIMARY_PORT" -U postgres "$@"; }
psql_direct -d postgres -c "CREATE DATABASE $DB"
psql_direct -d postgres -c "ALTER SYSTEM SET max_connections = 200" -c "SELECT pg_reload_conf()" >/dev/null
"$PGOPT_PG_BIN/pgbench" -i -q -s "$SCALE" -h 127.0.0.1 -p "$PGOPT_PRIMARY_PORT" -U postgres "$DB" >"$work/init.log" 2>&1
psql_direct -d "$DB" -c "VACUUM ANALYZE"
echo "\"postgres\" \"$PASSWORD\"" >"$work/users.txt"

wait_ready() {  # PID PORT LOG
  for _ in $(seq 1 100); do
    kill -0 "$1" 2>/dev/null || { echo "fleet_bench.sh: exited at start; log $3" >&2; tail -20 "$3" >&2; exit 1; }
    "$PGOPT_PG_BIN/pg_isready" -q -h 127.0.0.1 -p "$2" -d "$DB" -U postgres && return 0
    sleep 0.1
  done
  echo "fleet_bench.sh: not accepting connections on $2; log $3" >&2; exit 1
}

# N pgopt processes with W workers each on port SHARED; own[i] = each one's [peers] address.
own=()
start_pgopt_fleet() {  # N W SHARED
  local n=$1 w=$2 shared=$3 i peers="" dir
  own=()
  for i in $(seq 1 "$n"); do own+=("127.0.0.1:$(free_port)"); peers+="$i = \"${own[$((i - 1))]}\""$'\n'; done
  for i in $(seq 1 "$n"); do
    dir=$work/pgopt-$n-$w-$i
    mkdir -p "$dir"
    cp "$work/users.txt" "$dir/users.txt"
    cat >"$dir/pgopt.toml" <<TOML
[pooler]
listen_addr = "127.0.0.1"
listen_port = $shared
so_reuseport = true
peer_id = $i
workers = $w
pool_mode = "transaction"
default_pool_size = $((POOL / n))
max_client_conn = 1000
auth_type = "md5"
auth_file = "users.txt"
shutdown_timeout = "2s"

[peers]
$peers
[databases.$DB]
host = "127.0.0.1"
port = $PGOPT_PRIMARY_PORT
TOML
    "$PGOPT_BIN" pool --config "$dir/pgopt.toml" >>"$dir/pgopt.log" 2>&1 &
    pids+=($!)
    wait_ready "$!" "${own[$((i - 1))]##*:}" "$dir/pgopt.log"
  done
}
start_pgbouncer_fleet() {  # N SHARED (so_reuseport; Debian's 1.18 has no [peers])
  local n=$1 shared=$2 i dir
  for i in $(seq 1 "$n"); do
    dir=$work/pgbouncer-$n-$i
    mkdir -p "$dir"
    cp "$work/users.txt" "$dir/userlist.txt"
    cat >"$dir/pgbouncer.ini" <<INI
[databases]
$DB = host=127.0.0.1 port=$PGOPT_PRIMARY_PORT dbname=$DB
[pgbouncer]
listen_addr = 127.0.0.1
listen_port = $shared
so_reuseport = 1
unix_socket_dir =
auth_type = md5
auth_file = $dir/userlist.txt
pool_mode = transaction
default_pool_size = $((POOL / n))
max_client_conn = 1000
logfile = $dir/pgbouncer.log
pidfile =
INI
    touch "$dir/pgbouncer.log"
    if [ "$(id -u)" -eq 0 ]; then
      chown -R "$RUN_USER" "$dir"
      setpriv --reuid="$RUN_USER" --regid="$RUN_USER" --init-groups -- "$PGBOUNCER_BIN" "$dir/pgbouncer.ini" \
        >>"$dir/stderr.log" 2>&1 &
    else
      "$PGBOUNCER_BIN" "$dir/pgbouncer.ini" >>"$dir/stderr.log" 2>&1 &
    fi
    pids+=($!)
  done
  wait_ready "${pids[-1]}" "$shared" "$dir/pgbouncer.log"
}
cpu_ticks() {  # user + system ticks of the running pids
  local t=0 p
  for p in "${pids[@]}"; do t=$((t + $(awk '{print $14 + $15}' "/proc/$p/stat"))); done
  echo "$t"
}

label_of() {  # KIND N W
  case "$1" in
    direct) echo "PostgreSQL directly" ;;
    pgopt) echo "pgopt $2 process(es) x $3 worker(s)" ;;
    pgbouncer) echo "PgBouncer $2 process(es)" ;;
  esac
}

# One row: KIND N W; prints "label|tps|cpu_us_per_txn"
run_row() {
  local kind=$1 n=$2 w=$3 port label before after out tps cpu=""
  port=$(free_port)
  label=$(label_of "$kind" "$n" "$w")
  case "$kind" in
    direct) port=$PGOPT_PRIMARY_PORT ;;
    pgopt) start_pgopt_fleet "$n" "$w" "$port" ;;
    pgbouncer) start_pgbouncer_fleet "$n" "$port" ;;
  esac
  before=$(cpu_ticks)
  out=$(PGPASSWORD=$PASSWORD timeout $((SECONDS_PER_RUN + 60)) "$PGOPT_PG_BIN/pgbench" -n -S -M simple \
    -c "$CLIENTS" -j 2 -T "$SECONDS_PER_RUN" -h 127.0.0.1 -p "$port" -U postgres "$DB" 2>&1) ||
    { echo "fleet_bench.sh: pgbench failed for $label: $out" >&2; exit 1; }
  after=$(cpu_ticks)
  tps=$(echo "$out" | awk '/^tps = / {print int($3); exit}')
  if [ "$kind" != direct ]; then
    cpu=$(awk -v d=$((after - before)) -v hz="$CLK_TCK" -v t="$tps" -v s="$SECONDS_PER_RUN" \
      'BEGIN { printf "%.1f", d / hz * 1e6 / (t * s) }')
  fi
  echo "$label|$tps|$cpu"
  stop_all
}

rows=("direct 0 0" "pgopt 1 1" "pgopt 2 1" "pgopt 1 2" "pgopt 4 1" "pgopt 1 4" "pgbouncer 1 0" "pgbouncer 2 0")
if [ "$HOGS" -gt 0 ]; then
  total=$(( (SECONDS_PER_RUN + 15) * ${#rows[@]} * ROUNDS + 120 ))
  for _ in $(seq 1 "$HOGS"); do timeout -k 5 "$total" awk 'BEGIN { for (;;) x++ }' & hog_pids+=($!); done
  say "$HOGS CPU hog(s) beside the runs"
fi
results=$work/results.txt
: >"$results"
for round in $(seq 1 "$ROUNDS"); do
  for r in "${rows[@]}"; do
    # shellcheck disable=SC2086
    line=$(run_row $r)
    say "round $round: $line"
    echo "$round|$line" >>"$results"
  done
done

say "cancel forwarding between two pgopt peers"
port=$(free_port)
start_pgopt_fleet 2 1 "$port"
cancel=$(PGPASSWORD=$PASSWORD "$PY" "$root/bench/fleet_cancel.py" --owner "${own[0]}" --other "${own[1]}" \
  --direct-port "$PGOPT_PRIMARY_PORT" --db "$DB" --user postgres --password "$PASSWORD" --runs 20)
stop_all

echo "fleet_bench.sh: $(date -u '+%Y-%m-%d %H:%M UTC'), commit $(git -C "$root" rev-parse --short HEAD), clients $CLIENTS, $SECONDS_PER_RUN s per run, $ROUNDS round(s), hogs $HOGS, load at end $(cut -d' ' -f1-3 /proc/loadavg)"
echo
echo "| row | TPS per round | CPU per transaction (us) per round |"
echo "|---|---|---|"
for r in "${rows[@]}"; do
  # shellcheck disable=SC2086
  grep -F "|$(label_of $r)|" "$results" |
    awk -F'|' '{ l = $2; t = t (t ? ", " : "") $3; c = c (c ? ", " : "") ($4 == "" ? "-" : $4) }
               END { printf "| %s | %s | %s |\n", l, t, c }'
done
echo
echo "Cancel through the owning peer vs forwarded by the other (20 each): $cancel"
