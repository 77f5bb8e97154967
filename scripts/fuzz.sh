#!/usr/bin/env bash
# Builds the libFuzzer targets (clang, -DPGOPT_FUZZ=ON) and runs each for a bounded time.
#
#   scripts/fuzz.sh [BUILD_DIR] [TARGET...]
#     BUILD_DIR     clang build directory, default build-fuzz (relative paths are under the repo)
#     TARGET        fuzzers to run, default every tests/fuzz/*.cpp
#   FUZZ_SECONDS    time budget per target (default 60)
#   FUZZ_BUILD_ONLY=1  build the targets and stop (scripts/test.sh builds them while other tests run)
#
# Each target's corpus lives in BUILD_DIR/fuzz-corpus/<target>, seeded from
# tests/fixtures/fuzz/<target>/ when that exists, so runs accumulate coverage. Crash reproducers go
# to BUILD_DIR/fuzz-artifacts/<target>/, full logs to BUILD_DIR/fuzz-logs/<target>.log.
# Exits non-zero when any target crashed, leaked, timed out or failed to build.
set -euo pipefail

root=$(cd "$(dirname "$0")/.." && pwd)
build=${1:-build-fuzz}
[ $# -gt 0 ] && shift
case "$build" in /*) ;; *) build="$root/$build" ;; esac
seconds=${FUZZ_SECONDS:-60}

targets=("$@")
if [ ${#targets[@]} -eq 0 ]; then
  for src in "$root"/tests/fuzz/*.cpp; do
    [ -e "$src" ] || continue
    targets+=("$(basename "$src" .cpp)")
  done
fi
if [ ${#targets[@]} -eq 0 ]; then
  echo "fuzz.sh: no fuzz targets in tests/fuzz" >&2
  exit 1
fi

CC=clang CXX=clang++ cmake -S "$root" -B "$build" -DPGOPT_FUZZ=ON >/dev/null
cmake --build "$build" -j"$(nproc)" --target "${targets[@]}"
if [ "${FUZZ_BUILD_ONLY:-0}" = 1 ]; then
  echo "fuzz.sh: built ${targets[*]}"
  exit 0
fi

mkdir -p "$build/fuzz-logs"
failed=()
for t in "${targets[@]}"; do
  bin="$build/tests/fuzz/$t"
  corpus="$build/fuzz-corpus/$t"
  artifacts="$build/fuzz-artifacts/$t"
  log="$build/fuzz-logs/$t.log"
  mkdir -p "$corpus" "$artifacts"
  if [ -d "$root/tests/fixtures/fuzz/$t" ]; then
    cp -n "$root/tests/fixtures/fuzz/$t"/* "$corpus"/ 2>/dev/null || true
  fi
  echo "fuzz.sh: running $t for ${seconds}s (corpus $corpus)"
  status=0
  "$bin" -max_total_time="$seconds" -rss_limit_mb=2048 -timeout=30 -print_final_stats=1 \
    -artifact_prefix="$artifacts/" "$corpus" >"$log" 2>&1 || status=$?
  grep -E '^(#[0-9]+ +DONE|stat::number_of_executed_units|stat::peak_rss_mb)' "$log" || true
  if [ "$status" -ne 0 ]; then
    echo "fuzz.sh: $t FAILED (exit $status); last lines of $log:" >&2
    tail -n 40 "$log" >&2
    failed+=("$t")
  fi
done

if [ ${#failed[@]} -gt 0 ]; then
  echo "fuzz.sh: failures: ${failed[*]} (reproducers in $build/fuzz-artifacts/)" >&2
  exit 1
fi
echo "fuzz.sh: all ${#targets[@]} target(s) ran ${seconds}s without failures"
