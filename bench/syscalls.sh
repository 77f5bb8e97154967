#!/usr/bin/env bash
# System calls per transaction of one or more pgopt builds, by strace's counts (issue 16).
#
#   bench/syscalls.sh NAME=BIN [NAME=BIN ...]     e.g. epoll=build/pgopt io_uring=build-uring/pgopt
#   bench/syscalls.sh w1=build/pgopt pgbouncer=/usr/sbin/pgbouncer     (a NAME of pgbouncer: PgBouncer)
#
# Each build runs with workers = $WORKERS (default 1), pool size 10, transaction mode, md5, in front of its own
# PostgreSQL 15 primary (scripts/cluster.sh); after a warm-up, `strace -f -c -p PID` counts its calls
# during `pgbench -n -S -c 10 -j 1 -t 100` and again during `-t 400`; per transaction = the
# difference / 3,000, so logins and warm-up cancel out. Prints each call's rate (failed calls, such as
# reads returning EAGAIN, as NAME(errors)). TRACE=1 also prints the calls of a one-client run of three
# transactions in order. PgBouncer runs as RUN_USER with the same pool. Stops what it started by
# PID. Needs root and strace.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
[ $# -gt 0 ] || { sed -n '2,10p' "$0"; exit 2; }
command -v strace >/dev/null || { echo "syscalls.sh: strace is not installed" >&2; exit 1; }
. "$root/bench/lib.sh"
work=$(mktemp -d /tmp/pgopt-strace.XXXXXX); chmod 755 "$work"
RUN_USER=pgopt-test
pids=()
cleanup() { for p in "${pids[@]}"; do stop_pid "$p" x 20 || true; done; stop_bench_primary; }
trap cleanup EXIT
start_bench_primary >/dev/null 2>&1
"$PGOPT_PG_BIN/psql" -X -q -h 127.0.0.1 -p "$PGOPT_PRIMARY_PORT" -U postgres -d postgres -c "CREATE DATABASE bench"
"$PGOPT_PG_BIN/pgbench" -i -q -s 1 -h 127.0.0.1 -p "$PGOPT_PRIMARY_PORT" -U postgres bench >/dev/null 2>&1
echo '"postgres" "pw"' > "$work/users.txt"
for spec in "$@"; do
  name=${spec%%=*} bin=${spec#*=}
  [ -x "$bin" ] || { echo "syscalls.sh: no pgopt at $bin" >&2; exit 1; }
  port=$(free_port)
  if [ "$name" = pgbouncer ]; then
    mkdir -p "$work/pgbouncer"
    cp "$work/users.txt" "$work/pgbouncer/userlist.txt"
    pgbouncer_ini bench "$PGOPT_PRIMARY_PORT" "$port" md5 "$work/pgbouncer/userlist.txt" transaction 10 "$work/$name.log" \
      >"$work/pgbouncer/pgbouncer.ini"
    touch "$work/$name.log"
    chown -R "$RUN_USER" "$work/pgbouncer" "$work/$name.log"
    # setpriv execs in place: $! is PgBouncer's own PID (it refuses to run as root).
    setpriv --reuid="$RUN_USER" --regid="$RUN_USER" --init-groups -- "$bin" "$work/pgbouncer/pgbouncer.ini" \
      >>"$work/pgbouncer/stderr.log" 2>&1 &
    p=$!; pids+=($p)
    for _ in $(seq 100); do grep -q "listening on" "$work/$name.log" && break; sleep 0.1; done  # bench: its log says when
  else
  cat > "$work/$name.toml" <<TOML
[pooler]
listen_addr = "127.0.0.1"
listen_port = $port
workers = ${WORKERS:-1}
pool_mode = "transaction"
default_pool_size = 10
auth_type = "md5"
auth_file = "users.txt"
shutdown_timeout = "2s"
[databases.bench]
host = "127.0.0.1"
port = $PGOPT_PRIMARY_PORT
TOML
  "$bin" pool --config "$work/$name.toml" > "$work/$name.log" 2>&1 &
  p=$!; pids+=($p)
  for _ in $(seq 100); do grep -q listening "$work/$name.log" && break; sleep 0.1; done  # bench: its log says when
  fi
  PGPASSWORD=pw "$PGOPT_PG_BIN/pgbench" -n -S -c 10 -j 1 -t 50 -h 127.0.0.1 -p $port -U postgres bench >/dev/null 2>&1  # warm: logins, pool
  for t in 100 400; do
    strace -f -c -o "$work/$name-$t.strace" -p $p 2>"$work/strace-$name-$t.log" & sp=$!
    for _ in $(seq 100); do grep -q attached "$work/strace-$name-$t.log" && break; sleep 0.1; done
    PGPASSWORD=pw "$PGOPT_PG_BIN/pgbench" -n -S -c 10 -j 1 -t $t -h 127.0.0.1 -p $port -U postgres bench >/dev/null 2>&1
    kill -INT $sp; wait $sp || true
  done
  if [ -n "${TRACE:-}" ]; then
    # The calls of a few transactions of one client, in order (TRACE=1): which fd, which result.
    strace -f -tt -e trace=recvfrom,sendto,epoll_wait,epoll_ctl -o "$work/$name-trace.strace" -p $p 2>"$work/strace-$name-trace.log" & sp=$!
    for _ in $(seq 100); do grep -q attached "$work/strace-$name-trace.log" && break; sleep 0.1; done
    PGPASSWORD=pw "$PGOPT_PG_BIN/pgbench" -n -S -c 1 -t 3 -h 127.0.0.1 -p $port -U postgres bench >/dev/null 2>&1
    kill -INT $sp; wait $sp || true
    echo "== $name: trace of 3 transactions of one client"
    tail -n 40 "$work/$name-trace.strace"
  fi
  echo "== $name"
  python3 - "$work/$name-100.strace" "$work/$name-400.strace" <<'PY'
import sys,re
def load(p):
    d={}
    for line in open(p):
        f=line.split()
        if len(f)>=5 and f[0][0].isdigit() and f[-1] not in ('total',):
            calls=int(f[3]); d[f[-1]]=d.get(f[-1],0)+calls
            if len(f)==6: d[f[-1]+'(errors)']=int(f[4])
    return d
a,b=load(sys.argv[1]),load(sys.argv[2])
tot=0
for k in sorted(set(a)|set(b), key=lambda k:-(b.get(k,0)-a.get(k,0))):
    per=(b.get(k,0)-a.get(k,0))/3000
    if '(errors)' not in k: tot+=per
    if abs(per)>=0.01: print(f"  {k}: {per:.2f}/txn")
print(f"  total: {tot:.2f}/txn")
PY
done
