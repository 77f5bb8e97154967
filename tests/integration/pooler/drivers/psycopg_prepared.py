#!/usr/bin/python3
# psycopg 3 with prepare_threshold=0 (every query a named prepared statement), autocommit and transactions mixed.
import sys

sys.dont_write_bytecode = True  # the source tree stays clean when the tests import workload.py

import re  # noqa: E402

import psycopg  # noqa: E402

from workload import (AUTOCOMMIT_ECHO, INSERT_ROW, SELECT_ROW, SUM_MINE, UPDATE_HITS,  # noqa: E402
                      expect, key, warmups, my_range, my_totals, new_id, new_n, run_threaded_clients)

NAME = "psycopg"


def pyformat(sql):
    """psycopg takes %s placeholders and numbers them itself."""
    return re.sub(r"\$\d+", "%s", sql)


class Client:
    def __init__(self, args, c, stop):
        self.args, self.c, self.stop = args, c, stop
        self.checks = self.transactions = 0
        self.pids = set()
        self.error = None

    def run(self):
        try:
            self._work()
        except Exception as e:  # reported by main; the others stop at their next iteration
            self.error = e
            self.stop.set()

    def _work(self):
        a, c, t = self.args, self.c, self.args.table
        q = {name: pyformat(sql.format(t=t)) for name, sql in
             (("select", SELECT_ROW), ("update", UPDATE_HITS), ("insert", INSERT_ROW), ("sum", SUM_MINE),
              ("echo", AUTOCOMMIT_ECHO))}
        lo, hi = my_range(c)
        with psycopg.connect(host=a.host, port=a.port, user=a.user, dbname=a.db, connect_timeout=30,
                             autocommit=True, prepare_threshold=0) as conn:
            for sql, added in warmups(c):
                with conn.cursor() as cur:
                    cur.execute(pyformat(sql), (c,))
                    expect(cur.fetchone(), (c + added,), f"client {c}: warm-up {sql}")
                self.checks += 1
            for i in range(a.iterations):
                if self.stop.is_set():
                    return
                where = f"client {c} iteration {i}"
                k = key(c, i)
                # Even iterations in an explicit transaction, odd ones statement by statement in
                # autocommit: then every single statement may run on a different server.
                block = conn.transaction() if i % 2 == 0 else _NoTransaction()
                with block, conn.cursor() as cur:
                    cur.execute(q["select"], (k,))
                    expect(cur.fetchall(), [(f"v{k}", 7 * k)], where + ": SELECT")
                    cur.execute(q["update"], (k,))
                    expect(cur.rowcount, 1, where + ": UPDATE rowcount")
                    cur.execute(q["insert"], (new_id(c, i), f"c{c}-i{i}", new_n(c, i)))
                    expect(cur.rowcount, 1, where + ": INSERT rowcount")
                    cur.execute(q["sum"], (lo, hi))
                    expect(cur.fetchone(), my_totals(c, i), where + ": count/sum of own rows")
                with conn.cursor() as cur:
                    cur.execute(q["echo"], (i, f"x{c}"))
                    row = cur.fetchone()
                    expect(row[:2], (2 * i, f"x{c}"), where + ": autocommit echo")
                    self.pids.add(row[2])
                self.checks += 5
                self.transactions += 1


class _NoTransaction:
    def __enter__(self):
        return self

    def __exit__(self, *exc):
        return False


def main():
    run_threaded_clients(NAME, "psycopg 3 prepared-statement workload", Client)


if __name__ == "__main__":
    main()
