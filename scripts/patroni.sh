#!/usr/bin/env bash
# Starts/stops a 3-member Patroni cluster (one etcd, PostgreSQL 15) on 127.0.0.1 for failover tests.
#
#   patroni.sh start DIR         etcd + 3 Patroni members on free ports, data under DIR; waits for a
#                                leader and two streaming replicas; writes DIR/env (shell syntax)
#   patroni.sh stop DIR          stops every process it started, by the PIDs in DIR/*.pid
#   patroni.sh leader DIR        prints the leader's member name (m1, m2, m3)
#   patroni.sh switchover DIR    patronictl switchover to a healthy replica, waits for the new leader
#   patroni.sh kill-primary DIR  kill -9 of the leader's postmaster (its Patroni then fails over:
#                                primary_start_timeout is 0)
#   patroni.sh ready DIR         waits (bounded) for a leader with two streaming replicas and a
#                                sync standby (after a kill: the old leader has rejoined); prints it
#   patroni.sh psql DIR MEMBER ARGS...   psql as the superuser on one member
#
# Patroni and PostgreSQL run as the unprivileged user pgopt-test when started by root. Timings are
# short (ttl 10 s, loop_wait 1 s) so a failover completes within seconds; synchronous_mode is on, so
# a commit acknowledged by the leader is on the replica Patroni promotes.
set -euo pipefail

PG_BIN=${PG_BIN:-/usr/lib/postgresql/15/bin}
RUN_USER=pgopt-test
cmd=${1:-}
dir=${2:-}
[ -n "$cmd" ] && [ -n "$dir" ] || {
  echo "usage: $0 start|stop|leader|ready|switchover|kill-primary|psql DIR [...]" >&2; exit 2; }
TTL=${PGOPT_PATRONI_TTL:-10}

as_pg() {
  if [ "$(id -u)" -eq 0 ]; then runuser -u "$RUN_USER" -- "$@"; else "$@"; fi
}

free_ports() {  # N distinct free ports, one a line
  python3 -c 'import socket,sys
ss=[socket.socket() for _ in range(int(sys.argv[1]))]
for s in ss: s.bind(("127.0.0.1",0))
print("\n".join(str(s.getsockname()[1]) for s in ss))' "$1"
}

load_env() {
  [ -f "$dir/env" ] || { echo "patroni.sh: no cluster described in $dir/env" >&2; exit 1; }
  # shellcheck disable=SC1091
  . "$dir/env"
}

member_yaml() {  # name pg_port api_port
  local name=$1 pg=$2 api=$3
  cat <<YAML
scope: pgopt-failover
name: $name
log:
  level: WARNING
restapi:
  listen: 127.0.0.1:$api
  connect_address: 127.0.0.1:$api
etcd3:
  hosts: 127.0.0.1:$ETCD_CLIENT
bootstrap:
  dcs:
    ttl: $TTL
    loop_wait: 1
    retry_timeout: 3
    primary_start_timeout: 0
    synchronous_mode: true
    postgresql:
      use_pg_rewind: true
      use_slots: true
      parameters:
        wal_level: replica
        hot_standby: "on"
        max_connections: 200
        max_wal_senders: 10
        max_replication_slots: 10
        wal_log_hints: "on"
        fsync: "off"
        full_page_writes: "on"
  initdb:
  - encoding: UTF8
  - locale: C.UTF-8
  pg_hba:
  - local all all trust
  - host all all 127.0.0.1/32 trust
  - host replication all 127.0.0.1/32 trust
postgresql:
  listen: 127.0.0.1:$pg
  connect_address: 127.0.0.1:$pg
  data_dir: $dir/$name/data
  bin_dir: $PG_BIN
  pgpass: $dir/$name/pgpass
  authentication:
    superuser: {username: postgres, password: postgres}
    replication: {username: replicator, password: replicator}
    rewind: {username: postgres, password: postgres}
  parameters:
    unix_socket_directories: $dir/$name
    shared_buffers: 32MB
    timezone: Etc/UTC
    log_line_prefix: '%m [%p] %q%u@%d '
YAML
}

api_of() { local v="PGOPT_PATRONI_API_${1#m}"; echo "${!v:-0}"; }
port_of() { local v="PGOPT_PATRONI_PORT_${1#m}"; echo "${!v:-0}"; }

# The member whose REST API answers 200 on /primary (only the leader running as primary does).
leader() {
  local m code
  for m in m1 m2 m3; do
    code=$(curl -s -o /dev/null -m 1 -w '%{http_code}' "http://127.0.0.1:$(api_of $m)/primary" || true)
    [ "$code" = 200 ] && { echo "$m"; return 0; }
  done
  return 1
}

streaming_replicas() {  # on the leader
  local l=$1
  as_pg psql -X -At -h 127.0.0.1 -p "$(port_of "$l")" -U postgres -d postgres \
    -c "SELECT count(*) FROM pg_stat_replication WHERE state = 'streaming'" 2>/dev/null || echo 0
}

# Waits (bounded) until there is a leader, other than $1 if given, with two streaming replicas.
wait_ready() {
  local not=${1:-} limit=${2:-90} l
  for _ in $(seq 1 $((limit * 5))); do
    # With synchronous_mode a switchover needs a sync standby: ready means one is named too.
    if l=$(leader) && [ "$l" != "$not" ] && [ "$(streaming_replicas "$l")" = 2 ] &&
      curl -s -m 1 "http://127.0.0.1:$(api_of "$l")/cluster" | grep -q sync_standby; then echo "$l"; return 0; fi
    sleep 0.2
  done
  echo "patroni.sh: no leader with two streaming replicas after ${limit}s" >&2
  return 1
}

start() {
  if [ "$(id -u)" -eq 0 ] && ! id "$RUN_USER" >/dev/null 2>&1; then
    useradd --system --create-home --shell /bin/bash "$RUN_USER"
  fi
  [ -f "$dir/env" ] && { stop || true; }
  mkdir -p "$dir"
  dir=$(cd "$dir" && pwd)
  chmod 755 "$dir"
  [ "$(id -u)" -eq 0 ] && chown "$RUN_USER" "$dir"
  mapfile -t ports < <(free_ports 8)
  ETCD_CLIENT=${ports[0]}
  local etcd_peer=${ports[1]}
  as_pg mkdir -p "$dir/etcd"
  as_pg bash -c 'echo $$ > "$1/etcd.pid"; exec etcd --name pgopt-etcd --data-dir "$1/etcd" \
      --listen-client-urls "http://127.0.0.1:$2" --advertise-client-urls "http://127.0.0.1:$2" \
      --listen-peer-urls "http://127.0.0.1:$3" --initial-advertise-peer-urls "http://127.0.0.1:$3" \
      --initial-cluster "pgopt-etcd=http://127.0.0.1:$3" --log-level warn >"$1/etcd.log" 2>&1' \
      _ "$dir" "$ETCD_CLIENT" "$etcd_peer" </dev/null >/dev/null 2>&1 &
  for _ in $(seq 1 100); do
    curl -sf -m 1 "http://127.0.0.1:$ETCD_CLIENT/health" >/dev/null 2>&1 && break
    sleep 0.1
  done
  curl -sf -m 1 "http://127.0.0.1:$ETCD_CLIENT/health" >/dev/null || {
    echo "patroni.sh: etcd did not start" >&2; cat "$dir/etcd.log" >&2; exit 1; }
  {
    echo "PGOPT_PATRONI_DIR=$dir"
    echo "PGOPT_PG_BIN=$PG_BIN"
    echo "PGOPT_PATRONI_ETCD_PORT=$ETCD_CLIENT"
    echo "PGOPT_PATRONI_SCRIPT=$(cd "$(dirname "$0")" && pwd)/patroni.sh"
  } >"$dir/env"
  local i
  for i in 1 2 3; do
    local pg=${ports[$((2 * i))]} api=${ports[$((2 * i + 1))]}
    echo "PGOPT_PATRONI_PORT_$i=$pg" >>"$dir/env"
    echo "PGOPT_PATRONI_API_$i=$api" >>"$dir/env"
    as_pg mkdir -p "$dir/m$i"
    as_pg chmod 700 "$dir/m$i"
    member_yaml "m$i" "$pg" "$api" | as_pg tee "$dir/m$i.yml" >/dev/null
    as_pg bash -c 'echo $$ > "$1/m$2.pid"; exec patroni "$1/m$2.yml" >"$1/m$2.log" 2>&1' _ "$dir" "$i" </dev/null >/dev/null 2>&1 &
    # m1 bootstraps alone first, so it is the first leader and the others clone it.
    [ "$i" = 1 ] && { load_env; wait_leader_only 60; }
  done
  load_env
  local l
  l=$(wait_ready "" 120) || { tail -n 30 "$dir"/m*.log >&2; exit 1; }
  as_pg psql -X -q -h 127.0.0.1 -p "$(port_of "$l")" -U postgres -d postgres \
    -c "CREATE ROLE trust_user LOGIN" -c "CREATE DATABASE pgopt_test OWNER trust_user" >/dev/null
  echo "patroni.sh: leader $l; members on 127.0.0.1:$PGOPT_PATRONI_PORT_1,$PGOPT_PATRONI_PORT_2,$PGOPT_PATRONI_PORT_3 (REST $PGOPT_PATRONI_API_1,$PGOPT_PATRONI_API_2,$PGOPT_PATRONI_API_3), etcd $ETCD_CLIENT, data in $dir"
}

wait_leader_only() {
  for _ in $(seq 1 $(($1 * 5))); do leader >/dev/null && return 0; sleep 0.2; done
  echo "patroni.sh: no leader after $1 s" >&2; tail -n 30 "$dir/m1.log" >&2; exit 1
}

stop_pid() {  # pidfile signal
  local f=$1 pid
  [ -f "$f" ] || return 0
  pid=$(cat "$f")
  kill "-$2" "$pid" 2>/dev/null || true
  for _ in $(seq 1 100); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
  kill -9 "$pid" 2>/dev/null || true
  rm -f "$f"
}

stop() {
  load_env
  local m
  # Patroni stops its PostgreSQL on SIGTERM; members first, etcd last (they need it to shut down).
  for m in m1 m2 m3; do stop_pid "$PGOPT_PATRONI_DIR/$m.pid" TERM & done
  wait
  for m in m1 m2 m3; do  # a postmaster whose Patroni died: by the PID in its own postmaster.pid
    local pf="$PGOPT_PATRONI_DIR/$m/data/postmaster.pid"
    [ -f "$pf" ] && kill -9 "$(head -1 "$pf")" 2>/dev/null || true
  done
  stop_pid "$PGOPT_PATRONI_DIR/etcd.pid" TERM
  rm -rf "${PGOPT_PATRONI_DIR:?}"/m? "$PGOPT_PATRONI_DIR"/m?.yml "$PGOPT_PATRONI_DIR"/etcd
  rm -f "$dir/env"
  echo "patroni.sh: stopped"
}

patronictl_() { as_pg patronictl -c "$PGOPT_PATRONI_DIR/m1.yml" "$@"; }

case "$cmd" in
  start) start ;;
  stop) stop ;;
  leader) load_env; leader ;;
  ready) load_env; wait_ready "" "${3:-90}" ;;
  switchover)
    # patronictl can exit 0 without switching (no sync standby yet): retried until the leader moves.
    load_env; wait_ready "" 60 >/dev/null; old=$(leader)
    for _ in 1 2 3; do
      patronictl_ switchover --leader "$old" --force >>"$PGOPT_PATRONI_DIR/switchover.log" 2>&1 || true
      for _ in $(seq 1 100); do l=$(leader) && [ "$l" != "$old" ] && break; sleep 0.2; done
      [ "${l:-$old}" != "$old" ] && break
    done
    wait_ready "$old" 60 ;;
  kill-primary)
    load_env; old=$(leader)
    kill -9 "$(head -1 "$PGOPT_PATRONI_DIR/$old/data/postmaster.pid")"
    echo "$old" ;;
  psql)
    load_env; m=${3:?member}; shift 3
    as_pg psql -X -h 127.0.0.1 -p "$(port_of "$m")" -U postgres "$@" ;;
  *) echo "patroni.sh: unknown command $cmd" >&2; exit 2 ;;
esac
