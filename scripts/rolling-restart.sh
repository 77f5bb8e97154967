#!/usr/bin/env bash
# Rolling restart of pgopt on one port (docs/fleet.md, "Upgrades"): start the new process beside the
# old one on the same so_reuseport port, wait until it accepts clients, then SIGTERM the old one and
# wait for its drain to end. Clients lose their connection between transactions (57P01) and
# reconnect to the new process; no transaction is cut unless the drain outlasts shutdown_timeout.
#
#   rolling-restart.sh systemd            # swaps the units pgopt@a and pgopt@b (whichever runs)
#   rolling-restart.sh pid OLD_PID HOST:PORT -- pgopt pool --config NEW.toml
#                                         # without systemd: starts the command in a session of its
#                                         # own (setsid; its output goes where the script's does),
#                                         # waits for HOST:PORT (the new process's own [peers]
#                                         # address, not the shared port) to accept, then drains
#                                         # OLD_PID and waits for it to exit
#
# Both processes need so_reuseport = true, and distinct peer_id values with each other's [peers]
# entry, so that a cancel request reaching the new process for a client still draining on the old
# one is forwarded to it.
set -euo pipefail

die() { echo "rolling-restart: $*" >&2; exit 1; }

# Waits up to $2 seconds for a TCP connect to $1 (HOST:PORT) to succeed.
wait_port() {
  local host=${1%:*} port=${1##*:} deadline=$((SECONDS + $2))
  while ((SECONDS < deadline)); do
    if (exec 3<>"/dev/tcp/$host/$port") 2>/dev/null; then return 0; fi
    sleep 0.1
  done
  return 1
}

case "${1:-}" in
systemd)
  if systemctl is-active --quiet pgopt@a; then old=a new=b
  elif systemctl is-active --quiet pgopt@b; then old=b new=a
  else die "neither pgopt@a nor pgopt@b is running"; fi
  # Type=notify: start returns once the new process listens (READY=1), or fails if it cannot.
  systemctl start "pgopt@$new" || die "pgopt@$new did not start; pgopt@$old keeps serving"
  echo "pgopt@$new is accepting clients; draining pgopt@$old"
  # stop returns when the old process has exited: its drain (up to shutdown_timeout) is over.
  systemctl stop "pgopt@$old"
  systemctl disable --quiet "pgopt@$old" 2>/dev/null || true
  systemctl enable --quiet "pgopt@$new" 2>/dev/null || true
  echo "done: pgopt@$new serves, pgopt@$old stopped"
  ;;
pid)
  old_pid=${2:?OLD_PID}
  ready=${3:?HOST:PORT of the new process}
  [[ ${4:-} == -- ]] || die "usage: $0 pid OLD_PID HOST:PORT -- COMMAND..."
  shift 4
  kill -0 "$old_pid" 2>/dev/null || die "no process $old_pid"
  setsid "$@" &
  new_pid=$!
  if ! wait_port "$ready" 30; then
    kill -TERM "$new_pid" 2>/dev/null || true
    die "the new process ($new_pid) did not accept on $ready within 30 s; $old_pid keeps serving"
  fi
  kill -0 "$new_pid" 2>/dev/null || die "the new process exited; $old_pid keeps serving"
  echo "new process $new_pid is accepting clients; draining $old_pid"
  kill -TERM "$old_pid"
  while kill -0 "$old_pid" 2>/dev/null; do sleep 0.2; done
  echo "done: $new_pid serves, $old_pid stopped"
  ;;
*)
  sed -n '2,17p' "$0" >&2
  exit 2
  ;;
esac
