#!/usr/bin/env bash
# Where a pooler's CPU goes: user vs kernel time and context switches per transaction, pgopt (1 and 2
# workers) against PgBouncer, in front of one primary, with pgbench -S.
#
#   bench/cpu_split.sh [--clients "50 200"] [--modes "simple"] [--duration 10] [--rounds 2] [--hogs N]
#                      [--workers "1 2"] [--variant BIN --variant-name NAME] [--work-dir DIR]
#
# Starts its own PostgreSQL 15 primary (scripts/cluster.sh), loads pgbench scale 10, runs each
# (mode, clients) against pgopt with workers = 1, pgopt with workers = 2 and PgBouncer in turn, and
# prints one line per run: TPS, and the pooler process's user and kernel CPU (utime, stime from
# /proc/PID/stat) and voluntary + involuntary context switches (all threads) per transaction.
# --hogs N runs N busy-loop processes beside the measured runs (a shared host; issue 16). --variant
# BIN runs a second pgopt build (say, the io_uring one) with the same worker counts in the same
# rounds, named --variant-name. Everything it starts is stopped by PID on exit. Needs root (PgBouncer
# runs as pgopt-test).
set -euo pipefail

root=$(cd "$(dirname "$0")/.." && pwd)
PGOPT_BIN=${PGOPT_BIN:-$root/build/pgopt}
PGBOUNCER_BIN=${PGBOUNCER_BIN:-/usr/sbin/pgbouncer}
CLIENTS="50 200" MODES="simple" DURATION=10 ROUNDS=2 WORK_DIR="" HOGS=0 WORKERS="1 2" VARIANT="" VARIANT_NAME=variant
while [ $# -gt 0 ]; do
  case $1 in
    --clients) CLIENTS=$2; shift 2 ;;
    --modes) MODES=$2; shift 2 ;;
    --duration) DURATION=$2; shift 2 ;;
    --rounds) ROUNDS=$2; shift 2 ;;
    --work-dir) WORK_DIR=$2; shift 2 ;;
    --hogs) HOGS=$2; shift 2 ;;
    --workers) WORKERS=$2; shift 2 ;;
    --variant) VARIANT=$2; shift 2 ;;
    --variant-name) VARIANT_NAME=$2; shift 2 ;;
    -h|--help) sed -n '2,16p' "$0"; exit 0 ;;
    *) echo "cpu_split.sh: unknown option $1" >&2; exit 2 ;;
  esac
done
[ -x "$PGOPT_BIN" ] || { echo "cpu_split.sh: no pgopt at $PGOPT_BIN (build first)" >&2; exit 1; }
[ -n "$WORK_DIR" ] || WORK_DIR=$(mktemp -d /tmp/pgopt-cpu-split.XXXXXX)
mkdir -p "$WORK_DIR"
work=$(cd "$WORK_DIR" && pwd)
chmod 755 "$work"
RUN_USER=pgopt-test PASSWORD=bench-password
free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }

pids=() cluster_started=""
cleanup() {
  for pid in "${pids[@]}"; do kill -TERM "$pid" 2>/dev/null || true; done
  for pid in "${pids[@]}"; do wait "$pid" 2>/dev/null || true; done
  [ -n "$cluster_started" ] && bash "$root/scripts/cluster.sh" stop "$work/cluster" >/dev/null 2>&1
  return 0
}
trap cleanup EXIT
trap 'exit 130' INT TERM

cluster_started=1
bash "$root/scripts/cluster.sh" start "$work/cluster" >"$work/cluster.log" 2>&1 || { cat "$work/cluster.log" >&2; exit 1; }
# shellcheck disable=SC1091
. "$work/cluster/env"
psql_direct() { "$PGOPT_PG_BIN/psql" -X -q -v ON_ERROR_STOP=1 -h 127.0.0.1 -p "$PGOPT_PRIMARY_PORT" -U postgres "$@"; }
psql_direct -d postgres -c "CREATE DATABASE bench" -c "ALTER ROLE postgres PASSWORD '$PASSWORD'"
"$PGOPT_PG_BIN/pgbench" -i -q -s 10 -h 127.0.0.1 -p "$PGOPT_PRIMARY_PORT" -U postgres bench >"$work/init.log" 2>&1
echo "\"postgres\" \"$PASSWORD\"" >"$work/users.txt"

declare -A port pid label
targets=()
# start_pgopt KEY BIN WORKERS LABEL
start_pgopt() {
  local key=$1 bin=$2 w=$3
  port[$key]=$(free_port)
  label[$key]=$4
  targets+=("$key")
  cat >"$work/pgopt-$key.toml" <<TOML
[pooler]
listen_addr = "127.0.0.1"
listen_port = ${port[$key]}
workers = $w
pool_mode = "transaction"
default_pool_size = 20
max_client_conn = 1000
auth_type = "md5"
auth_file = "users.txt"
shutdown_timeout = "2s"

[databases.bench]
host = "127.0.0.1"
port = $PGOPT_PRIMARY_PORT
TOML
  "$bin" pool --config "$work/pgopt-$key.toml" >"$work/pgopt-$key.log" 2>&1 &
  pid[$key]=$!; pids+=("$!")
}
for w in $WORKERS; do
  start_pgopt "w$w" "$PGOPT_BIN" "$w" "pgopt, workers = $w"
  [ -z "$VARIANT" ] || start_pgopt "v$w" "$VARIANT" "$w" "pgopt $VARIANT_NAME, workers = $w"
done
targets+=(pgbouncer)
label[pgbouncer]=PgBouncer
mkdir -p "$work/pgbouncer"
cp "$work/users.txt" "$work/pgbouncer/userlist.txt"
port[pgbouncer]=$(free_port)
cat >"$work/pgbouncer/pgbouncer.ini" <<INI
[databases]
bench = host=127.0.0.1 port=$PGOPT_PRIMARY_PORT dbname=bench

[pgbouncer]
listen_addr = 127.0.0.1
listen_port = ${port[pgbouncer]}
unix_socket_dir =
auth_type = md5
auth_file = $work/pgbouncer/userlist.txt
pool_mode = transaction
default_pool_size = 20
max_client_conn = 1000
logfile = $work/pgbouncer/pgbouncer.log
INI
chown -R "$RUN_USER" "$work/pgbouncer"
setpriv --reuid="$RUN_USER" --regid="$RUN_USER" --init-groups -- "$PGBOUNCER_BIN" "$work/pgbouncer/pgbouncer.ini" \
  >"$work/pgbouncer/stderr.log" 2>&1 &
pid[pgbouncer]=$!; pids+=("$!")
sleep 1

# "utime stime ctxsw" of PID: ticks, and context switches of all its threads
cpu() {
  local p=$1 s; s=$(cat "/proc/$p/stat"); s=${s##*) }
  local cs; cs=$(cat /proc/"$p"/task/*/status 2>/dev/null | awk '/ctxt_switches/ {s += $2} END {print s + 0}')
  # shellcheck disable=SC2086
  set -- $s
  echo "${12} ${13} $cs"
}
hz=$(getconf CLK_TCK)
runs=0
for _ in $MODES; do for _ in $CLIENTS; do runs=$((runs + ${#targets[@]} * ROUNDS)); done; done
for _ in $(seq 1 "$HOGS"); do
  # Bounded by timeout as well as stopped by PID at the end.
  timeout -k 5 $((runs * (DURATION + 30) + 60)) awk 'BEGIN { for (;;) x++ }' &
  pids+=("$!")
done
echo "Machine: $(nproc) cores, $(lscpu | awk -F': *' '/Model name/ {print $2; exit}'); load average at the start: $(cut -d' ' -f1-3 /proc/loadavg)"
echo "pgbench -S, scale 10, -j 2, ${DURATION}s per run; pool size 20, transaction mode, md5; $HOGS CPU hog(s) beside the runs"
printf '| mode | clients | pooler | round | TPS | user (us/txn) | kernel (us/txn) | context switches / txn |\n'
printf '| --- | ---: | --- | ---: | ---: | ---: | ---: | ---: |\n'
for round in $(seq 1 "$ROUNDS"); do
  for mode in $MODES; do
    for c in $CLIENTS; do
      for t in "${targets[@]}"; do
        read -r u1 s1 c1 < <(cpu "${pid[$t]}")
        out=$(PGPASSWORD=$PASSWORD timeout $((DURATION + 60)) "$PGOPT_PG_BIN/pgbench" -n -S -M "$mode" -c "$c" -j 2 \
          -T "$DURATION" -h 127.0.0.1 -p "${port[$t]}" -U postgres bench 2>&1) || true
        read -r u2 s2 c2 < <(cpu "${pid[$t]}")
        tx=$(sed -n 's/^number of transactions actually processed: \([0-9]*\).*/\1/p' <<<"$out")
        tps=$(sed -n 's/^tps = \([0-9.]*\) .*/\1/p' <<<"$out")
        name=${label[$t]}
        if [ -z "$tx" ] || [ "$tx" -eq 0 ]; then echo "| $mode | $c | $name | $round | failed: $(tail -1 <<<"$out") | | | |"; continue; fi
        awk -v m="$mode" -v c="$c" -v n="$name" -v r="$round" -v tps="$tps" -v tx="$tx" -v u=$((u2 - u1)) \
          -v s=$((s2 - s1)) -v cs=$((c2 - c1)) -v hz="$hz" \
          'BEGIN {printf "| %s | %d | %s | %d | %.0f | %.1f | %.1f | %.2f |\n", m, c, n, r, tps, u/hz*1e6/tx, s/hz*1e6/tx, cs/tx}'
      done
    done
  done
done
