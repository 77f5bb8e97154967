#!/usr/bin/env bash
# Which ways of changing session state leak to the next client through PgBouncer, and through pgopt?
# Runs the table of tests/integration/pooler/session_check_test.cpp (33 ways: functions, DO,
# procedures, triggers, rules, views, bind parameters, pipelines, transactions, errors) against
# pgopt (as the test normally does) and against Debian's PgBouncer in transaction mode with one
# server connection (PGOPT_TEST_EXTERNAL_POOLER), and prints one row per way: leaks or not.
#
#   bench/session_leaks.sh [BUILD_DIR]      default build/; needs BUILD_DIR/tests/integration_pooler
#
# Starts its own cluster (scripts/cluster.sh) into BUILD_DIR/test-cluster if none runs there, and
# PgBouncer as pgopt-test (it refuses root); stops what it started by PID. About a minute.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
build=$(cd "${1:-$root/build}" && pwd)
test_bin=$build/tests/integration_pooler
[ -x "$test_bin" ] || { echo "session_leaks.sh: no $test_bin; build the integration_pooler target" >&2; exit 1; }
work=$(mktemp -d /tmp/pgopt-session-leaks.XXXXXX)
chmod 755 "$work"
started_cluster=""
bouncer_pid=""
cleanup() {
  [ -n "$bouncer_pid" ] && kill "$bouncer_pid" 2>/dev/null || true
  [ -n "$started_cluster" ] && bash "$root/scripts/cluster.sh" stop "$build/test-cluster" >/dev/null 2>&1 || true
}
trap cleanup EXIT
if [ ! -f "$build/test-cluster/env" ]; then
  bash "$root/scripts/cluster.sh" start "$build/test-cluster" >"$work/cluster.log" 2>&1
  started_cluster=1
fi
# shellcheck disable=SC1091
. "$build/test-cluster/env"
port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
echo '"postgres" ""' >"$work/userlist.txt"
cat >"$work/pgbouncer.ini" <<INI
[databases]
pgopt_check = host=127.0.0.1 port=$PGOPT_PRIMARY_PORT dbname=pgopt_check pool_size=1

[pgbouncer]
listen_addr = 127.0.0.1
listen_port = $port
unix_socket_dir =
auth_type = trust
auth_file = $work/userlist.txt
pool_mode = transaction
logfile = $work/pgbouncer.log
INI
touch "$work/pgbouncer.log"
# A fresh PgBouncer for every way, so no way sees what an earlier one left on the server.
start_bouncer() {
  if [ "$(id -u)" -eq 0 ]; then
    chown -R pgopt-test "$work"
    setpriv --reuid=pgopt-test --regid=pgopt-test --init-groups -- /usr/sbin/pgbouncer "$work/pgbouncer.ini" >>"$work/stderr.log" 2>&1 &
  else
    /usr/sbin/pgbouncer "$work/pgbouncer.ini" >>"$work/stderr.log" 2>&1 &
  fi
  bouncer_pid=$!
  for _ in $(seq 1 100); do "$PGOPT_PG_BIN/pg_isready" -q -h 127.0.0.1 -p "$port" && return 0; sleep 0.1; done
  echo "session_leaks.sh: PgBouncer did not start; see $work" >&2
  exit 1
}
stop_bouncer() {
  kill "$bouncer_pid" 2>/dev/null || true
  for _ in $(seq 1 100); do kill -0 "$bouncer_pid" 2>/dev/null || break; sleep 0.1; done
  bouncer_pid=""
}

filter='TransactionMode/SessionCheck.*'
"$test_bin" --gtest_filter="$filter" >"$work/pgopt.txt" 2>&1 || true
: >"$work/pgbouncer.txt"
for name in $(sed -n 's#^\[ *\(OK\|FAILED\) *\] TransactionMode/SessionCheck\.ClientBNeverSeesAndClientAKeeps/\([a-z_]*\).*#\2#p' "$work/pgopt.txt" | sort -u); do
  start_bouncer
  PGOPT_TEST_EXTERNAL_POOLER=$port "$test_bin" --gtest_filter="TransactionMode/SessionCheck.*/$name" >>"$work/pgbouncer.txt" 2>&1 || true
  stop_bouncer
done
# One word per way: isolated, leaks (B saw A's state), or lost (only A lost its own state).
verdicts() {
  sed -n 's#^\[ *\(OK\|FAILED\) *\] TransactionMode/SessionCheck\.ClientBNeverSeesAndClientAKeeps/\([a-z_]*\).*#\2 \1#p' "$1" |
    sort -u | while read -r name verdict; do
      if [ "$verdict" = OK ]; then echo "$name isolated"
      elif grep -q "B saw A's $name" "$1"; then echo "$name leaks"
      else echo "$name lost"; fi
    done
}
echo "| way A changed its session | $(/usr/sbin/pgbouncer --version | head -1) | pgopt |"
echo "|---|---|---|"
join <(verdicts "$work/pgbouncer.txt") <(verdicts "$work/pgopt.txt") | awk '{ printf "| %s | %s | %s |\n", $1, $2, $3 }'
echo
echo "Raw test output: $work/pgbouncer.txt, $work/pgopt.txt"
