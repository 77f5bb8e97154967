# Shared by the bench scripts (sourced): free ports, stopping what a script started (by PID only),
# and the scratch PostgreSQL primary they measure against. Needs $root and $work set by the caller.

free_port() { /usr/bin/python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }

# stop_pid PID [NAME] [PATIENCE_TENTHS]: SIGTERM, then SIGKILL after PATIENCE (default 100 = 10 s).
# Only ever a PID the calling script started itself.
stop_pid() {
  local pid=$1 name=${2:-process} patience=${3:-100}
  [ -n "$pid" ] && kill -0 "$pid" 2>/dev/null || return 0
  kill -TERM "$pid" 2>/dev/null || true
  for _ in $(seq 1 "$patience"); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
  if kill -0 "$pid" 2>/dev/null; then
    echo "$(basename "$0"): $name (pid $pid) ignored SIGTERM, killing it" >&2
    kill -KILL "$pid" 2>/dev/null || true
  fi
  wait "$pid" 2>/dev/null || true
}

# start_bench_primary: scripts/cluster.sh in $work/cluster, its env sourced (PGOPT_PRIMARY_PORT ...);
# sets cluster_started so the caller's cleanup stops it (stop_bench_primary).
start_bench_primary() {
  cluster_started=1
  bash "$root/scripts/cluster.sh" start "$work/cluster" >"$work/cluster.log" 2>&1 || { cat "$work/cluster.log" >&2; exit 1; }
  # shellcheck disable=SC1091
  . "$work/cluster/env"
}
stop_bench_primary() {
  [ -n "${cluster_started:-}" ] && bash "$root/scripts/cluster.sh" stop "$work/cluster" >/dev/null 2>&1
  cluster_started=""
}

# pgbouncer_ini DB PRIMARY_PORT LISTEN_PORT AUTH_TYPE AUTH_FILE POOL_MODE POOL_SIZE LOGFILE [LINE...]:
# prints the pgbouncer.ini a bench script runs PgBouncer with: database DB on the scratch primary,
# loopback only, no Unix socket; each LINE is added to [pgbouncer] as it is.
pgbouncer_ini() {
  local db=$1 primary=$2 port=$3 auth=$4 file=$5 mode=$6 size=$7 log=$8
  shift 8
  printf '[databases]\n%s = host=127.0.0.1 port=%s dbname=%s\n\n[pgbouncer]\n' "$db" "$primary" "$db"
  printf '%s\n' "listen_addr = 127.0.0.1" "listen_port = $port" "unix_socket_dir =" "auth_type = $auth" \
    "auth_file = $file" "pool_mode = $mode" "default_pool_size = $size" "logfile = $log" "$@"
}
