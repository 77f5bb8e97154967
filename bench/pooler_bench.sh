#!/usr/bin/env bash
# pgopt's pooler against Debian's PgBouncer (and a direct connection as the limit), on one machine.
#
#   bench/pooler_bench.sh [options]          (as root on Debian 12, or as a normal user)
#
# 1. starts its own PostgreSQL 15 primary (scripts/cluster.sh; stopped again on exit) and loads
#    pgbench data at scale SCALE (default 10: 1M accounts, ~160 MB, fits in shared_buffers + cache);
# 2. starts `pgopt pool` and PgBouncer side by side in front of that primary: transaction pooling,
#    the same pool size, md5 client auth from the same userlist, logs in the work directory;
# 3. runs pgbench -S (select-only) with -M simple and -M extended at 10, 50 and 200 clients and
#    TPC-B (pgbench's default script, -M simple) at 50 clients, -j 2, DURATION seconds each, against
#    pgopt, PgBouncer and the primary directly, alternating targets (pgopt, PgBouncer, direct, then
#    again: ROUNDS rounds); per run: TPS, average latency, failed transactions, aborted clients, and
#    the pooler's CPU time (utime+stime of its process from /proc/PID/stat) per transaction;
# 4. restarts both poolers and holds IDLE_CLIENTS idle logged-in clients on each (bench/idle_clients.py),
#    reporting VmRSS before/after and per client, and how long SHOW POOLS/CLIENTS/SERVERS/STATS take
#    on each admin console meanwhile;
# 5. prints a Markdown report (also in WORK_DIR/report.md) for docs/benchmarks.md.
#
# --suite prepared (issue 4) replaces steps 3-4: pgbench -S with -M prepared, -M extended and -M simple
# at 10, 50 and 200 clients, same targets, pools and interleaving. PgBouncer before 1.21 cannot keep
# protocol-level prepared statements in transaction mode, so its -M prepared runs are left out there
# (1.21 and later get max_prepared_statements = 200, pgopt's default). The report then checks
# issue 4's target: pgopt -M prepared is the fastest pooled row at every client count and at least
# 1.2x PgBouncer's best mode at 50 and 200 clients. About 24 x ROUNDS x (DURATION + 2) s plus setup
# (~15 min with the defaults).
#
# --suite split (issue 5) replaces steps 3-4: pgbench -S with -M simple and -M extended at 10, 50 and
# 200 clients against two pgopt processes, one with read_write_split on (reads to the cluster's
# streaming replica) and one without (the primary only), PgBouncer, the primary directly and the
# replica directly (what PostgreSQL itself gives up serving the reads from a standby), interleaved
# the same way. Per split-on run it also counts the pgbench statements the replica ran
# (pg_stat_statements on the replica) to show where the reads went. The report checks issue 5's
# target: split on >= 0.95x split off. About 30 x ROUNDS x (DURATION + 2) s plus setup (~18 min with the defaults).
#
# --suite capture (issue 6) replaces steps 3-4: pgbench -S with -M simple and -M extended at 50 clients
# against two pgopt processes, one with workload capture on (the default) and one with capture = false,
# PgBouncer and the primary directly, interleaved the same way. The report checks the target: capture
# costs at most 5% TPS (on >= 0.95x off). About 8 x ROUNDS x (DURATION + 2) s plus setup (~6 min with
# --rounds 3).
#
# --suite isolation (issue 15) replaces steps 3-4: can one client hurt the others? bench/isolation_bench.py
# against pgopt and PgBouncer in turn: 3,000 clients dying mid-transaction, mid-message and mid-COPY
# under load (a new client's first-query latency, server sessions started), 20 and 200 clients
# pipelining SELECT 1 without reading replies (peak RSS growth), and 1/5/50 MB statements beside a
# SELECT 1 loop (its p99). ~3 min per round.
#
# Options (each also an environment variable):
#   --duration S       DURATION      seconds per pgbench run (default 15)
#   --rounds N         ROUNDS        times each (workload, target) is run, interleaved (default 2)
#   --pool-size N      POOL_SIZE     server connections per pool, both poolers (default 20)
#   --workers N        WORKERS       pgopt worker threads (default 2; PgBouncer has one thread)
#   --idle-clients N   IDLE_CLIENTS  idle connections for the memory test (default 10000)
#   --scale N          SCALE         pgbench scale factor (default 10)
#   --only tps|idle    ONLY          run one half only
#   --suite S          SUITE         issue2 (default: the runs above), prepared, split, capture or isolation (imply --only tps)
#   --work-dir DIR     WORK_DIR      logs, configs, raw results (default /tmp/pgopt-pooler-bench.XXXXXX)
#   --hogs N           HOGS          busy-loop processes running beside every throughput run (default 0):
#                                    a shared host, as production poolers have (issue 16); each is started
#                                    by this script, bounded by `timeout`, and stopped by PID
#   --configs LIST     CONFIGS       throughput rows to run instead of the suite's, ';'-separated
#                                    "workload protocol clients" (e.g. "select simple 50;select extended 50")
#   PGOPT_BIN (default build/pgopt), PGBOUNCER_BIN (default /usr/sbin/pgbouncer)
# Duration: about 7 x 3 x ROUNDS x (DURATION + 2) s plus 1-2 min for setup and the idle test
# (~12 min with the defaults). Everything has a time bound; every process it starts is stopped by
# PID on exit. Needs RLIMIT_NOFILE (hard) >= IDLE_CLIENTS + 100 for the idle test.
set -euo pipefail

root=$(cd "$(dirname "$0")/.." && pwd)
DURATION=${DURATION:-15}
ROUNDS=${ROUNDS:-2}
POOL_SIZE=${POOL_SIZE:-20}
WORKERS=${WORKERS:-2}
IDLE_CLIENTS=${IDLE_CLIENTS:-10000}
SCALE=${SCALE:-10}
ONLY=${ONLY:-}
SUITE=${SUITE:-issue2}
WORK_DIR=${WORK_DIR:-}
HOGS=${HOGS:-0}
CONFIGS=${CONFIGS:-}
PGOPT_BIN=${PGOPT_BIN:-$root/build/pgopt}
PGBOUNCER_BIN=${PGBOUNCER_BIN:-/usr/sbin/pgbouncer}

usage() { sed -n '2,/^set -euo/p' "$0" | sed '$d; s/^# \{0,1\}//'; exit "${1:-0}"; }
while [ $# -gt 0 ]; do
  case "$1" in
    --duration) DURATION=$2; shift 2 ;;
    --rounds) ROUNDS=$2; shift 2 ;;
    --pool-size) POOL_SIZE=$2; shift 2 ;;
    --workers) WORKERS=$2; shift 2 ;;
    --idle-clients) IDLE_CLIENTS=$2; shift 2 ;;
    --scale) SCALE=$2; shift 2 ;;
    --only) ONLY=$2; shift 2 ;;
    --suite) SUITE=$2; shift 2 ;;
    --work-dir) WORK_DIR=$2; shift 2 ;;
    --hogs) HOGS=$2; shift 2 ;;
    --configs) CONFIGS=$2; shift 2 ;;
    -h|--help) usage 0 ;;
    *) echo "pooler_bench.sh: unknown option $1" >&2; usage 2 >&2 ;;
  esac
done
for v in DURATION ROUNDS POOL_SIZE WORKERS IDLE_CLIENTS SCALE; do
  [[ ${!v} =~ ^[1-9][0-9]*$ ]] || { echo "pooler_bench.sh: $v must be a positive integer, got '${!v}'" >&2; exit 2; }
done
case "$ONLY" in ""|tps|idle) ;; *) echo "pooler_bench.sh: --only takes tps or idle" >&2; exit 2 ;; esac
case "$SUITE" in
  issue2) ;;
  prepared|split|capture|isolation)
    [ "$ONLY" = idle ] && { echo "pooler_bench.sh: --suite $SUITE has no idle test" >&2; exit 2; }
    ONLY=tps ;;
  *) echo "pooler_bench.sh: --suite takes issue2, prepared, split, capture or isolation" >&2; exit 2 ;;
esac
[ -x "$PGOPT_BIN" ] || { echo "pooler_bench.sh: no pgopt at $PGOPT_BIN; build it (cmake -S . -B build -DCMAKE_BUILD_TYPE=RelWithDebInfo && cmake --build build --target pgopt) or set PGOPT_BIN" >&2; exit 1; }
[ -x "$PGBOUNCER_BIN" ] || { echo "pooler_bench.sh: no PgBouncer at $PGBOUNCER_BIN (apt-get install pgbouncer)" >&2; exit 1; }
PY=python3
[ -x /usr/bin/python3 ] && PY=/usr/bin/python3
# Protocol-level prepared statements in transaction mode arrived in PgBouncer 1.21 (max_prepared_statements).
bouncer_version=$("$PGBOUNCER_BIN" --version | awk 'NR == 1 {print $2}')
bouncer_prepared=""
if printf '1.21\n%s\n' "$bouncer_version" | sort -V -C; then bouncer_prepared=1; fi
load_start=$(cut -d' ' -f1-3 /proc/loadavg)

# File descriptors: each pooler holds IDLE_CLIENTS client sockets in the idle test, and so does the
# Python client (a separate process). Loopback ephemeral ports (net.ipv4.ip_local_port_range) must
# cover IDLE_CLIENTS per pooler; the two idle tests run one after the other.
hard=$(ulimit -Hn)
if [ "$hard" != unlimited ] && [ "$hard" -lt $((IDLE_CLIENTS + 100)) ] && [ "$ONLY" != tps ]; then
  echo "pooler_bench.sh: RLIMIT_NOFILE hard limit $hard is below IDLE_CLIENTS + 100 = $((IDLE_CLIENTS + 100))" >&2
  exit 1
fi
ulimit -n "$hard"
read -r port_lo port_hi </proc/sys/net/ipv4/ip_local_port_range
if [ $((port_hi - port_lo)) -lt $((IDLE_CLIENTS + 1000)) ] && [ "$ONLY" != tps ]; then
  echo "pooler_bench.sh: ip_local_port_range $port_lo-$port_hi is too small for $IDLE_CLIENTS clients" >&2
  exit 1
fi

if [ -z "$WORK_DIR" ]; then WORK_DIR=$(mktemp -d /tmp/pgopt-pooler-bench.XXXXXX); fi
mkdir -p "$WORK_DIR"
work=$(cd "$WORK_DIR" && pwd)
chmod 755 "$work"  # PgBouncer runs as another user and reads its ini from here
RUN_USER=pgopt-test
CLK_TCK=$(getconf CLK_TCK)
PASSWORD=bench-password
DB=bench
export PGCONNECT_TIMEOUT=10

say() { echo "== $*" >&2; }
# shellcheck source=bench/lib.sh
. "$root/bench/lib.sh"

# ---- processes we start, and stopping them ---------------------------------------------------
pgopt_pid="" split_pid="" nocap_pid="" bouncer_pid="" cluster_started="" hog_pids=()
stop_poolers() {
  stop_pid "$pgopt_pid" pgopt; pgopt_pid=""
  stop_pid "$split_pid" "pgopt (split on)"; split_pid=""
  stop_pid "$nocap_pid" "pgopt (capture off)"; nocap_pid=""
  stop_pid "$bouncer_pid" pgbouncer; bouncer_pid=""
}
start_hogs() {  # HOGS busy loops, each ended by timeout after SECONDS at the latest
  local seconds=$1
  for _ in $(seq 1 "$HOGS"); do
    timeout -k 5 "$seconds" awk 'BEGIN { for (;;) x++ }' &
    hog_pids+=($!)
  done
  [ "$HOGS" -gt 0 ] && say "$HOGS CPU hog(s) running beside the throughput runs: pids ${hog_pids[*]}"
  return 0
}
stop_hogs() {
  local pid
  for pid in "${hog_pids[@]}"; do stop_pid "$pid" "cpu hog"; done
  hog_pids=()
}
cleanup() {
  stop_hogs
  stop_poolers
  [ -n "$cluster_started" ] && bash "$root/scripts/cluster.sh" stop "$work/cluster" >/dev/null 2>&1
  return 0
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# ---- the primary and pgbench data ----------------------------------------------------------------
say "starting a PostgreSQL 15 primary (scripts/cluster.sh) in $work/cluster"
cluster_started=1
bash "$root/scripts/cluster.sh" start "$work/cluster" >"$work/cluster.log" 2>&1 ||
  { cat "$work/cluster.log" >&2; exit 1; }
# shellcheck disable=SC1091
. "$work/cluster/env"
PGBENCH=$PGOPT_PG_BIN/pgbench
psql_direct() { "$PGOPT_PG_BIN/psql" -X -q -v ON_ERROR_STOP=1 -h 127.0.0.1 -p "$PGOPT_PRIMARY_PORT" -U postgres "$@"; }
psql_direct -d postgres -c "CREATE DATABASE $DB"
if [ "$ONLY" != idle ] && [ "$SUITE" != isolation ]; then
  say "pgbench -i at scale $SCALE"
  timeout 900 "$PGBENCH" -i -q -s "$SCALE" -h 127.0.0.1 -p "$PGOPT_PRIMARY_PORT" -U postgres "$DB" \
    >"$work/pgbench-init.log" 2>&1 || { cat "$work/pgbench-init.log" >&2; exit 1; }
  psql_direct -d "$DB" -c "VACUUM ANALYZE"
fi
if [ "$SUITE" = split ]; then
  psql_direct -d "$DB" -c "CREATE EXTENSION IF NOT EXISTS pg_stat_statements"  # to count the replica's reads
  # The replica must hold the pgbench data before reads go there: wait until it replayed the load.
  lsn=$(psql_direct -d postgres -At -c "SELECT pg_current_wal_insert_lsn()")
  for _ in $(seq 1 600); do
    caught=$("$PGOPT_PG_BIN/psql" -X -At -h 127.0.0.1 -p "$PGOPT_REPLICA_PORT" -U postgres -d postgres \
      -c "SELECT pg_last_wal_replay_lsn() >= '$lsn'::pg_lsn" 2>/dev/null || true)
    [ "$caught" = t ] && break
    sleep 0.5
  done
  [ "$caught" = t ] || { echo "pooler_bench.sh: the replica did not replay the pgbench data within 5 min" >&2; exit 1; }
fi

# ---- the poolers ----------------------------------------------------------------------------------
echo "\"postgres\" \"$PASSWORD\"" >"$work/users.txt"
start_pgopt() {  # [split|nocapture]: a second process, reads to the replica or capture off
  local port name=pgopt dir extra=""; port=$(free_port)
  [ "${1:-}" = split ] && name=pgopt-split
  [ "${1:-}" = nocapture ] && name=pgopt-nocapture extra="capture = false"
  dir=$work/$name
  mkdir -p "$dir"
  cp "$work/users.txt" "$dir/users.txt"
  cat >"$dir/pgopt.toml" <<TOML
[pooler]
listen_addr = "127.0.0.1"
listen_port = $port
workers = $WORKERS
pool_mode = "transaction"
default_pool_size = $POOL_SIZE
max_client_conn = $((IDLE_CLIENTS + 1000))
auth_type = "md5"
auth_file = "users.txt"
shutdown_timeout = "2s"
admin_users = ["postgres"]
$extra

[databases.$DB]
host = "127.0.0.1"
port = $PGOPT_PRIMARY_PORT
TOML
  if [ "$name" = pgopt-split ]; then
    # Defaults otherwise: least_connections, max_replica_lag 1s, read_your_writes on.
    cat >>"$dir/pgopt.toml" <<TOML
replicas = [ { host = "127.0.0.1", port = $PGOPT_REPLICA_PORT } ]
read_write_split = true
TOML
  fi
  "$PGOPT_BIN" pool --config "$dir/pgopt.toml" >>"$dir/pgopt.log" 2>&1 &
  local pid=$!
  case "$name" in
    pgopt-split) split_pid=$pid split_port=$port ;;
    pgopt-nocapture) nocap_pid=$pid nocap_port=$port ;;
    *) pgopt_pid=$pid pgopt_port=$port ;;
  esac
  wait_ready "$name" "$pid" "$port" "$dir/pgopt.log"
}
# Through the split pooler, a read must reach the replica (its first poll follows the first login).
check_split_reads() {
  local got=""
  for _ in $(seq 1 100); do
    got=$(PGPASSWORD=$PASSWORD "$PGOPT_PG_BIN/psql" -X -At -h 127.0.0.1 -p "$split_port" -U postgres -d "$DB" \
      -c "SELECT inet_server_port()" 2>&1 || true)
    [ "$got" = "$PGOPT_REPLICA_PORT" ] && return 0
    sleep 0.1
  done
  echo "pooler_bench.sh: reads through pgopt with read_write_split do not reach the replica (last answer: $got); log $work/pgopt-split/pgopt.log" >&2
  exit 1
}
start_pgbouncer() {
  local port dir=$work/pgbouncer; port=$(free_port)
  mkdir -p "$dir"
  cp "$work/users.txt" "$dir/userlist.txt"
  cat >"$dir/pgbouncer.ini" <<INI
[databases]
$DB = host=127.0.0.1 port=$PGOPT_PRIMARY_PORT dbname=$DB

[pgbouncer]
listen_addr = 127.0.0.1
listen_port = $port
unix_socket_dir =
auth_type = md5
auth_file = $dir/userlist.txt
pool_mode = transaction
default_pool_size = $POOL_SIZE
max_client_conn = $((IDLE_CLIENTS + 1000))
logfile = $dir/pgbouncer.log
ignore_startup_parameters = extra_float_digits
admin_users = postgres
${bouncer_prepared:+max_prepared_statements = 200}
INI
  touch "$dir/pgbouncer.log"
  if [ "$(id -u)" -eq 0 ]; then
    # PgBouncer refuses to run as root. setpriv execs in place (no fork, unlike runuser), so $! is
    # PgBouncer's own PID, the one whose CPU and memory we read.
    chown -R "$RUN_USER" "$dir"
    setpriv --reuid="$RUN_USER" --regid="$RUN_USER" --init-groups -- \
      "$PGBOUNCER_BIN" "$dir/pgbouncer.ini" >>"$dir/stderr.log" 2>&1 &
  else
    "$PGBOUNCER_BIN" "$dir/pgbouncer.ini" >>"$dir/stderr.log" 2>&1 &
  fi
  bouncer_pid=$!
  bouncer_port=$port
  wait_ready pgbouncer "$bouncer_pid" "$port" "$dir/pgbouncer.log"
}
wait_ready() {  # NAME PID PORT LOG
  for _ in $(seq 1 100); do
    if ! kill -0 "$2" 2>/dev/null; then
      echo "pooler_bench.sh: $1 exited at start; log $4:" >&2; tail -20 "$4" >&2; exit 1
    fi
    "$PGOPT_PG_BIN/pg_isready" -q -h 127.0.0.1 -p "$3" -d "$DB" -U postgres && return 0
    sleep 0.1
  done
  echo "pooler_bench.sh: $1 not accepting connections on port $3 after 10 s; log $4:" >&2
  tail -20 "$4" >&2
  exit 1
}
start_poolers() {
  start_pgopt
  start_pgbouncer
  say "pgopt ($("$PGOPT_BIN" --version 2>/dev/null | head -1), pid $pgopt_pid) on port $pgopt_port, $("$PGBOUNCER_BIN" --version | head -1) (pid $bouncer_pid) on port $bouncer_port, primary on $PGOPT_PRIMARY_PORT"
  if [ "$SUITE" = split ]; then
    start_pgopt split
    check_split_reads
    say "pgopt with read_write_split (pid $split_pid) on port $split_port, replica on $PGOPT_REPLICA_PORT"
  fi
  if [ "$SUITE" = capture ]; then
    start_pgopt nocapture
    say "pgopt with capture = false (pid $nocap_pid) on port $nocap_port"
  fi
}
replica_xacts() {  # pgbench -S statements the replica has run so far
  # pg_stat_statements counts a statement as it ends; pg_stat_database's counters reach shared
  # memory up to a second (or, for an idle backend, ten) later and would undercount a run.
  "$PGOPT_PG_BIN/psql" -X -At -h 127.0.0.1 -p "$PGOPT_REPLICA_PORT" -U postgres -d "$DB" \
    -c "SELECT coalesce(sum(calls), 0) FROM pg_stat_statements WHERE query LIKE 'SELECT abalance FROM pgbench_accounts%'" \
    2>/dev/null || echo NA
}

cpu_ticks() {  # "utime+stime stime" of the whole process (all threads), in clock ticks
  local s; s=$(cat "/proc/$1/stat") || return 1
  s=${s##*) }  # the command name may contain spaces: fields after it start at #3 (state)
  # shellcheck disable=SC2086
  set -- $s
  echo "$(( ${12} + ${13} )) ${13}"
}

# ---- throughput ---------------------------------------------------------------------------------
results=$work/results.tsv
errors_file=$work/errors.txt
: >"$errors_file"

# run_one WORKLOAD PROTOCOL CLIENTS TARGET ROUND
run_one() {
  local workload=$1 proto=$2 clients=$3 target=$4 round=$5 port pid="" script=()
  case "$target" in
    pgopt) port=$pgopt_port; pid=$pgopt_pid ;;
    pgopt-split) port=$split_port; pid=$split_pid ;;
    pgopt-nocapture) port=$nocap_port; pid=$nocap_pid ;;
    pgbouncer) port=$bouncer_port; pid=$bouncer_pid ;;
    direct) port=$PGOPT_PRIMARY_PORT ;;
    direct-replica) port=$PGOPT_REPLICA_PORT ;;
  esac
  [ "$workload" = select ] && script=(-S)
  if [ "$workload" = tpcb ]; then
    # What pgbench's own pre-run vacuum does, outside the measured run and never through a pooler.
    psql_direct -d "$DB" -c "VACUUM pgbench_branches" -c "VACUUM pgbench_tellers" \
      -c "TRUNCATE pgbench_history" >/dev/null
  fi
  if [ -n "$pid" ] && ! kill -0 "$pid" 2>/dev/null; then
    echo "pooler_bench.sh: $target (pid $pid) is not running any more; see its log in $work" >&2
    exit 1
  fi
  local tag=$workload-$proto-c$clients-$target-r$round out err before=0 after=0 rc=0 load1 sys_before=0 sys_after=0
  load1=$(cut -d' ' -f1 /proc/loadavg)  # the machine may be shared: keep what else ran alongside
  out=$work/runs/$tag.out; err=$work/runs/$tag.err
  local rx_before=NA rx_after=NA replica_share=NA
  [ "$target" = pgopt-split ] && rx_before=$(replica_xacts)
  [ -n "$pid" ] && read -r before sys_before < <(cpu_ticks "$pid")
  PGPASSWORD=$PASSWORD timeout -k 5 $((DURATION + 60)) "$PGBENCH" -n "${script[@]}" -M "$proto" \
    -c "$clients" -j 2 -T "$DURATION" -h 127.0.0.1 -p "$port" -U postgres "$DB" >"$out" 2>"$err" || rc=$?
  [ -n "$pid" ] && read -r after sys_after < <(cpu_ticks "$pid")
  [ "$target" = pgopt-split ] && rx_after=$(replica_xacts)
  local tps lat txns failed aborted cpu_s="" us="" sys_us=""
  tps=$(sed -n 's/^tps = \([0-9.]*\) .*/\1/p' "$out")
  lat=$(sed -n 's/^latency average = \([0-9.]*\) ms.*/\1/p' "$out")
  txns=$(sed -n 's/^number of transactions actually processed: \([0-9]*\).*/\1/p' "$out")
  failed=$(sed -n 's/^number of failed transactions: \([0-9]*\).*/\1/p' "$out")
  aborted=$(grep -cE 'client [0-9]+ .*abort' "$err" || true)
  if [ -z "$tps" ] || [ "${txns:-0}" -eq 0 ] || [ "$rc" -ne 0 ] || [ "$aborted" -gt 0 ] || [ "${failed:-0}" -gt 0 ]; then
    { echo "$tag: pgbench exit $rc, ${txns:-no} transactions, ${failed:-?} failed, $aborted aborted clients"
      # pgbench's -T clock includes opening the connections: 200 backends can take seconds.
      [ "${txns:-0}" -eq 0 ] && [ "$rc" -eq 0 ] && echo "    (no transaction within ${DURATION}s: the connections took longer to open?)"
      head -5 "$err" | sed 's/^/    /'; } | tee -a "$errors_file" >&2
  fi
  if [ -n "$pid" ] && [ -n "$txns" ] && [ "$txns" -gt 0 ]; then
    cpu_s=$(awk -v t=$((after - before)) -v hz="$CLK_TCK" 'BEGIN{printf "%.2f", t/hz}')
    us=$(awk -v t=$((after - before)) -v hz="$CLK_TCK" -v n="$txns" 'BEGIN{printf "%.2f", t/hz*1e6/n}')
    sys_us=$(awk -v t=$((sys_after - sys_before)) -v hz="$CLK_TCK" -v n="$txns" 'BEGIN{printf "%.2f", t/hz*1e6/n}')
  fi
  # The replica's share of the run's transactions.
  if [[ $rx_before =~ ^[0-9]+$ && $rx_after =~ ^[0-9]+$ ]] && [ "${txns:-0}" -gt 0 ]; then
    replica_share=$(awk -v a="$rx_before" -v b="$rx_after" -v n="$txns" 'BEGIN{printf "%.3f", (b - a) / n}')
  fi
  printf '%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n' "$workload" "$proto" "$clients" "$target" \
    "$round" "${tps:-NA}" "${lat:-NA}" "${txns:-0}" "${failed:-NA}" "$aborted" "$rc" "${cpu_s:-NA}" "${us:-NA}" \
    "$load1" "$replica_share" "${sys_us:-NA}" >>"$results"
  [ "$replica_share" != NA ] && tag="$tag (replica $replica_share)"
  printf '   %-34s tps %10s  lat %8s ms  failed %s  aborted %s  cpu %6s s  %s us/txn (kernel %s)\n' "$tag" "${tps:-NA}" \
    "${lat:-NA}" "${failed:-NA}" "$aborted" "${cpu_s:--}" "${us:--}" "${sys_us:--}" >&2
}

if [ "$SUITE" = isolation ]; then
  start_poolers
  say "isolation: $ROUNDS round(s), pgopt then PgBouncer for each step"
  timeout -k 5 $((ROUNDS * 900)) "$PY" "$root/bench/isolation_bench.py" --rounds "$ROUNDS" \
    --target "pgopt:$pgopt_port:$pgopt_pid" --target "pgbouncer:$bouncer_port:$bouncer_pid" \
    --direct-port "$PGOPT_PRIMARY_PORT" --user postgres --password "$PASSWORD" --dbname "$DB" \
    --psql "$PGOPT_PG_BIN/psql" | tee "$work/isolation.jsonl" >&2
  stop_poolers
  {
    echo "Machine: $(nproc) cores; load average at the start: $load_start, at the end: $(cut -d' ' -f1-3 /proc/loadavg)."
    echo "pgopt: $("$PGOPT_BIN" --version 2>/dev/null | head -1) (workers = $WORKERS); $("$PGBOUNCER_BIN" --version | head -1); pool size $POOL_SIZE, transaction mode."
    echo
    "$PY" "$root/bench/pooler_bench_report.py" --suite isolation "$work/isolation.jsonl" /dev/null
  } | tee "$work/report.md"
  say "report in $work/report.md; raw results and pooler logs in $work"
  exit 0
fi

if [ "$ONLY" != idle ]; then
  start_poolers
  mkdir -p "$work/runs"
  printf 'workload\tprotocol\tclients\ttarget\tround\ttps\tlatency_ms\ttransactions\tfailed\taborted_clients\texit\tpooler_cpu_s\tpooler_cpu_us_per_txn\tload1_before\treplica_share\tpooler_kernel_us_per_txn\n' >"$results"
  targets=(pgopt pgbouncer direct)
  if [ "$SUITE" = prepared ]; then
    configs=()
    for c in 10 50 200; do configs+=("select prepared $c" "select extended $c" "select simple $c"); done
  elif [ "$SUITE" = split ]; then
    # -M simple sends each aid as a literal (a new text every time), -M extended one text with $1.
    configs=("select simple 10" "select simple 50" "select simple 200"
             "select extended 10" "select extended 50" "select extended 200")
    targets=(pgopt-split pgopt pgbouncer direct direct-replica)
  elif [ "$SUITE" = capture ]; then
    configs=("select simple 50" "select extended 50")
    targets=(pgopt pgopt-nocapture pgbouncer direct)
  else
    configs=("select simple 10" "select simple 50" "select simple 200"
             "select extended 10" "select extended 50" "select extended 200" "tpcb simple 50")
  fi
  if [ -n "$CONFIGS" ]; then
    IFS=';' read -r -a configs <<<"$CONFIGS"
  fi
  say "throughput: ${#configs[@]} workloads x ${#targets[@]} targets x $ROUNDS rounds x ${DURATION}s"
  start_hogs $(( ${#configs[@]} * ${#targets[@]} * ROUNDS * (DURATION + 30) + 60 ))
  for cfg in "${configs[@]}"; do
    read -r workload proto clients <<<"$cfg"
    for round in $(seq 1 "$ROUNDS"); do
      for target in "${targets[@]}"; do
        # Without server-side support, pgbench's named statements would land on another client's
        # server connection: "prepared statement P0_1 does not exist". Not a row worth measuring.
        [ "$target" = pgbouncer ] && [ "$proto" = prepared ] && [ -z "$bouncer_prepared" ] && continue
        run_one "$workload" "$proto" "$clients" "$target" "$round"
      done
    done
  done
  stop_hogs
  stop_poolers
fi

# ---- idle connections ---------------------------------------------------------------------------
idle_json=$work/idle.jsonl
if [ "$ONLY" != tps ]; then
  : >"$idle_json"
  # Fresh processes: the baseline must not include what the throughput runs left in the allocator.
  start_poolers
  for target in pgopt pgbouncer; do
    if [ "$target" = pgopt ]; then port=$pgopt_port pid=$pgopt_pid admin_db=pgopt; else port=$bouncer_port pid=$bouncer_pid admin_db=pgbouncer; fi
    say "idle test: $IDLE_CLIENTS idle clients on $target (pid $pid)"
    if out=$(timeout -k 5 900 "$PY" "$root/bench/idle_clients.py" --port "$port" --user postgres \
               --password "$PASSWORD" --dbname "$DB" --pid "$pid" --clients "$IDLE_CLIENTS" --timeout 840 \
               --admin-db "$admin_db"); then
      echo "$out" | "$PY" -c 'import json,sys; d=json.load(sys.stdin); d["target"]=sys.argv[1]; print(json.dumps(d))' \
        "$target" | tee -a "$idle_json" >&2
    else
      echo "$target: idle test failed: $out" | tee -a "$errors_file" >&2
    fi
    kill -0 "$pid" 2>/dev/null || { echo "pooler_bench.sh: $target died during the idle test; see $work" >&2; exit 1; }
    sleep 1  # let the pooler finish closing the clients before the next test
  done
  stop_poolers
fi

# ---- report ---------------------------------------------------------------------------------------
{
  echo "Machine: $(nproc) cores, $(lscpu | awk -F': *' '/Model name/ {print $2; exit}'), $(free -g | awk '/Mem:/ {print $2}') GB RAM; load average (1, 5, 15 min) at the start: $load_start, at the end: $(cut -d' ' -f1-3 /proc/loadavg)."
  [ "$HOGS" -gt 0 ] && echo "CPU hogs: $HOGS busy-loop processes ran beside every throughput run (--hogs)."
  echo "pgopt: $("$PGOPT_BIN" --version 2>/dev/null | head -1) (workers = $WORKERS); $("$PGBOUNCER_BIN" --version | head -1); PostgreSQL $("$PGOPT_PG_BIN/postgres" --version | awk '{print $3}')."
  echo -n "Pool size $POOL_SIZE, transaction mode, md5 client auth"
  [ "$SUITE" = split ] && echo -n "; split on: one streaming replica on the same machine (reads there, pool size $POOL_SIZE per server)"
  [ "$ONLY" != idle ] && echo -n "; pgbench scale $SCALE, -j 2, ${DURATION}s per run, $ROUNDS round(s) interleaved"
  [ "$ONLY" != tps ] && echo -n "; $IDLE_CLIENTS idle clients"
  echo "."
  if [ "$SUITE" = prepared ] && [ -z "$bouncer_prepared" ]; then
    echo "PgBouncer $bouncer_version has no protocol-level prepared statements in transaction mode (1.21+), so it has no -M prepared rows."
  fi
  echo
  "$PY" "$root/bench/pooler_bench_report.py" --suite "$SUITE" "$results" "$idle_json"
  if [ -s "$errors_file" ]; then
    echo
    echo "Errors during the runs:"
    echo '```'
    cat "$errors_file"
    echo '```'
  fi
} | tee "$work/report.md"
say "report in $work/report.md; raw results, pgbench output and pooler logs in $work"
