#!/usr/bin/env bash
# The main job, end to end on one machine: builds pgopt, starts a PostgreSQL 15 primary and a
# streaming replica, puts `pgopt pool` in front, runs application traffic through the pooler, then
# runs `pgopt analyze` on the primary's log against the live database and prints the report.
#
#   scripts/demo.sh           as root on Debian 12 (installs packages via scripts/setup.sh)
#   DEMO_SECONDS=N            length of the traffic run (default 20)
# Everything it starts (cluster, pooler) is stopped again by PID when it exits.
set -euo pipefail

root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"
seconds=${DEMO_SECONDS:-20}
[ "$(id -u)" -eq 0 ] && bash scripts/setup.sh

cmake -S . -B build -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
cmake --build build -j"$(nproc)" --target pgopt

work="$root/build/demo"
mkdir -p "$work"
pooler_pid=""
cleanup() {
  [ -n "$pooler_pid" ] && kill "$pooler_pid" 2>/dev/null && wait "$pooler_pid" 2>/dev/null || true
  bash scripts/cluster.sh stop "$work" >/dev/null 2>&1 || true
}
trap cleanup EXIT

bash scripts/cluster.sh start "$work"
# shellcheck disable=SC1091
. "$work/env"
psql_p() { psql -X -q -v ON_ERROR_STOP=1 -h 127.0.0.1 -p "$PGOPT_PRIMARY_PORT" -U postgres "$@"; }

echo "== demo: schema and data (database shop)"
psql_p -d postgres -c "CREATE DATABASE shop"
psql_p -d shop <<'SQL'
CREATE EXTENSION hypopg;
CREATE EXTENSION pg_stat_statements;
CREATE TABLE customers (id bigint PRIMARY KEY, email text NOT NULL, created_at timestamptz NOT NULL);
CREATE TABLE orders (id bigint PRIMARY KEY, customer_id bigint NOT NULL REFERENCES customers,
                     status text NOT NULL, total numeric(10,2) NOT NULL, created_at timestamptz NOT NULL);
INSERT INTO customers SELECT g, 'user' || g || '@example.com', now() - g * interval '1 minute'
  FROM generate_series(1, 20000) g;
INSERT INTO orders SELECT g, 1 + (g * 7919) % 20000,
    CASE WHEN g % 50 = 0 THEN 'pending' ELSE 'shipped' END, (g % 1000) + 0.99,
    now() - (200000 - g) * interval '10 seconds'
  FROM generate_series(1, 200000) g;
ANALYZE;
ALTER DATABASE shop SET log_min_duration_statement = 0;
SQL

cat >"$work/pgopt.toml" <<TOML
[pooler]
listen_addr = "127.0.0.1"
listen_port = $(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
workers = 2
pool_mode = "transaction"
default_pool_size = 8
auth_type = "md5"
auth_file = "users.txt"

[databases.shop]
host = "127.0.0.1"
port = $PGOPT_PRIMARY_PORT
TOML
echo '"postgres" "demo-password"' >"$work/users.txt"
port=$(sed -n 's/^listen_port = //p' "$work/pgopt.toml")

echo "== demo: pgopt pool on 127.0.0.1:$port (transaction pooling, 8 server connections)"
build/pgopt pool --config "$work/pgopt.toml" >"$work/pooler.log" 2>&1 &
pooler_pid=$!
for _ in $(seq 1 50); do
  pg_isready -q -h 127.0.0.1 -p "$port" -U postgres -d shop && break
  sleep 0.1
done

log_start=$(stat -c %s "$PGOPT_DATA_DIR/primary.log")
echo "== demo: ${seconds}s of traffic from 40 clients through the pooler"
PGPASSWORD=demo-password pgbench -n -h 127.0.0.1 -p "$port" -U postgres -c 40 -j 2 -T "$seconds" \
  -f bench/workloads/shop.sql shop | grep -E "^(number of (transactions|failed)|latency average|tps)"
sleep 0.5
tail -c +"$((log_start + 1))" "$PGOPT_DATA_DIR/primary.log" >"$work/shop.log"

echo "== demo: pgopt analyze ($(wc -l <"$work/shop.log") log lines)"
build/pgopt analyze --db "host=127.0.0.1 port=$PGOPT_PRIMARY_PORT user=postgres dbname=shop" \
  --format markdown -o "$work/report.md" "$work/shop.log"
build/pgopt analyze --db "host=127.0.0.1 port=$PGOPT_PRIMARY_PORT user=postgres dbname=shop" \
  --format sql -o "$work/indexes.sql" "$work/shop.log"
build/pgopt analyze --db "host=127.0.0.1 port=$PGOPT_PRIMARY_PORT user=postgres dbname=shop" \
  --format html -o "$work/report.html" "$work/shop.log"
cat "$work/report.md"
# The HTML report as a browser shows it (docs/report-demo.png is one of these screenshots).
if command -v chromium >/dev/null && command -v node >/dev/null; then
  node --experimental-websocket tests/browser/check_report.js "$work/report.html" "$work" 1280 390 >"$work/browser.json" ||
    echo "== demo: the browser check of report.html failed: $work/browser.json"
fi
echo "== demo: report in $work/report.md and $work/report.html (screenshots $work/report-*.png), DDL in $work/indexes.sql, pooler log in $work/pooler.log"
