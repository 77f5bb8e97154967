#!/bin/bash
# psycopg 3.1.7's own tests (pooler-relevant sync modules) against one target, bounded in time.
# Usage: bench/driver_suites_psycopg_run.sh TARGET PORT [SUITE_DIR] [OUT_DIR]
#   SUITE_DIR: a directory holding psycopg's tests/ and pyproject.toml of tag 3.1.7, e.g.
#     git --git-dir=<mirror of github:psycopg/psycopg> archive 3.1.7 tests pyproject.toml | tar x -C SUITE_DIR
#   Needs Debian's python3-psycopg, python3-pytest, python3-pytest-asyncio. The target (PostgreSQL,
#   pgopt or PgBouncer on 127.0.0.1:PORT, user trust_user, database pgopt_test) is started by the
#   caller, e.g. as bench/driver_suites.sh starts its targets. Writes OUT_DIR/TARGET.{xml,log}.
# bench/driver_suites.sh calls it for every target when PSYCOPG_SUITE is set (starting the targets).
# Results: bench/results/2026-12-06-driver-suites-psycopg.md.
set -u
target=$1 port=$2 suite=${3:-/tmp/psy317} out=${4:-/tmp/psyrun}
mkdir -p "$out"
cd "$suite" || exit 1
# PSYCOPG_MODULES: the modules to run (default: the 8 sync ones below; "async" for their 8 asyncio
# counterparts, test_*_async.py, under pytest-asyncio's auto mode as psycopg's pyproject sets it).
sync_modules="tests/test_prepared.py tests/test_pipeline.py tests/test_cursor.py tests/test_server_cursor.py
  tests/test_connection.py tests/test_transaction.py tests/test_copy.py tests/test_client_cursor.py"
modules=${PSYCOPG_MODULES:-$sync_modules}
[ "$modules" = async ] && modules=$(echo "$sync_modules" | sed 's/\.py/_async.py/g')
# shellcheck disable=SC2086
timeout 420 /usr/bin/python3 -m pytest -q -m "not slow and not timing and not subprocess" $modules \
  --junitxml="$out/$target.xml" -o cache_dir="$out/cache-$target" \
  --test-dsn "host=127.0.0.1 port=$port user=trust_user dbname=pgopt_test" >"$out/$target.log" 2>&1
rc=$?
echo "rc $rc" >>"$out/$target.log"
exit $rc
