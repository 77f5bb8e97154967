#!/usr/bin/env bash
# Runs every test pgopt has: unit and integration (real PostgreSQL 15 primary + replica) in a
# normal build and in an ASan+UBSan build, then each libFuzzer target for a bounded time.
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

run_suite() {  # build dir, extra cmake args...
  local dir=$1; shift
  stage "configure + build $dir"
  cmake -S . -B "$dir" "$@" >/dev/null
  cmake --build "$dir" -j"$jobs"
  stage "unit tests ($dir)"
  ctest --test-dir "$dir" -L unit -j"$jobs" --output-on-failure --timeout 300
  # Integration tests share one cluster (ctest fixture) and ports; run them one at a time.
  stage "integration tests ($dir)"
  ctest --test-dir "$dir" -L integration --output-on-failure --timeout 600
}

run_suite build -DCMAKE_BUILD_TYPE=RelWithDebInfo
# The Debian package of that build's pgopt: built, linted, installed, run as its unit, purged (root).
stage "package test (build)"
PGOPT_PACKAGE_TEST=1 ctest --test-dir build -L package --output-on-failure --timeout 600
stage "chaos tests (build)"  # tests/chaos/README.md: faults on the shared cluster, normal build only
ctest --test-dir build -L chaos --output-on-failure --timeout 600
# tests/failover: clusters of their own (cluster.sh, and Patroni + etcd via patroni.sh), about 2 min.
stage "failover tests (build)"
ctest --test-dir build -L failover --output-on-failure --timeout 600
if [ "${PGOPT_TEST_QUICK:-0}" != 1 ]; then
  # detect_leaks stays on: a leak is a test failure. The sanitizer build skips benchmarks.
  export ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1:abort_on_error=1}
  export UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}
  run_suite build-asan -DCMAKE_BUILD_TYPE=Debug -DPGOPT_SANITIZE=ON -DPGOPT_BENCH=OFF
  stage "fuzzers"
  FUZZ_SECONDS=${FUZZ_SECONDS:-30} bash scripts/fuzz.sh build-fuzz
fi
stage "all tests passed"
