# The checked workload shared by the Python driver programs: keys, expected values, the command line.
"""Every driver program runs the same per-iteration work against a table the test filled with
rows id 1..1000, val 'v<id>', n 7*id, hits 0 (see README.md), so every returned value is known."""

import argparse
import os
import sys
import threading

PRELOADED = 1000
INSERT_BASE = 1_000_000
PER_CLIENT = 10_000

SELECT_ROW = "SELECT val, n FROM {t} WHERE id = $1"
UPDATE_HITS = "UPDATE {t} SET hits = hits + 1 WHERE id = $1"
INSERT_ROW = "INSERT INTO {t} (id, val, n) VALUES ($1, $2, $3)"
SUM_MINE = "SELECT count(*), sum(n)::bigint FROM {t} WHERE id >= $1 AND id < $2"
# The backend PID tells which server ran it: a client that sees two PIDs had its statements moved.
AUTOCOMMIT_ECHO = "SELECT $1::int * 2, $2::text, pg_backend_pid()"


class Mismatch(Exception):
    """A driver returned something other than what the table holds."""


def warmups(client):
    """Statements a client runs once before its loop, `client % 3` of them with client-specific text.

    Drivers name statements by a per-connection counter (S_1, _pg3_0, __asyncpg_stmt_1__), so without
    this every client would give the same name to the same text and a pooler that merely re-sent a
    client's Parse, or let names leak between clients, would pass by coincidence. With it, one name
    means different statements on different clients, as it does in real applications.
    Returns (sql, added) pairs: `SELECT $1::int + added`."""
    return [(f"SELECT $1::int + {client * 10 + j}", client * 10 + j) for j in range(client % 3)]


def key(client, iteration):
    """The preloaded row a client reads and bumps in one iteration; clients overlap on purpose."""
    return (client * 37 + iteration * 11) % PRELOADED + 1


def new_id(client, iteration):
    return INSERT_BASE + client * PER_CLIENT + iteration


def new_n(client, iteration):
    return client * 1000 + iteration


def my_range(client):
    lo = INSERT_BASE + client * PER_CLIENT
    return lo, lo + PER_CLIENT


def my_totals(client, iteration):
    """count(*), sum(n) of the client's inserted rows after its iteration `iteration` inserted."""
    rows = iteration + 1
    return rows, rows * client * 1000 + iteration * (iteration + 1) // 2


def expect(got, want, where):
    if got != want:
        raise Mismatch(f"{where}: expected {want!r}, got {got!r}")


def parse_args(description):
    p = argparse.ArgumentParser(description=description)
    for name in ("host", "port", "user", "db", "table"):
        p.add_argument(name)
    p.add_argument("clients", type=int)
    p.add_argument("iterations", type=int)
    p.add_argument("--timeout", type=float, default=100.0, help="seconds before the whole run gives up")
    args = p.parse_args()
    if args.clients < 1 or args.iterations < 1 or args.iterations > PER_CLIENT:
        p.error("clients must be >= 1 and iterations in 1..10000")
    return args


def start_watchdog(seconds, name):
    """Ends the process if the run is stuck (a lost reply would otherwise hang a driver forever)."""

    def fire():
        print(f"FAIL: {name} did not finish within {seconds:g} s", flush=True)
        os._exit(3)

    t = threading.Timer(seconds, fire)
    t.daemon = True
    t.start()
    return t


def report(name, checks, transactions, backends_per_client):
    """The summary line the tests parse; `moved` counts clients that ran on more than one server."""
    moved = sum(1 for pids in backends_per_client if len(pids) > 1)
    print(f"{name}: verified {checks} checks in {transactions} transactions; "
          f"{moved} of {len(backends_per_client)} clients moved between servers", flush=True)


def fail(name, err):
    print(f"FAIL: {name}: {type(err).__name__}: {err}", flush=True)
    sys.exit(1)


def run_threaded_clients(name, description, client_class):
    """main() of the thread-per-client drivers: run them all, fail on the first error, report."""
    import threading
    args = parse_args(description)
    start_watchdog(args.timeout, name)
    stop = threading.Event()
    clients = [client_class(args, c, stop) for c in range(args.clients)]
    threads = [threading.Thread(target=cl.run, name=f"client-{cl.c}") for cl in clients]
    for th in threads:
        th.start()
    for th in threads:
        th.join()
    for cl in clients:
        if cl.error is not None:
            fail(name, cl.error)
    report(name, sum(cl.checks for cl in clients), sum(cl.transactions for cl in clients),
           [cl.pids for cl in clients])
