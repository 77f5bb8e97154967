#!/bin/bash
# run.sh TARGET PORT: the pooler-relevant psycopg 3.1.7 modules (sync), bounded
cd /tmp/psy317
timeout 420 /usr/bin/python3 -m pytest -q -m "not slow and not timing and not subprocess" \
  tests/test_prepared.py tests/test_pipeline.py tests/test_cursor.py tests/test_server_cursor.py \
  tests/test_connection.py tests/test_transaction.py tests/test_copy.py tests/test_client_cursor.py \
  --junitxml=/tmp/psyrun/$1.xml -o cache_dir=/tmp/psyrun/cache-$1 -p no:randomly \
  --test-dsn "host=127.0.0.1 port=$2 user=trust_user dbname=pgopt_test" > /tmp/psyrun/$1.log 2>&1
echo "rc $?" >> /tmp/psyrun/$1.log
