#!/usr/bin/env bash
# Soak: pgopt under steady mixed load for a long time, sampling what would show a leak: its resident
# memory (VmRSS), its open descriptors and the server connections it holds. Not part of CI.
#
#   bench/soak.sh [--duration 600] [--interval 10] [--work-dir DIR]
#
# Starts its own PostgreSQL 15 primary (scripts/cluster.sh), pgbench scale 1, and one `pgopt pool`
# (transaction mode, pool 10, 2 workers, metrics on). For the whole run: pgbench TPC-B with 16
# clients (prepared statements) and pgbench -S -C with 8 clients (a new connection per transaction:
# about a hundred logins and disconnects a second). Server-side kills are left out: a pgbench client
# that sees an error stops for good, which would empty the load (chaos tests cover them). Prints one CSV
# row per sample (seconds, rss_kb, fds, server_connections, pgopt_clients) and a verdict: flat when
# the last third's mean RSS is within 10% (+2 MB) of the middle third's, descriptors within 5, and
# server connections never above the pool size. Exit status 1 when not flat.
# Everything it starts is stopped by PID on exit.
set -euo pipefail

root=$(cd "$(dirname "$0")/.." && pwd)
PGOPT_BIN=${PGOPT_BIN:-$root/build/pgopt}
DURATION=600 INTERVAL=10 WORK_DIR=""
while [ $# -gt 0 ]; do
  case $1 in
    --duration) DURATION=$2; shift 2 ;;
    --interval) INTERVAL=$2; shift 2 ;;
    --work-dir) WORK_DIR=$2; shift 2 ;;
    -h|--help) sed -n '2,14p' "$0"; exit 0 ;;
    *) echo "soak.sh: unknown option $1" >&2; exit 2 ;;
  esac
done
[ -x "$PGOPT_BIN" ] || { echo "soak.sh: no pgopt at $PGOPT_BIN (build first)" >&2; exit 1; }
[ -n "$WORK_DIR" ] || WORK_DIR=$(mktemp -d /tmp/pgopt-soak.XXXXXX)
mkdir -p "$WORK_DIR"
work=$(cd "$WORK_DIR" && pwd)
chmod 755 "$work"
POOL=10
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
psql_direct() { "$PGOPT_PG_BIN/psql" -X -q -At -v ON_ERROR_STOP=1 -h 127.0.0.1 -p "$PGOPT_PRIMARY_PORT" -U postgres "$@"; }
psql_direct -d postgres -c "CREATE DATABASE soak"
"$PGOPT_PG_BIN/pgbench" -i -q -s 1 -h 127.0.0.1 -p "$PGOPT_PRIMARY_PORT" -U postgres soak >"$work/init.log" 2>&1

port=$(free_port) metrics=$(free_port)
: >"$work/users.txt"
cat >"$work/pgopt.toml" <<TOML
[pooler]
listen_addr = "127.0.0.1"
listen_port = $port
workers = 2
pool_mode = "transaction"
default_pool_size = $POOL
auth_type = "trust"
auth_file = "users.txt"
metrics_port = $metrics
shutdown_timeout = "2s"

[databases.soak]
host = "127.0.0.1"
port = $PGOPT_PRIMARY_PORT
TOML
"$PGOPT_BIN" pool --config "$work/pgopt.toml" >"$work/pgopt.log" 2>&1 &
pgopt=$!; pids+=("$pgopt")
for _ in $(seq 1 100); do (echo >"/dev/tcp/127.0.0.1/$port") 2>/dev/null && break; sleep 0.1; done

bench() { "$PGOPT_PG_BIN/pgbench" -n -h 127.0.0.1 -p "$port" -U postgres -T "$DURATION" "$@" soak; }
bench -c 16 -j 2 -M prepared >"$work/pgbench-tpcb.log" 2>&1 &
pids+=("$!")
bench -S -C -c 8 -j 2 >"$work/pgbench-connect.log" 2>&1 &
pids+=("$!")

server_conns() {
  psql_direct -d postgres -c "SELECT count(*) FROM pg_stat_activity WHERE datname = 'soak' AND backend_type = 'client backend' AND pid <> pg_backend_pid() AND application_name NOT LIKE 'psql%'"
}
echo "seconds,rss_kb,fds,server_connections,pgopt_clients" | tee "$work/samples.csv"
start=$(date +%s) max_servers=0
while :; do
  t=$(( $(date +%s) - start ))
  [ "$t" -ge "$DURATION" ] && break
  rss=$(awk '/^VmRSS/ {print $2}' "/proc/$pgopt/status")
  fds=$(find "/proc/$pgopt/fd" -mindepth 1 -maxdepth 1 | wc -l)
  servers=$(server_conns)
  clients=$(curl -s "http://127.0.0.1:$metrics/metrics" | awk '/^pgopt_clients\{/ {n += $2} END {print n + 0}')
  echo "$t,$rss,$fds,$servers,$clients" | tee -a "$work/samples.csv"
  [ "$servers" -gt "$max_servers" ] && max_servers=$servers
  sleep "$INTERVAL"
done
wait "${pids[1]}" "${pids[2]}" || true
for f in tpcb connect; do
  summary=$(grep -E '^(number of transactions actually processed|number of failed transactions|tps)' "$work/pgbench-$f.log" | tr '\n' ' ')
  echo "pgbench $f: $summary"
done

python3 - "$work/samples.csv" "$POOL" "$max_servers" <<'PY'
import csv, sys
rows = list(csv.DictReader(open(sys.argv[1])))
pool, max_servers = int(sys.argv[2]), int(sys.argv[3])
third = max(1, len(rows) // 3)
mid, last = rows[third:2 * third] or rows, rows[-third:]
mean = lambda rs, k: sum(float(r[k]) for r in rs) / len(rs)
rss_mid, rss_last = mean(mid, "rss_kb"), mean(last, "rss_kb")
fd_mid, fd_last = mean(mid, "fds"), mean(last, "fds")
flat = rss_last <= rss_mid * 1.10 + 2048 and abs(fd_last - fd_mid) <= 5 and max_servers <= pool
print(f"samples {len(rows)}; RSS middle third {rss_mid/1024:.1f} MB, last third {rss_last/1024:.1f} MB "
      f"(max {max(float(r['rss_kb']) for r in rows)/1024:.1f}); descriptors {fd_mid:.1f} -> {fd_last:.1f}; "
      f"server connections max {max_servers} (pool {pool}): {'FLAT' if flat else 'NOT FLAT'}")
sys.exit(0 if flat else 1)
PY
