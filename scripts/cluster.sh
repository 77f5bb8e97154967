#!/usr/bin/env bash
# Starts/stops a PostgreSQL 15 primary + streaming replica on 127.0.0.1 for tests and demos.
#
#   cluster.sh start DIR     initdb + pg_basebackup into a temp dir, free ports, test roles;
#                            writes DIR/env (shell syntax) describing the cluster
#   cluster.sh stop DIR      stops both servers (by their postmaster PIDs) and deletes the data
#   cluster.sh pgctl DIR primary|replica ARGS...   pg_ctl on one server, as the right OS user
#   cluster.sh psql DIR primary|replica ARGS...    psql as the superuser
#
# PostgreSQL refuses to run as root, so under root every server command runs as the system user
# `pgopt-test` (scripts/setup.sh creates it; this script does too if needed).
set -euo pipefail

PG_BIN=${PG_BIN:-/usr/lib/postgresql/15/bin}
RUN_USER=pgopt-test
cmd=${1:-}
dir=${2:-}
[ -n "$cmd" ] && [ -n "$dir" ] || { echo "usage: $0 start|stop|pgctl|psql DIR [...]" >&2; exit 2; }

as_pg() {
  if [ "$(id -u)" -eq 0 ]; then
    runuser -u "$RUN_USER" -- "$@"
  else
    "$@"
  fi
}

free_port() {
  python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1]); s.close()'
}

start() {
  if [ "$(id -u)" -eq 0 ] && ! id "$RUN_USER" >/dev/null 2>&1; then
    useradd --system --create-home --shell /bin/bash "$RUN_USER"
  fi
  if [ -f "$dir/env" ]; then
    # A previous run that was not stopped: stop it so ports and data do not leak.
    stop || true
  fi
  mkdir -p "$dir"
  data=$(mktemp -d /tmp/pgopt-cluster.XXXXXX)
  chmod 755 "$data"
  [ "$(id -u)" -eq 0 ] && chown "$RUN_USER" "$data"
  primary_port=$(free_port)
  replica_port=$(free_port)
  while [ "$replica_port" = "$primary_port" ]; do replica_port=$(free_port); done

  as_pg "$PG_BIN/initdb" -D "$data/primary" -U postgres --auth=trust -E UTF8 --locale=C.UTF-8 -N \
    >"$data/initdb.log" 2>&1 || { cat "$data/initdb.log" >&2; exit 1; }
  as_pg tee -a "$data/primary/postgresql.conf" >/dev/null <<EOF
listen_addresses = '127.0.0.1'
port = $primary_port
unix_socket_directories = '$data'
max_connections = 400
shared_buffers = 128MB
wal_level = logical
max_replication_slots = 10
max_wal_senders = 10
hot_standby = on
fsync = off
synchronous_commit = off
full_page_writes = off
shared_preload_libraries = 'pg_stat_statements'
log_line_prefix = '%m [%p] %q%u@%d '
logging_collector = off
timezone = 'Etc/UTC'
datestyle = 'iso, mdy'
EOF
  as_pg tee "$data/primary/pg_hba.conf" >/dev/null <<EOF
local all all trust
host all md5_user 127.0.0.1/32 md5
host all scram_user 127.0.0.1/32 scram-sha-256
host all all 127.0.0.1/32 trust
host replication all 127.0.0.1/32 trust
EOF
  as_pg "$PG_BIN/pg_ctl" -D "$data/primary" -l "$data/primary.log" -w -t 60 start >/dev/null
  psql_p() { as_pg psql -X -q -v ON_ERROR_STOP=1 -h 127.0.0.1 -p "$primary_port" -U postgres "$@"; }
  psql_p -d postgres <<'EOF'
CREATE ROLE trust_user LOGIN;
SET password_encryption = 'md5';
CREATE ROLE md5_user LOGIN PASSWORD 'md5-secret';
SET password_encryption = 'scram-sha-256';
CREATE ROLE scram_user LOGIN PASSWORD 'scram-secret';
CREATE DATABASE pgopt_test;
GRANT ALL ON DATABASE pgopt_test TO trust_user, md5_user, scram_user;
EOF
  psql_p -d pgopt_test -c "GRANT ALL ON SCHEMA public TO PUBLIC; CREATE EXTENSION pg_stat_statements;"
  md5_hash=$(psql_p -d postgres -At -c "SELECT rolpassword FROM pg_authid WHERE rolname='md5_user'")
  scram_verifier=$(psql_p -d postgres -At -c "SELECT rolpassword FROM pg_authid WHERE rolname='scram_user'")

  as_pg "$PG_BIN/pg_basebackup" -h 127.0.0.1 -p "$primary_port" -U postgres -D "$data/replica" \
    -R -X stream -c fast >"$data/basebackup.log" 2>&1 || { cat "$data/basebackup.log" >&2; exit 1; }
  as_pg sed -i "s/^port = .*/port = $replica_port/" "$data/replica/postgresql.conf"
  as_pg "$PG_BIN/pg_ctl" -D "$data/replica" -l "$data/replica.log" -w -t 60 start >/dev/null
  for _ in $(seq 1 100); do
    n=$(psql_p -d postgres -At -c "SELECT count(*) FROM pg_stat_replication WHERE state='streaming'")
    [ "$n" = "1" ] && break
    sleep 0.1
  done
  [ "$n" = "1" ] || { echo "cluster.sh: replica did not start streaming" >&2; cat "$data/replica.log" >&2; exit 1; }

  cat >"$dir/env" <<EOF
PGOPT_DATA_DIR=$data
PGOPT_PG_BIN=$PG_BIN
PGOPT_PRIMARY_PORT=$primary_port
PGOPT_REPLICA_PORT=$replica_port
PGOPT_SUPERUSER=postgres
PGOPT_TEST_DB=pgopt_test
PGOPT_MD5_PASSWORD=md5-secret
PGOPT_MD5_HASH=$md5_hash
PGOPT_SCRAM_PASSWORD=scram-secret
PGOPT_SCRAM_VERIFIER='$scram_verifier'
PGOPT_CLUSTER_SCRIPT=$(cd "$(dirname "$0")" && pwd)/cluster.sh
PGOPT_CLUSTER_DIR=$(cd "$dir" && pwd)
EOF
  echo "cluster.sh: primary on 127.0.0.1:$primary_port, replica on 127.0.0.1:$replica_port, data in $data"
}

load_env() {
  [ -f "$dir/env" ] || { echo "cluster.sh: no cluster described in $dir/env" >&2; exit 1; }
  # shellcheck disable=SC1091
  . "$dir/env"
}

stop() {
  load_env
  for node in replica primary; do
    if [ -f "$PGOPT_DATA_DIR/$node/postmaster.pid" ]; then
      # pg_ctl stops the server named by its own postmaster.pid: by PID, never by name.
      as_pg "$PG_BIN/pg_ctl" -D "$PGOPT_DATA_DIR/$node" -m immediate -w -t 30 stop >/dev/null 2>&1 || true
    fi
  done
  case "$PGOPT_DATA_DIR" in /tmp/pgopt-cluster.*) rm -rf "$PGOPT_DATA_DIR" ;; esac
  rm -f "$dir/env"
  echo "cluster.sh: stopped"
}

node_dir() {
  case "$1" in
    primary|replica) echo "$PGOPT_DATA_DIR/$1" ;;
    *) echo "cluster.sh: node must be primary or replica" >&2; exit 2 ;;
  esac
}

case "$cmd" in
  start) start ;;
  stop) stop ;;
  pgctl)
    load_env; node=$(node_dir "${3:-}"); shift 3
    as_pg "$PG_BIN/pg_ctl" -D "$node" -l "$node.log" "$@" ;;
  psql)
    load_env; n=${3:-}; node_dir "$n" >/dev/null; shift 3
    port=$PGOPT_PRIMARY_PORT; [ "$n" = replica ] && port=$PGOPT_REPLICA_PORT
    as_pg psql -X -h 127.0.0.1 -p "$port" -U postgres "$@" ;;
  *) echo "usage: $0 start|stop|pgctl|psql DIR [...]" >&2; exit 2 ;;
esac
