#!/usr/bin/env bash
# Runs every test pgopt has: unit and integration (real PostgreSQL 15 primary + replica) in a
# normal build and in an ASan+UBSan build, then each libFuzzer target for a bounded time. Each
# later build compiles in the background while the earlier build's tests run (background_build).
#
#   scripts/test.sh            as root on Debian 12: installs packages first (scripts/setup.sh)
#   PGOPT_TEST_QUICK=1         skip the sanitizer build and the fuzzers (a developer's inner loop)
#   FUZZ_SECONDS=N             per fuzz target (default 30)
set -euo pipefail

root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"
jobs=$(nproc)
start=$(date +%s)

if [ "$(id -u)" -eq 0 ]; then
  bash scripts/setup.sh
fi

stage() { echo "== test.sh: $* ($(( $(date +%s) - start ))s elapsed)"; }

# A build that runs while the previous build's tests run, at SCHED_IDLE (chrt --idle): it gets only
# the CPU the tests leave, so their timing is as on a machine without it. Most test time is spent
# waiting on sockets and PostgreSQL, so the next build is mostly done when they end. Its output goes
# to a log shown when it fails.
background_build() {  # log file, command or function with its arguments
  local log=$1; shift
  stage "background build: $*"
  mkdir -p "$(dirname "$log")"
  ( chrt --idle -p 0 "$BASHPID" >/dev/null && "$@" ) >"$log" 2>&1 &
  bg_pid=$!
}
# A failing stage exits the script: the background build (its process tree, by PID) goes with it.
kill_tree() {
  local child
  for child in $(ps -o pid= --ppid "$1" 2>/dev/null); do kill_tree "$child"; done
  kill "$1" 2>/dev/null || true
}
bg_pid=""
trap '[ -z "$bg_pid" ] || kill_tree "$bg_pid"' EXIT
wait_background_build() {  # log file
  local status=0
  wait "$bg_pid" || status=$?
  bg_pid=""
  if [ "$status" -ne 0 ]; then
    echo "test.sh: background build failed (exit $status); last lines of $1:" >&2
    tail -n 60 "$1" >&2
    exit "$status"
  fi
  stage "background build done"
}

build_tree() {  # build dir, extra cmake args...
  local dir=$1; shift
  cmake -S . -B "$dir" "$@" >/dev/null
  cmake --build "$dir" -j"$jobs"
}

run_tests() {  # build dir
  local dir=$1
  # Component tests (tests/component/): pgopt against a scripted fake server, no PostgreSQL.
  stage "unit and component tests ($dir)"
  ctest --test-dir "$dir" -L '^(unit|component)$' -j"$jobs" --output-on-failure --timeout 300
  # Integration tests share one cluster (ctest fixture) and ports; run them one at a time.
  stage "integration tests ($dir)"
  ctest --test-dir "$dir" -L integration --output-on-failure --timeout 600
}

sanitized=(-DCMAKE_BUILD_TYPE=Debug -DPGOPT_SANITIZE=ON -DPGOPT_BENCH=OFF)
quick=${PGOPT_TEST_QUICK:-0}

stage "configure + build build"
build_tree build -DCMAKE_BUILD_TYPE=RelWithDebInfo
if [ "$quick" != 1 ]; then
  background_build build-asan/background-build.log build_tree build-asan "${sanitized[@]}"
fi
run_tests build
# The Debian package of that build's pgopt: built, linted, installed, run as its unit, purged (root).
stage "package test (build)"
PGOPT_PACKAGE_TEST=1 ctest --test-dir build -L package --output-on-failure --timeout 600
stage "chaos tests (build)"  # tests/chaos/README.md: faults on the shared cluster, normal build only
ctest --test-dir build -L chaos --output-on-failure --timeout 600
# tests/failover: clusters of their own (cluster.sh, and Patroni + etcd via patroni.sh), about 2 min.
stage "failover tests (build)"
ctest --test-dir build -L failover --output-on-failure --timeout 600
if [ "$quick" != 1 ]; then
  # detect_leaks stays on: a leak is a test failure. The sanitizer build skips benchmarks.
  export ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1:abort_on_error=1}
  export UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}
  wait_background_build build-asan/background-build.log
  background_build build-fuzz/background-build.log env FUZZ_BUILD_ONLY=1 bash scripts/fuzz.sh build-fuzz
  run_tests build-asan
  wait_background_build build-fuzz/background-build.log
  stage "fuzzers"
  FUZZ_SECONDS=${FUZZ_SECONDS:-30} bash scripts/fuzz.sh build-fuzz
fi
stage "all tests passed"
